"""Configuration layers: defaults, SPORTELLO_* environment, then the test mapping."""
from portal.config import load_config


def test_defaults_then_environment_then_overrides(tmp_path):
    env = {"SPORTELLO_HOME": str(tmp_path), "SPORTELLO_SEARCH_BACKEND": "keyword", "SPORTELLO_SMTP_PORT": "2525"}
    cfg = load_config(environ=env)
    assert cfg["SEARCH_BACKEND"] == "keyword" and cfg["SMTP_PORT"] == 2525
    assert cfg["DATABASE_URL"] == f"sqlite:///{tmp_path}/sportello.db"
    cfg = load_config({"SEARCH_BACKEND": "semantic"}, environ=env)
    assert cfg["SEARCH_BACKEND"] == "semantic"


def test_locales_parsed(tmp_path):
    cfg = load_config(environ={"SPORTELLO_HOME": str(tmp_path), "SPORTELLO_LOCALES": "it, en"})
    assert cfg["LOCALES"] == ("it", "en")


def test_secret_key_generated_once(tmp_path):
    from portal import create_app

    a = create_app({"HOME": str(tmp_path)})
    b = create_app({"HOME": str(tmp_path)})
    assert a.config["SECRET_KEY"] == b.config["SECRET_KEY"] and len(a.config["SECRET_KEY"]) == 64


def test_sqlite_uses_wal_and_busy_timeout(app):
    from sqlalchemy import text

    with app.extensions["sportello.engine"].connect() as conn:
        if conn.dialect.name != "sqlite":
            return
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 30000
