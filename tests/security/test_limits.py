"""Rate limits: clear 429s with Retry-After on login, search, feedback and ticket creation."""
import pytest

from portal.limits import DEFAULT_LIMITS, ENDPOINTS, parse_setting

DEFAULT_LIMITS_LOGIN_FAILURES = 5


@pytest.fixture
def app_config():
    return {"RATE_LIMITS": "search=3/minute suggest=3/minute feedback=2/minute tickets=2/minute "
                           "login=6/minute login_failures=3 per 15 minutes"}


def _needs(app, endpoint):
    if endpoint not in app.view_functions:
        pytest.skip(f"{endpoint} is not registered yet")


def test_parse_setting():
    assert parse_setting("off") is None
    assert parse_setting("") == DEFAULT_LIMITS
    assert set(parse_setting("7/second").values()) == {"7/second"}
    parsed = parse_setting("search=10 per minute tickets=2/minute;9/hour")
    assert parsed["search"] == "10 per minute" and parsed["tickets"] == "2/minute;9/hour"
    assert parsed["login"] == DEFAULT_LIMITS["login"]
    with pytest.raises(ValueError):
        parse_setting("searhc=1/minute")
    with pytest.raises(ValueError):
        parse_setting("search=lots")


def test_limits_off_in_the_default_test_config(tmp_path):
    from tests.conftest import make_app

    app = make_app(tmp_path)
    client = app.test_client()
    for _ in range(DEFAULT_LIMITS_LOGIN_FAILURES + 3):
        assert client.post("/auth/login", data={"email": "x@example.com", "password": "nope"}).status_code == 400


def _create_staff(app, email="agent@example.com", role="agent"):
    from portal import accounts
    from portal.db import get_session

    with app.app_context():
        accounts.create_user(get_session(), accounts.NewUser(email, role, "Amber-Falcon-Ledger-91"))


def test_failed_logins_are_throttled_per_account_and_address(app, client):
    _create_staff(app)
    bad = {"email": "agent@example.com", "password": "wrong-password"}
    for _ in range(3):
        assert client.post("/auth/login", data=bad).status_code == 400
    resp = client.post("/auth/login", data=bad)
    assert resp.status_code == 429
    assert b"Too many failed logins" in resp.data and b"<html" in resp.data
    # The right password is refused too while throttled: guessing cannot go on.
    assert client.post("/auth/login", data={**bad, "password": "Amber-Falcon-Ledger-91"}).status_code == 429
    # Another account from the same address is not locked by these failures...
    _create_staff(app, "writer@example.com", "writer")
    assert client.post("/auth/login", data={"email": "writer@example.com", "password": "Amber-Falcon-Ledger-91"}).status_code == 302
    # ...nor the same account from another address.
    other = app.test_client()
    resp = other.post("/auth/login", data={"email": "agent@example.com", "password": "Amber-Falcon-Ledger-91"},
                      environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert resp.status_code == 302


def test_successful_logins_do_not_count_as_failures(app, client):
    _create_staff(app)
    good = {"email": "agent@example.com", "password": "Amber-Falcon-Ledger-91"}
    for _ in range(5):
        assert client.post("/auth/login", data=good).status_code == 302


def test_login_requests_per_address_are_limited(app, client):
    for i in range(6):
        client.post("/auth/login", data={"email": f"u{i}@example.com", "password": "wrong-password"})
    assert client.post("/auth/login", data={"email": "z@example.com", "password": "x"}).status_code == 429
    assert client.get("/auth/login").status_code == 200  # showing the form is never limited


def test_search_page_is_limited(app, client):
    _needs(app, "search.search_page")
    for _ in range(3):
        assert client.get("/search?q=ticket").status_code == 200
    resp = client.get("/search?q=ticket")
    assert resp.status_code == 429 and resp.headers["Retry-After"]


def test_search_api_is_limited_with_a_json_429(app, client):
    _needs(app, "search.api_search")
    for _ in range(3):
        assert client.get("/api/search?q=ticket").status_code == 200
    resp = client.get("/api/search?q=ticket")
    assert resp.status_code == 429
    body = resp.get_json()
    assert "Too many requests" in body["error"] and body["retry_after"] > 0
    assert int(resp.headers["Retry-After"]) == body["retry_after"]


def test_feedback_is_limited(app, client, make_article, runner):
    endpoint = next((e for e in ENDPOINTS if e.endswith("feedback") and e in app.view_functions), None)
    if endpoint is None:
        pytest.skip("no feedback endpoint registered yet")
    make_article("it-frt", title="FRT")
    runner.invoke(args=["import", str(make_article("it-frt", title="FRT").parent)])
    codes = [client.post("/api/articles/it-frt/feedback", json={"helpful": True}).status_code for _ in range(3)]
    assert codes[:2] == [201, 201] and codes[2] == 429


def test_ticket_creation_is_limited(app, client):
    _needs(app, "tickets_api.create")
    body = {"email": "c@example.com", "subject": "Help", "body": "It does not work."}
    codes = [client.post("/api/tickets", json=body).status_code for _ in range(3)]
    assert codes[:2] == [201, 201] and codes[2] == 429


def test_every_limited_endpoint_exists_once_areas_land(app):
    """A renamed view would silently lose its limit: report table entries that match nothing."""
    missing = [e for e in ENDPOINTS if e not in app.view_functions]
    if missing:
        pytest.skip(f"not registered (yet): {', '.join(missing)}")


def test_a_group_is_one_budget_shared_by_its_endpoints(app, client):
    """The search page and the search API draw on the same 3 a minute (app_config)."""
    _needs(app, "search.search_page")
    _needs(app, "search.api_search")
    assert client.get("/search?q=ticket").status_code == 200
    assert client.get("/api/search?q=ticket").status_code == 200
    assert client.get("/search?q=ticket").status_code == 200
    assert client.get("/api/search?q=ticket").status_code == 429
    assert client.get("/search?q=ticket").status_code == 429
