"""No 500 from input: each case of the security review answers a 4xx that names the field."""
import pytest
from sqlalchemy import select

from tests.portal.tickets_helpers import bearer, staff_client

TICKET = {"email": "ana@example.com", "subject": "The invoice is wrong",
          "body": "The amount on my last invoice does not match the order."}
DEEP = "[" * 5000 + "]" * 5000
HUGE = "9" * 30  # beyond 64 bits


@pytest.fixture
def article(app, make_article, runner):
    folder = make_article("en-reset", title="Reset your password", locale="en").parent
    assert runner.invoke(args=["import", str(folder)]).exit_code == 0
    return "en-reset"


def _json(client, path, raw):
    return client.post(path, data=raw, content_type="application/json")


def _field(resp, field, status=400):
    assert resp.status_code == status, (resp.status_code, resp.data[:300])
    assert field in resp.get_json()["fields"], resp.get_json()
    return resp


@pytest.mark.parametrize("path", ["/api/tickets", "/api/articles/en-reset/feedback"])
def test_deeply_nested_json_is_a_400(client, article, path):
    _field(_json(client, path, '{"email": ' + DEEP + "}"), "body")
    _field(_json(client, path, DEEP), "body")


@pytest.mark.parametrize("field", ["subject", "body"])
def test_a_lone_surrogate_in_a_ticket_is_a_400_naming_the_field(client, field):
    raw = '{"email": "ana@example.com", "subject": "The invoice is wrong", ' \
          '"body": "The amount on my last invoice does not match the order."}'
    raw = raw.replace(f'"{field}": "The', f'"{field}": "\\ud800 The')
    _field(_json(client, "/api/tickets", raw), field)
    from ticketing.models import Ticket

    with client.application.app_context():
        from portal.db import get_session

        assert get_session().scalars(select(Ticket)).all() == []


def test_a_rating_of_one_space_is_a_400_naming_the_field(app, client):
    from portal.db import get_session
    from ticketing.models import Ticket

    created = client.post("/api/tickets", json=TICKET).get_json()
    with app.app_context():
        session = get_session()
        session.get(Ticket, created["id"]).status = "solved"
        session.commit()
    token = created["url"].rsplit("/", 1)[1]
    resp = client.post(f"/tickets/s/{token}/rate", data={"csat": " "})
    assert resp.status_code == 400 and "Choose a rating" in resp.get_data(as_text=True)


@pytest.mark.parametrize("key", ["table", "endpoint", "_method"])
def test_query_keys_that_were_url_for_arguments_are_harmless(app, key):
    lead = staff_client(app, "lead")
    for _ in range(55):  # a second page of the queue (50 a page), whose links carried the keys
        app.test_client().post("/api/tickets", json=TICKET)
    assert lead.get(f"/agent/kpis/?{key}=x").status_code == 200
    resp = lead.get(f"/agent/?{key}=x")
    assert resp.status_code == 200 and f"{key}=" not in resp.get_data(as_text=True).split("<main")[1]


@pytest.mark.parametrize("path", [f"/agent/tickets/{HUGE}", f"/write/{HUGE}", f"/write/1/revisions/{HUGE}",
                                  f"/write/{HUGE}/history"])
def test_ids_beyond_the_database_integers_are_a_404(app, client, login, path):
    login("admin")
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("path, data", [
    ("/agent/tickets/1/reply", {"body": "hi", "internal": "0", "version": HUGE}),
    ("/agent/tickets/1/claim", {"version": HUGE}),
    ("/agent/tickets/1/update", {"status": "open", "priority": "normal", "group": "L1", "assignee": HUGE,
                                 "version": HUGE}),
    ("/write/1/status", {"version": HUGE, "action": "archive"}),
    ("/write/1/edit", {"version": HUGE, "title": "x", "body": "y", "locale": "en"}),
    ("/write/1/revisions/1/restore", {"version": HUGE}),
    ("/write/1/status", {"version": "9" * 5000, "action": "archive"}),
])
def test_versions_beyond_the_database_integers_are_a_400(app, client, login, make_article, runner, path, data):
    folder = make_article("en-a", title="A", locale="en").parent
    runner.invoke(args=["import", str(folder)])
    app.test_client().post("/api/tickets", json=TICKET)
    login("admin")
    resp = client.post(path, data=data)
    assert 400 <= resp.status_code < 500 or resp.status_code == 302, resp.status_code


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
@pytest.mark.parametrize("key", ["from", "to"])
def test_dates_at_the_ends_of_the_calendar_are_a_400_naming_the_field(app, client, login, day, key):
    for path in ("/api/metrics/self-service", "/api/metrics/tickets"):
        _field(app.test_client().get(path, query_string={key: day}, headers=bearer(app, "lead")), key)
    login("lead")
    for path in ("/leads/", "/leads/gaps"):
        resp = client.get(path, query_string={key: day})
        assert resp.status_code == 400 and key in resp.get_data(as_text=True), path
    kpi = {"from": "start", "to": "end"}[key]
    assert client.get("/agent/kpis/", query_string={kpi: day}).status_code == 400


@pytest.mark.parametrize("raw", ["[1]", "1", '"x"', "[]"])
def test_non_object_json_to_the_presence_endpoint_is_a_400(app, raw):
    app.test_client().post("/api/tickets", json=TICKET)
    agent = staff_client(app, "agent")
    _field(agent.post("/agent/tickets/1/presence", data=raw, content_type="application/json"), "body")


@pytest.mark.parametrize("target", ["/x%0d%0aSet-Cookie:%20a=b", "/%0a/evil.example", "/x%09y"])
def test_a_line_break_in_next_after_a_good_login_is_a_400(app, target):
    from portal import accounts
    from portal.db import get_session

    with app.app_context():
        accounts.create_user(get_session(), accounts.NewUser("lead@example.com", "lead", "Amber-Falcon-Ledger-91"))
    resp = app.test_client().post(f"/auth/login?next={target}",
                                  data={"email": "lead@example.com", "password": "Amber-Falcon-Ledger-91"})
    assert resp.status_code == 400 and b"next" in resp.data
    assert "Set-Cookie: a=b" not in str(resp.headers)


def test_next_to_another_site_goes_home(app, login, client):
    from portal import accounts
    from portal.db import get_session

    with app.app_context():
        accounts.create_user(get_session(), accounts.NewUser("lead@example.com", "lead", "Amber-Falcon-Ledger-91"))
    for target in ("//evil.example/", "/\\evil.example", "https://evil.example/"):
        resp = app.test_client().post("/auth/login", query_string={"next": target},
                                      data={"email": "lead@example.com", "password": "Amber-Falcon-Ledger-91"})
        assert resp.status_code == 302 and "evil" not in resp.headers["Location"]
