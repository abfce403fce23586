"""Who else is viewing a ticket: each open ticket page reports in every few seconds."""
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from ticketing.models import Viewer, aware

# A page that has not reported for this long is gone (the polling interval is 10 s).
WINDOW = timedelta(seconds=35)


def touch(session, ticket_id, user_id, name, now, composing=False):
    """Record that this agent has the ticket open now (and whether they are typing a reply)."""
    values = {"name": name[:200], "seen_at": now, "composing": bool(composing)}
    done = session.execute(update(Viewer).where(Viewer.ticket_id == ticket_id, Viewer.user_id == user_id)
                           .values(**values)).rowcount
    if not done:
        try:
            session.add(Viewer(ticket_id=ticket_id, user_id=user_id, **values))
            session.flush()
        except IntegrityError:  # the same agent's other tab inserted first
            session.rollback()
            session.execute(update(Viewer).where(Viewer.ticket_id == ticket_id, Viewer.user_id == user_id)
                            .values(**values))
    session.commit()


def leave(session, ticket_id, user_id):
    """Forget this agent on this ticket (the page was closed)."""
    session.execute(delete(Viewer).where(Viewer.ticket_id == ticket_id, Viewer.user_id == user_id))
    session.commit()


def others(session, ticket_id, user_id, now):
    """Return [{"id", "name", "composing", "seen_at"}] of the other agents viewing the ticket."""
    rows = session.scalars(select(Viewer).where(Viewer.ticket_id == ticket_id, Viewer.user_id != user_id,
                                                Viewer.seen_at >= now - WINDOW).order_by(Viewer.name)).all()
    return [{"id": v.user_id, "name": v.name, "composing": v.composing, "seen_at": aware(v.seen_at).isoformat()}
            for v in rows]
