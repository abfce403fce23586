"""Database engine, per-request sessions and schema migrations (Alembic)."""
import os
from functools import lru_cache
from pathlib import Path

from flask import current_app, g
from sqlalchemy import create_engine, event, make_url
from sqlalchemy.orm import DeclarativeBase, sessionmaker

MIGRATIONS = Path(__file__).with_name("migrations")


class Base(DeclarativeBase):
    """Declarative base of the portal's tables."""


def make_engine(url):
    """Create an engine; SQLite gets WAL, a busy timeout, foreign keys and a write gate."""
    if url.startswith("sqlite"):
        args = {"timeout": 30, "check_same_thread": False}
        database = make_url(url).database
        if database and database != ":memory:" and not database.startswith("file:"):
            from portal.writegate import WriteGate, connection_class

            # Writers queue in the kernel and take turns at once (portal.writegate), instead of
            # polling SQLite's lock in steps of up to 100 ms.
            args["factory"] = connection_class(WriteGate(database + ".gate"))
        engine = create_engine(url, connect_args=args)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            # WAL lets readers go on while one writer commits; busy_timeout makes a
            # second writer wait instead of failing at once with "database is locked".
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def init_app(app):
    """Attach an engine and a session factory to the app and close sessions on teardown."""
    url = app.config["DATABASE_URL"]
    if url.startswith("sqlite:///"):
        create_private(Path(url[len("sqlite:///"):]))
    engine = make_engine(url)
    app.extensions["sportello.db"] = sessionmaker(engine, expire_on_commit=False)
    app.extensions["sportello.engine"] = engine
    app.teardown_appcontext(_close_session)


def create_private(path: Path) -> None:
    """Create an SQLite file readable by its owner only (0600), unless it exists: it holds password
    hashes and every ticket. SQLite gives its -wal and -shm files the same permissions."""
    if str(path) in ("", ":memory:") or str(path).startswith("file:"):
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass


def get_session():
    """Return the session of the current app context, opening it on first use."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["sportello.db"]()
    return g.db_session


def _close_session(_exc=None):
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def read_first(engine, statement, params=None):
    """Return the first row of a prebuilt read, run straight on a pooled DBAPI connection.

    For the small reads of page views: through a Connection the same query cost four times as
    much (transaction bookkeeping, result wrapping). Plain values only: no types converted on
    the way in or out."""
    return _read(engine, statement, params, all_rows=False)


def read_all(engine, statement, params=None):
    """Return every row of a prebuilt read, the way read_first does."""
    return _read(engine, statement, params, all_rows=True)


def _read(engine, statement, params, all_rows):
    sql, positions, defaults = _compiled(engine.dialect, statement)
    values = {**defaults, **params} if params else defaults
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        try:
            cursor.execute(sql, [values[name] for name in positions] if positions is not None else values)
            return cursor.fetchall() if all_rows else cursor.fetchone()
        finally:
            cursor.close()
    finally:
        raw.close()  # back to the pool, which rolls back whatever the read opened


@lru_cache(maxsize=64)
def _compiled(dialect, statement):
    compiled = statement.compile(dialect=dialect)
    defaults = {name: bind.effective_value for bind, name in compiled.bind_names.items()}
    return str(compiled), (list(compiled.positiontup) if compiled.positional else None), defaults


def alembic_config(engine):
    """Build an Alembic config that runs the bundled migrations on this engine."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine, target="heads"):
    """Apply every pending migration (idempotent)."""
    from alembic import command

    command.upgrade(alembic_config(engine), target)

