"""Fixtures: a fresh app with its own SQLite file and index folder per test."""
import os
import threading

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
_PG = {}


def pytest_addoption(parser):
    """--postgres runs the whole suite on a throwaway PostgreSQL server."""
    parser.addoption("--postgres", action="store_true", help="run against a temporary PostgreSQL server")


def pytest_configure(config):
    """Start the PostgreSQL server once for the session when --postgres is given."""
    if config.getoption("--postgres", default=False):
        from tests.pg import PostgresServer

        server = PostgresServer()
        os.environ["SPORTELLO_TEST_DATABASE_URL"] = server.start()
        _PG["server"] = server


def pytest_unconfigure(config):
    """Stop the PostgreSQL server started for the session."""
    server = _PG.pop("server", None)
    if server is not None:
        server.stop()
        os.environ.pop("SPORTELLO_TEST_DATABASE_URL", None)


def pytest_report_header(config):
    """Say which database the suite runs on."""
    return f"database: {'postgresql (temporary server)' if _PG else 'sqlite (a file per test)'}"


def make_app(tmp_path, fresh=True, **overrides):
    """Create an app on a home folder with the schema migrated.

    On the PostgreSQL run every app shares one server database, so a fresh app starts by
    dropping what an earlier test left; fresh=False reopens the same data (a restart).
    """
    from portal import create_app
    from portal.cli import prepare_database

    config = {
        "TESTING": True,
        "HOME": str(tmp_path / "home"),
        "SECRET_KEY": "test-secret",
        "EMBEDDING_MODEL": "fake",
        "WTF_CSRF_ENABLED": False,
        "RATE_LIMITS": "off",
        "AUTO_REINDEX": False,
        # Tests read the tracking tables right after a request: each request writes its own batch.
        "TRACKING_FLUSH_SECONDS": 0,
    }
    if os.environ.get("SPORTELLO_TEST_DATABASE_URL"):
        config["DATABASE_URL"] = os.environ["SPORTELLO_TEST_DATABASE_URL"]
    config.update(overrides)
    app = create_app(config)
    if fresh and config.get("DATABASE_URL", "").startswith("postgresql"):
        from tests.pg import reset_database

        reset_database(app)
    with app.app_context():
        prepare_database(app)
    return app


@pytest.fixture
def app_config():
    """Per-test overrides of the app's configuration (override this fixture in a module)."""
    return {}


@pytest.fixture
def app(tmp_path, app_config):
    """A fresh app and database for one test."""
    app = make_app(tmp_path, **app_config)
    yield app
    if os.environ.get("SPORTELLO_TEST_DATABASE_URL"):
        from tests.pg import reset_database

        reset_database(app)
    app.extensions["sportello.engine"].dispose()


@pytest.fixture
def client(app):
    """A test client for the app."""
    return app.test_client()


@pytest.fixture
def live_server(app):
    """Serve the app on a free 127.0.0.1 port from a thread; yield its base URL."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def runner(app):
    """A CLI runner bound to the app."""
    return app.test_cli_runner()


@pytest.fixture
def db_session(app):
    """The app's database session inside an app context."""
    from portal.db import get_session

    with app.app_context():
        yield get_session()


ARTICLE = """---
title: "{title}"
slug: {slug}
locale: {locale}
category: {category}
tags: [{tags}]
concept: {concept}
status: {status}
---
# {title}

{body}
"""


def write_article(folder, slug, title="A title", locale="it", category="glossary", tags="t1, t2",
                  concept=None, status="published", body="Some body text."):
    """Write one article file in the contract's format and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{slug}.md"
    path.write_text(ARTICLE.format(title=title, slug=slug, locale=locale, category=category, tags=tags,
                                   concept=concept or slug, status=status, body=body), encoding="utf-8")
    return path


@pytest.fixture
def make_article(tmp_path):
    """Write article files into a temp folder: make_article(slug, **fields) -> path."""
    folder = tmp_path / "articles"
    return lambda slug, **kw: write_article(folder, slug, **kw)


@pytest.fixture
def login(client, app):
    """Create a staff account with a role and log the test client in: login(role) -> user email."""
    from portal import accounts
    from portal.db import get_session

    def _login(role, email=None, password="Amber-Falcon-Ledger-91"):
        email = email or f"{role}@example.com"
        with app.app_context():
            session = get_session()
            from sqlalchemy import select
            from portal.models import User

            if session.scalar(select(User).where(User.email == email)) is None:
                accounts.create_user(session, accounts.NewUser(email=email, role=role, password=password))
        resp = client.post("/auth/login", data={"email": email, "password": password})
        assert resp.status_code == 302, resp.data
        return email

    return _login
