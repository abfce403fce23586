"""Sessions that end: logout, a password change or reset, a role change and disabling end every
session of the account; re-enabling gives back neither sessions nor API tokens; "remember me"
outlives the browser, other sessions end after an idle limit; API tokens expire; failed logins
are counted in the database; the password and email rules."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal import accounts
from portal.models import User

PASSWORD = "Amber-Falcon-Ledger-91"


def _user(app, email):
    from portal.db import get_session

    with app.app_context():
        return get_session().scalar(select(User).where(User.email == email))


def _copy_session(app, client):
    """Another browser holding a copy of this client's session cookie."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def _logged_in(client):
    resp = client.get("/account/password")
    return resp.status_code == 200


def test_logout_ends_a_copied_session_too(app, client, login):
    login("writer")
    thief = _copy_session(app, client)
    assert _logged_in(thief)
    client.post("/auth/logout")
    assert not _logged_in(thief) and not _logged_in(client)


def test_changing_the_password_ends_the_other_sessions_but_not_this_one(app, client, login):
    login("agent")
    thief = _copy_session(app, client)
    resp = client.post("/account/password", data={"current": PASSWORD, "new": "Velvet-Compass-Orchard-3",
                                                   "confirm": "Velvet-Compass-Orchard-3"})
    assert resp.status_code == 302
    assert _logged_in(client) and not _logged_in(thief)


@pytest.mark.parametrize("action, data", [
    ("password", {}), ("role", {"role": "lead"}), ("active", {"active": "0"}),
])
def test_an_admins_reset_role_change_or_disable_ends_the_accounts_sessions(app, client, login, action, data):
    staff = app.test_client()
    with app.app_context():
        from portal.db import get_session

        accounts.create_user(get_session(), accounts.NewUser("agent@example.com", "agent", PASSWORD))
    assert staff.post("/auth/login", data={"email": "agent@example.com", "password": PASSWORD}).status_code == 302
    assert _logged_in(staff)
    login("admin")
    target = _user(app, "agent@example.com")
    resp = client.post(f"/admin/users/{target.id}/{action}", data=data)
    assert resp.status_code in (200, 302)
    assert not _logged_in(staff)


def test_re_enabling_revives_neither_sessions_nor_tokens(app, client, login):
    from portal.db import get_session

    staff = app.test_client()
    with app.app_context():
        accounts.create_user(get_session(), accounts.NewUser("lead@example.com", "lead", PASSWORD))
        token = accounts.create_token(get_session(), "lead@example.com")
    staff.post("/auth/login", data={"email": "lead@example.com", "password": PASSWORD})
    api = {"Authorization": f"Bearer {token}"}
    assert staff.get("/api/metrics/self-service", headers=api).status_code == 200
    login("admin")
    target = _user(app, "lead@example.com")
    client.post(f"/admin/users/{target.id}/active", data={"active": "0"})
    client.post(f"/admin/users/{target.id}/active", data={"active": "1"})
    assert app.test_client().get("/api/metrics/self-service", headers=api).status_code == 401
    assert not _logged_in(staff)
    with app.app_context():
        fresh = accounts.create_token(get_session(), "lead@example.com")
    assert app.test_client().get("/api/metrics/self-service",
                                 headers={"Authorization": f"Bearer {fresh}"}).status_code == 200


def _session_cookie_header(resp):
    return next(h for h in resp.headers.getlist("Set-Cookie") if h.startswith("session="))


def test_remember_me_outlives_the_browser_and_other_sessions_do_not(app):
    with app.app_context():
        from portal.db import get_session

        accounts.create_user(get_session(), accounts.NewUser("agent@example.com", "agent", PASSWORD))
    plain = app.test_client().post("/auth/login", data={"email": "agent@example.com", "password": PASSWORD})
    assert "Expires=" not in _session_cookie_header(plain)  # ends with the browser
    kept = app.test_client().post("/auth/login", data={"email": "agent@example.com", "password": PASSWORD,
                                                        "remember": "y"})
    assert "Expires=" in _session_cookie_header(kept)


def test_a_session_without_remember_me_ends_after_the_idle_limit(app, monkeypatch):
    import portal.auth

    with app.app_context():
        from portal.db import get_session

        accounts.create_user(get_session(), accounts.NewUser("agent@example.com", "agent", PASSWORD))
    now = [1_000_000.0]
    monkeypatch.setattr(portal.auth.time, "time", lambda: now[0])
    plain, kept = app.test_client(), app.test_client()
    plain.post("/auth/login", data={"email": "agent@example.com", "password": PASSWORD})
    kept.post("/auth/login", data={"email": "agent@example.com", "password": PASSWORD, "remember": "y"})
    idle = app.config["SESSION_IDLE_MINUTES"] * 60
    now[0] += idle - 30
    assert _logged_in(plain) and _logged_in(kept)  # activity moves the limit on
    now[0] += idle - 30
    assert _logged_in(plain)
    now[0] += idle + 1
    assert not _logged_in(plain) and _logged_in(kept)


