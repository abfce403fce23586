"""Accounts: the admin's users page, password change, disabled accounts, user commands."""
import re

from portal import accounts


def test_admin_creates_changes_role_disables_and_enables(client, login, app):
    login("admin")
    resp = client.post("/admin/users/", data={"email": "new@example.com", "role": "writer", "name": "New"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "new@example.com" in page
    # the generated password is in this response only, never in the (readable) session cookie
    password = re.search(r'<code class="secret">(\S+)</code>', page).group(1)
    assert password not in (resp.headers.get("Set-Cookie") or "")
    assert password not in client.get("/admin/users/").get_data(as_text=True)
    with app.app_context():
        from portal.db import get_session

        user = accounts.get_user(get_session(), "new@example.com")
        user_id = user.id
        token = accounts.create_token(get_session(), "new@example.com")
    client.post(f"/admin/users/{user_id}/role", data={"role": "lead"})
    client.post(f"/admin/users/{user_id}/active", data={"active": "0"})
    with app.app_context():
        from portal.db import get_session

        user = accounts.get_user(get_session(), "new@example.com")
        assert user.role == "lead" and not user.active
        assert accounts.user_for_token(get_session(), token) is None
    # a disabled account cannot log in
    client.post("/auth/logout")
    resp = client.post("/auth/login", data={"email": "new@example.com", "password": password})
    assert resp.status_code == 400
    login("admin")
    client.post(f"/admin/users/{user_id}/active", data={"active": "1"})
    client.post("/auth/logout")
    assert client.post("/auth/login", data={"email": "new@example.com", "password": password}).status_code == 302


def test_duplicate_and_bad_accounts_are_form_errors(client, login):
    login("admin")
    resp = client.post("/admin/users/", data={"email": "admin@example.com", "role": "writer"})
    assert resp.status_code == 400 and "already exists" in resp.get_data(as_text=True)
    resp = client.post("/admin/users/", data={"email": "x@example.com", "role": "writer", "password": "short"})
    assert resp.status_code == 400


def test_last_admin_cannot_be_disabled_or_demoted(client, login, app):
    login("admin")
    with app.app_context():
        from portal.db import get_session

        admin_id = accounts.get_user(get_session(), "admin@example.com").id
    client.post(f"/admin/users/{admin_id}/active", data={"active": "0"})
    client.post(f"/admin/users/{admin_id}/role", data={"role": "writer"})
    page = client.get("/admin/users/").get_data(as_text=True)
    assert "the last active admin cannot" in page
    with app.app_context():
        from portal.db import get_session

        user = accounts.get_user(get_session(), "admin@example.com")
        assert user.active and user.role == "admin"


def test_admin_resets_a_password(client, login):
    login("writer")
    login("admin")
    page = client.get("/admin/users/").get_data(as_text=True)
    writer_id = re.search(r'/admin/users/(\d+)/password', page.split("writer@example.com")[1]).group(1)
    page = client.post(f"/admin/users/{writer_id}/password").get_data(as_text=True)
    new_password = re.search(r'<code class="secret">(\S+)</code>', page).group(1)
    client.post("/auth/logout")
    assert client.post("/auth/login", data={"email": "writer@example.com", "password": new_password}).status_code == 302


def test_password_change(client, login):
    login("agent")
    resp = client.post("/account/password", data={"current": "wrong-one", "new": "brand-new-pass", "confirm": "brand-new-pass"})
    assert resp.status_code == 400 and "current password is wrong" in resp.get_data(as_text=True)
    resp = client.post("/account/password", data={"current": "Amber-Falcon-Ledger-91", "new": "brand-new-pass", "confirm": "other-pass-x"})
    assert resp.status_code == 400 and "The two passwords differ." in resp.get_data(as_text=True)
    resp = client.post("/account/password", data={"current": "Amber-Falcon-Ledger-91", "new": "brand-new-pass", "confirm": "brand-new-pass"})
    assert resp.status_code == 302
    client.post("/auth/logout")
    assert client.post("/auth/login", data={"email": "agent@example.com", "password": "Amber-Falcon-Ledger-91"}).status_code == 400
    assert client.post("/auth/login", data={"email": "agent@example.com", "password": "brand-new-pass"}).status_code == 302


def test_user_commands(runner, app):
    runner.invoke(args=["user", "create", "--email", "w@example.com", "--role", "writer", "--password", "Amber-Falcon-Ledger-91"])
    runner.invoke(args=["user", "create", "--email", "a@example.com", "--role", "admin", "--password", "Amber-Falcon-Ledger-91"])
    out = runner.invoke(args=["user", "list"]).output
    assert re.search(r"w@example.com\s+writer\s+active", out)
    assert runner.invoke(args=["user", "disable", "--email", "w@example.com"]).exit_code == 0
    assert re.search(r"w@example.com\s+writer\s+disabled", runner.invoke(args=["user", "list"]).output)
    assert runner.invoke(args=["user", "enable", "--email", "w@example.com"]).exit_code == 0
    assert runner.invoke(args=["user", "role", "--email", "w@example.com", "--role", "lead"]).exit_code == 0
    result = runner.invoke(args=["user", "password", "--email", "w@example.com"])
    new_password = result.output.strip().rsplit(": ", 1)[1]
    with app.app_context():
        from portal.db import get_session

        user = accounts.authenticate(get_session(), "w@example.com", new_password)
        assert user is not None and user.role == "lead"
    # the only admin stays: refused with a clear message
    result = runner.invoke(args=["user", "disable", "--email", "a@example.com"])
    assert result.exit_code != 0 and "last active admin" in result.output
    assert runner.invoke(args=["user", "disable", "--email", "nobody@example.com"]).exit_code != 0


def test_first_admin_from_environment_variables(tmp_path, monkeypatch):
    """A fresh install: SPORTELLO_ADMIN_EMAIL/PASSWORD make the first admin on `sportello init`."""
    from portal import create_app

    monkeypatch.setenv("SPORTELLO_ADMIN_EMAIL", "boss@example.com")
    monkeypatch.delenv("SPORTELLO_ADMIN_PASSWORD", raising=False)
    app = create_app({"HOME": str(tmp_path / "fresh"), "SECRET_KEY": "x", "EMBEDDING_MODEL": "fake",
                      "TESTING": True, "AUTO_REINDEX": False, "RATE_LIMITS": "off"})
    result = app.test_cli_runner().invoke(args=["init"])
    assert result.exit_code == 0, result.output
    password = re.search(r"first admin created: boss@example.com password: (\S+)", result.output).group(1)
    with app.app_context():
        from portal.db import get_session

        assert accounts.authenticate(get_session(), "boss@example.com", password).role == "admin"
    again = app.test_cli_runner().invoke(args=["init"])
    assert "first admin" not in again.output
    app.extensions["sportello.engine"].dispose()
