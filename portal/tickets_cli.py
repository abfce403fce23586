"""`sportello tickets ...`: the commands a scheduler runs (auto-close, outbox, SLA check)."""
import click
from flask import current_app
from flask.cli import AppGroup

from ticketing import notify, queue, service, sla


# AppGroup: each command runs in an app context, from `sportello` and from app.cli alike.
@click.group("tickets", cls=AppGroup)
def tickets_group():
    """Ticket housekeeping: close solved tickets, send notifications, check SLAs."""


@tickets_group.command("close-solved")
@click.option("--days", type=int, default=None, help="Days after the solve (default: SPORTELLO_TICKET_AUTOCLOSE_DAYS).")
def close_solved(days):
    """Close the tickets solved more than N days ago."""
    from portal import db, tickets

    days = current_app.config["TICKET_AUTOCLOSE_DAYS"] if days is None else days
    if days < 0:
        raise click.BadParameter("must be 0 or more", param_hint="--days")
    count = service.close_solved(db.get_session(), days, now=tickets.now())
    click.echo(f"closed {count} ticket(s) solved more than {days} day(s) ago")


def smtp_sender(config):
    """Return an SMTP sender from SPORTELLO_SMTP_*, or None when no host is configured."""
    if not config.get("SMTP_HOST"):
        return None
    return notify.SmtpSender(notify.SmtpSettings(
        host=config["SMTP_HOST"], port=int(config["SMTP_PORT"]), user=config["SMTP_USER"],
        password=config["SMTP_PASSWORD"], tls=bool(config["SMTP_TLS"]), from_addr=config["SMTP_FROM"]))


@tickets_group.command("send-outbox")
@click.option("--limit", type=int, default=200, show_default=True)
@click.option("--dry-run", is_flag=True, help="Print the messages instead of sending (and keep them queued).")
def send_outbox(limit, dry_run):
    """Send the queued notifications by SMTP (only when SPORTELLO_SMTP_HOST is set)."""
    from portal import db, tickets

    session = db.get_session()
    if dry_run:
        for row in notify.pending(session, limit):
            click.echo(f"#{row.id} {row.kind} to {row.to_addr}: {row.subject}")
        return
    sender = smtp_sender(current_app.config)
    if sender is None:
        waiting = len(notify.pending(session, limit))
        click.echo(f"SMTP is not configured (SPORTELLO_SMTP_HOST): {waiting} notification(s) stay queued")
        return
    sent, failed = notify.send_outbox(session, sender, tickets.link_for_token, now=tickets.now(), limit=limit)
    click.echo(f"sent {sent}, failed {failed}")
    if failed:
        raise SystemExit(1)


@tickets_group.command("sla-check")
@click.option("--within", type=int, default=60, show_default=True, help="Minutes ahead that count as breaching soon.")
def sla_check(within):
    """List active tickets past or near their SLA due time; exit 1 when any is breached."""
    from datetime import timedelta

    from portal import db, tickets

    now = tickets.now()
    rows = queue.breaching(db.get_session(), now, timedelta(minutes=within))
    breached = 0
    for t in rows:
        flags = sla.ticket_flags(t, now)
        breached += flags["badge"] == "breached"
        due = flags["next_due"].isoformat() if flags["next_due"] else "-"
        click.echo(f"{t.reference}  {flags['badge']:<8} due {due}  {t.priority:<6} {t.group}  {t.subject[:60]}")
    click.echo(f"{len(rows)} ticket(s) breached or due within {within} min; {breached} breached")
    if breached:
        raise SystemExit(1)
