"""The writers' workflow: revisions, review, translations, export, and account management pages."""


def init_app(app):
    """Register the writers' and accounts' blueprints, menu entries, commands and template helpers."""
    from portal.views import account, users, writers
    from portal.writing import cli, models  # noqa: F401  (models registers its tables)

    app.register_blueprint(writers.bp)
    app.register_blueprint(users.bp)
    app.register_blueprint(account.bp)
    app.extensions["sportello.nav"].extend([
        ("writers.dashboard", "Writing", ("writer",)),
        ("users.index", "Users", ()),
        ("account.password", "My password", ("lead", "writer", "agent")),
    ])
    app.cli.add_command(cli.export_command)
    app.jinja_env.globals["writer_notice"] = _writer_notice


def _writer_notice(article):
    """Return what a writer should know about a public article (stale, status), or None."""
    from flask import g

    from portal.db import get_session
    from portal.writing import translations

    user = g.get("user")
    if user is None or user.role not in ("writer", "admin"):
        return None
    return {"stale": translations.stale_of(get_session(), article)}
