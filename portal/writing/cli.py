"""Writers' and accounts' commands: `sportello export` and more `sportello user` subcommands."""
import secrets

import click
from flask import current_app
from flask.cli import with_appcontext

from portal.cli import user_group


def _session():
    from portal import db

    return db.get_session()


def _user(email):
    from portal import accounts

    try:
        return accounts.get_user(_session(), email)
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc))


@click.command("export")
@with_appcontext
@click.argument("path", type=click.Path(file_okay=False))
def export_command(path):
    """Write every article (all statuses) as PATH/<locale>/<category>/<slug>.md."""
    from portal import db
    from portal.writing.export import export_articles

    db.upgrade(current_app.extensions["sportello.engine"])
    written = export_articles(_session(), path)
    click.echo(f"export: {len(written)} article(s) written under {path}")


@user_group.command("list")
def user_list():
    """List the staff accounts: email, role, active or disabled, last login."""
    from portal import accounts

    for user in accounts.list_users(_session()):
        last = user.last_login_at.strftime("%Y-%m-%d %H:%M") if user.last_login_at else "never"
        click.echo(f"{user.email:<40} {user.role:<7} {'active' if user.active else 'disabled':<9} last login: {last}")


@user_group.command("disable")
@click.option("--email", required=True)
def user_disable(email):
    """Disable an account: it cannot log in and its API tokens stop working."""
    from portal import accounts

    try:
        accounts.set_active(_session(), _user(email), False)
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc))
    click.echo(f"disabled {email}")


@user_group.command("enable")
@click.option("--email", required=True)
def user_enable(email):
    """Enable a disabled account again."""
    from portal import accounts

    accounts.set_active(_session(), _user(email), True)
    click.echo(f"enabled {email}")


@user_group.command("role")
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice(["admin", "lead", "writer", "agent"]))
def user_role(email, role):
    """Change an account's role."""
    from portal import accounts

    try:
        accounts.set_role(_session(), _user(email), role)
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc))
    click.echo(f"{email} is now {role}")


@user_group.command("password")
@click.option("--email", required=True)
@click.option("--password", default=None, help="Generated and printed when left out.")
def user_password(email, password):
    """Set an account's password (a forgotten admin password is reset here)."""
    from portal import accounts

    generated = password is None
    password = password or secrets.token_urlsafe(12)
    try:
        accounts.set_password(_session(), _user(email), password)
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc))
    click.echo(f"password changed for {email}" + (f": {password}" if generated else ""))