def test_api_tokens_expire(app, monkeypatch):
    from portal.db import get_session

    with app.app_context():
        session = get_session()
        accounts.create_user(session, accounts.NewUser("lead@example.com", "lead", PASSWORD))
        short = accounts.create_token(session, "lead@example.com", days=1)
        forever = accounts.create_token(session, "lead@example.com", days=0)
        assert accounts.user_for_token(session, short) is not None
        later = accounts.utcnow() + timedelta(days=1, minutes=1)
        monkeypatch.setattr(accounts, "utcnow", lambda: later)
        assert accounts.user_for_token(session, short) is None
        assert accounts.user_for_token(session, forever) is not None


def test_token_create_takes_days_and_defaults_to_an_expiry(app, runner):
    from portal.db import get_session
    from portal.models import ApiToken

    with app.app_context():
        accounts.create_user(get_session(), accounts.NewUser("lead@example.com", "lead", PASSWORD))
    assert runner.invoke(args=["token", "create", "--email", "lead@example.com"]).exit_code == 0
    assert runner.invoke(args=["token", "create", "--email", "lead@example.com", "--days", "0"]).exit_code == 0
    bad = runner.invoke(args=["token", "create", "--email", "lead@example.com", "--days", "99999"])
    assert bad.exit_code != 0 and "3650 days" in bad.output
    with app.app_context():
        expiries = [t.expires_at for t in get_session().scalars(select(ApiToken).order_by(ApiToken.id))]
    assert expiries[0] is not None and expiries[1] is None


def test_failed_logins_are_counted_in_the_database_for_every_worker(app, tmp_path):
    """Two apps on one database stand for two workers: failures in one count in the other."""
    from tests.conftest import make_app

    config = {"RATE_LIMITS": "login_failures=3 per 15 minutes", "DATABASE_URL": app.config["DATABASE_URL"]}
    one, two = make_app(tmp_path / "one", **config), make_app(tmp_path / "two", fresh=False, **config)
    with one.app_context():
        from portal.db import get_session

        accounts.create_user(get_session(), accounts.NewUser("agent@example.com", "agent", PASSWORD))
    bad = {"email": "agent@example.com", "password": "not-the-password"}
    assert one.test_client().post("/auth/login", data=bad).status_code == 400
    assert two.test_client().post("/auth/login", data=bad).status_code == 400
    assert one.test_client().post("/auth/login", data=bad).status_code == 400
    assert two.test_client().post("/auth/login", data={**bad, "password": PASSWORD}).status_code == 429


@pytest.mark.parametrize("password", ["password", " " * 8, "password1234", "agent.smith2024", "Sportello2026",
                                      "qwertyuiop"])
def test_common_and_email_derived_passwords_are_refused(db_session, password):
    with pytest.raises(accounts.AccountError) as exc:
        accounts.create_user(db_session, accounts.NewUser("agent.smith@example.com", "agent", password))
    assert exc.value.field == "password"


@pytest.mark.parametrize("email", ["user@localhost", "a@b", "two@@example.com", "name@exa mple.com",
                                   "x" * 250 + "@example.com"])
def test_the_cli_and_the_forms_share_one_email_rule(app, client, login, runner, email):
    result = runner.invoke(args=["user", "create", "--email", email, "--role", "agent", "--password", PASSWORD])
    assert result.exit_code != 0 and "email" in result.output
    login("admin")
    resp = client.post("/admin/users/", data={"email": email, "role": "agent", "password": PASSWORD})
    assert resp.status_code == 400


def test_a_generated_password_is_never_cached(app, client, login):
    login("admin")
    resp = client.post("/admin/users/", data={"email": "new@example.com", "role": "agent"})
    assert resp.status_code == 200 and "no-store" in resp.headers["Cache-Control"]
    target = _user(app, "new@example.com")
    resp = client.post(f"/admin/users/{target.id}/password")
    assert "no-store" in resp.headers["Cache-Control"]
    assert "no-store" in client.get("/write/").headers.get("Cache-Control", "")  # every staff page


def test_csrf_tokens_expire(app):
    assert app.config["WTF_CSRF_TIME_LIMIT"] == app.config["CSRF_HOURS"] * 3600 > 0


def test_the_sqlite_files_are_the_owners_only(app, client, tmp_path):
    import os
    import stat
    from pathlib import Path

    url = app.config["DATABASE_URL"]
    if not url.startswith("sqlite:///"):
        pytest.skip("PostgreSQL run")
    client.get("/")
    database = Path(url[len("sqlite:///"):])
    for path in (database, database.with_name(database.name + "-wal")):
        if path.exists():
            assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path
    assert stat.S_IMODE(os.stat(database).st_mode) == 0o600


def test_a_weak_first_admin_password_is_refused_by_name(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from portal.cli import main

    monkeypatch.setenv("SPORTELLO_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SPORTELLO_EMBEDDING_MODEL", "fake")
    monkeypatch.setenv("SPORTELLO_ADMIN_EMAIL", "boss@example.com")
    monkeypatch.setenv("SPORTELLO_ADMIN_PASSWORD", "password")
    monkeypatch.delenv("SPORTELLO_DATABASE_URL", raising=False)
    result = CliRunner().invoke(main, ["user", "create", "--email", "x@example.com", "--role", "agent"])
    assert result.exit_code != 0 and "SPORTELLO_ADMIN_PASSWORD" in result.output
