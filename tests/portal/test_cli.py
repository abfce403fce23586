"""The sportello command line."""
from sqlalchemy import select

from portal.models import ApiToken, Article, User


def test_init_is_idempotent(runner):
    first = runner.invoke(args=["init"])
    second = runner.invoke(args=["init"])
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    assert "database ready" in second.output


def test_import_reports_and_exit_code(runner, make_article, app):
    good = make_article("it-a", title="A")
    (good.parent / "broken.md").write_text("no front matter")
    result = runner.invoke(args=["import", str(good.parent)])
    assert result.exit_code == 1
    assert "broken.md: missing front matter" in result.output
    assert "1 created, 0 updated, 0 unchanged, 1 failed" in result.output
    (good.parent / "broken.md").unlink()
    again = runner.invoke(args=["import", str(good.parent)])
    assert again.exit_code == 0 and "0 created, 0 updated, 1 unchanged, 0 failed" in again.output


def test_user_create_and_token(runner, db_session):
    result = runner.invoke(args=["user", "create", "--email", "Lead@Example.com", "--role", "lead", "--password", "Velvet-Compass-Orchard-3"])
    assert result.exit_code == 0, result.output
    assert db_session.scalar(select(User).where(User.email == "lead@example.com")).role == "lead"
    dup = runner.invoke(args=["user", "create", "--email", "lead@example.com", "--role", "lead", "--password", "Velvet-Compass-Orchard-3"])
    assert dup.exit_code != 0 and "already exists" in dup.output
    token = runner.invoke(args=["token", "create", "--email", "lead@example.com"]).output.strip()
    assert token.startswith("sp_")
    stored = db_session.scalar(select(ApiToken))
    assert stored.token_hash != token and len(stored.token_hash) == 64


def test_user_create_generates_password(runner):
    result = runner.invoke(args=["user", "create", "--email", "w@example.com", "--role", "writer"])
    assert result.exit_code == 0 and "password:" in result.output


def test_user_create_rejects_bad_role(runner):
    result = runner.invoke(args=["user", "create", "--email", "w@example.com", "--role", "boss"])
    assert result.exit_code != 0


def test_first_admin_from_environment(tmp_path):
    from tests.conftest import make_app

    app = make_app(tmp_path, ADMIN_EMAIL="root@example.com", ADMIN_PASSWORD="very-secret-1")
    from portal import accounts
    from portal.db import get_session

    with app.app_context():
        assert accounts.authenticate(get_session(), "root@example.com", "very-secret-1").role == "admin"
    result = app.test_cli_runner().invoke(args=["init"])
    assert "first admin" not in result.output  # created once only
