"""Staff login, roles and API tokens."""
import pytest

from portal import accounts


def test_login_logout(client, login):
    login("writer")
    page = client.get("/").get_data(as_text=True)
    assert "writer@example.com" in page
    client.post("/auth/logout")
    assert "writer@example.com" not in client.get("/").get_data(as_text=True)


def test_wrong_password_is_a_form_error(client, login, app):
    login("agent")
    client.post("/auth/logout")
    resp = client.post("/auth/login", data={"email": "agent@example.com", "password": "nope-nope"})
    assert resp.status_code == 400 and "Wrong email or password" in resp.get_data(as_text=True)
    assert 'value="agent@example.com"' in resp.get_data(as_text=True)


def test_login_next_only_local(client, login):
    login("lead")
    client.post("/auth/logout")
    resp = client.post("/auth/login?next=https://evil.example/", data={"email": "lead@example.com", "password": "Amber-Falcon-Ledger-91"})
    assert resp.headers["Location"] == "/"


def test_passwords_are_hashed(db_session):
    user = accounts.create_user(db_session, accounts.NewUser("x@example.com", "agent", "Amber-Falcon-Ledger-91"))
    assert "Amber-Falcon-Ledger-91" not in user.password_hash and user.password_hash.startswith(("scrypt:", "pbkdf2:"))


@pytest.mark.parametrize("email,role,password,field", [
    ("not-an-email", "agent", "Amber-Falcon-Ledger-91", "email"),
    ("a@example.com", "owner", "Amber-Falcon-Ledger-91", "role"),
    ("a@example.com", "agent", "short", "password"),
])
def test_create_user_errors(db_session, email, role, password, field):
    with pytest.raises(accounts.AccountError) as err:
        accounts.create_user(db_session, accounts.NewUser(email, role, password))
    assert err.value.field == field


def test_disabled_account_cannot_login_and_token_stops(db_session):
    accounts.create_user(db_session, accounts.NewUser("d@example.com", "lead", "Amber-Falcon-Ledger-91"))
    token = accounts.create_token(db_session, "d@example.com")
    user = accounts.user_for_token(db_session, token)
    assert user is not None
    user.active = False
    db_session.commit()
    assert accounts.authenticate(db_session, "d@example.com", "Amber-Falcon-Ledger-91") is None
    assert accounts.user_for_token(db_session, token) is None


def test_revoked_token(db_session):
    accounts.create_user(db_session, accounts.NewUser("r@example.com", "lead", "Amber-Falcon-Ledger-91"))
    token = accounts.create_token(db_session, "r@example.com")
    assert accounts.revoke_tokens(db_session, "r@example.com") == 1
    assert accounts.user_for_token(db_session, token) is None
