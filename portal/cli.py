"""The `sportello` command line. Each area registers its commands on app.cli in init_app."""
import sys

import click
from flask import current_app
from flask.cli import AppGroup, FlaskGroup, with_appcontext


def _create_app():
    from portal import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False,
             add_version_option=False, load_dotenv=False, set_debug_flag=False)
def main():
    """Sportello: a self-service knowledge base and support portal."""


def init_app(app):
    """Register the foundation's commands on the app's CLI."""
    app.cli.add_command(init_command)
    app.cli.add_command(import_command)
    app.cli.add_command(serve_command)
    app.cli.add_command(user_group)
    app.cli.add_command(token_group)


def prepare_database(app):
    """Apply migrations and create the first admin when configured; idempotent."""
    from portal import accounts, db

    db.upgrade(app.extensions["sportello.engine"])
    try:
        return accounts.ensure_first_admin(db.get_session(), app.config["ADMIN_EMAIL"], app.config["ADMIN_PASSWORD"])
    except accounts.AccountError as exc:  # a weak SPORTELLO_ADMIN_PASSWORD, a malformed email
        raise click.ClickException(f"SPORTELLO_ADMIN_{(exc.field or 'email').upper()}: {exc}") from None


@click.command("init")
@with_appcontext
def init_command():
    """Create (or upgrade) the database and the search indexes; safe to run again."""
    app = current_app
    first = prepare_database(app)
    click.echo(f"database ready: {app.config['DATABASE_URL']}")
    if first:
        user, password = first
        shown = password if not app.config["ADMIN_PASSWORD"] else "(from SPORTELLO_ADMIN_PASSWORD)"
        click.echo(f"first admin created: {user.email} password: {shown}")
    search = app.extensions.get("sportello.search")
    if search is not None:
        search.ensure_ready(progress=True)
        click.echo("search indexes ready")


@click.command("import")
@with_appcontext
@click.argument("paths", nargs=-1, required=True, type=click.Path())
def import_command(paths):
    """Upsert the articles found under each PATH (by slug) and index them."""
    from portal import db
    from portal.importer import import_paths
    from portal.indexing import articles_changed

    db.upgrade(current_app.extensions["sportello.engine"])
    report, changed = import_paths(db.get_session(), paths, current_app.config["LOCALES"])
    for result in report.results:
        if result.status == "failed":
            click.echo(f"failed     {result.path}: {result.reason}", err=True)
        elif result.status != "unchanged":
            click.echo(f"{result.status:<10} {result.path} ({result.slug})")
    if changed:
        articles_changed(upserted=changed)
    click.echo(f"import: {report.summary()}")
    if report.failed:
        sys.exit(1)


@click.command("serve")
@with_appcontext
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def serve_command(host, port):
    """Serve the portal with the development server (see README for production)."""
    prepare_database(current_app)
    search = current_app.extensions.get("sportello.search")
    if search is not None:
        search.ensure_ready(progress=True)
    from werkzeug.serving import run_simple

    # app.run() refuses to start under the flask CLI machinery; run_simple is what it wraps.
    run_simple(host, port, current_app._get_current_object(), threaded=True, use_reloader=False)


@click.group("user", cls=AppGroup)
def user_group():
    """Manage staff accounts."""


@user_group.command("create")
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice(["admin", "lead", "writer", "agent"]))
@click.option("--password", default=None, help="Generated and printed when left out.")
@click.option("--name", default="")
def user_create(email, role, password, name):
    """Create a staff account."""
    from portal import accounts, db

    prepare_database(current_app)
    generated = password is None
    password = password or accounts.generate_password()
    try:
        user = accounts.create_user(db.get_session(), accounts.NewUser(email, role, password, name))
    except accounts.AccountError as exc:
        raise click.ClickException(f"{exc.field}: {exc}")
    click.echo(f"created {user.role} {user.email}" + (f" password: {password}" if generated else ""))


@click.group("token", cls=AppGroup)
def token_group():
    """Manage API tokens."""


@token_group.command("create")
@click.option("--email", required=True)
@click.option("--name", default="")
@click.option("--days", type=int, default=None,
              help="Days until the token expires (default: SPORTELLO_TOKEN_DAYS, 90); 0: until revoked.")
def token_create(email, name, days):
    """Print a new Bearer token for the account."""
    from portal import accounts, db

    days = current_app.config["TOKEN_DAYS"] if days is None else days
    try:
        click.echo(accounts.create_token(db.get_session(), email, name, days=days))
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc))


@token_group.command("revoke")
@click.option("--email", required=True)
def token_revoke(email):
    """Revoke every token of the account."""
    from portal import accounts, db

    try:
        count = accounts.revoke_tokens(db.get_session(), email)
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc))
    click.echo(f"revoked {count} token(s)")
