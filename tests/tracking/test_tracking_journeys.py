"""Done-when: scripted journeys through the HTTP API with cookies give exact figures in
/api/metrics/self-service and on the leads' dashboard.

Searches go through GET /api/search and tickets through POST /api/tickets when those
endpoints are installed; otherwise the same events are recorded through portal.tracking with
the client's visitor cookie, which is exactly what those endpoints do."""
import re
from datetime import datetime, timedelta

import pytest
from flask import g

from tests.conftest import write_article

D = datetime(2026, 3, 10)
BOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


class Clock:
    """A settable clock for app.extensions["sportello.clock"]."""

    def __init__(self, moment):
        self.moment = moment

    def __call__(self):
        return self.moment


@pytest.fixture
def world(app, tmp_path):
    from portal.db import get_session
    from portal.importer import import_paths

    folder = tmp_path / "kb"
    write_article(folder, "alpha", title="Reset your password", body="Open settings and reset it.")
    write_article(folder, "beta", title="Download an invoice", body="Invoices are under billing.")
    with app.app_context():
        import_paths(get_session(), [str(folder)], app.config["LOCALES"])
    clock = Clock(D)
    app.extensions["sportello.clock"] = clock
    return clock


class Customer:
    """One browser: its own cookie jar, so its own visitor id."""

    def __init__(self, app, clock, user_agent="Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"):
        self.app, self.clock, self.ua = app, clock, user_agent
        self.client = app.test_client()
        self.client.get("/", headers=self._headers())  # receive the visitor cookie

    def _headers(self):
        return {"User-Agent": self.ua}

    def at(self, hours, minutes=0, days=0):
        self.clock.moment = D + timedelta(days=days, hours=hours, minutes=minutes)
        return self

    def _record(self, kind, **fields):
        from portal import tracking

        visitor = self.client.get_cookie("sportello_visitor").value
        with self.app.test_request_context(headers=self._headers()):
            g.visitor_id = visitor
            assert tracking.record(kind, **fields) is not None or "bot" in self.ua.lower()

    def search(self, query):
        if "search.api_search" in self.app.view_functions:
            resp = self.client.get("/api/search", query_string={"q": query}, headers=self._headers())
            assert resp.status_code == 200
        else:
            self._record("search", query=query, results=2, mode="hybrid")

    def read(self, slug, query=None, position=None, html=False):
        args = {k: v for k, v in (("q", query), ("pos", position)) if v is not None}
        resp = self.client.get(f"/{'' if html else 'api/'}articles/{slug}", query_string=args, headers=self._headers())
        assert resp.status_code == 200

    def vote(self, slug, **body):
        resp = self.client.post(f"/api/articles/{slug}/feedback", json=body, headers=self._headers())
        assert resp.status_code == 201, resp.get_json()

    def ticket(self, query="", article=""):
        if "tickets_api.create" in self.app.view_functions:
            resp = self.client.post("/api/tickets", headers=self._headers(), json={
                "email": "customer@example.com", "subject": "Still stuck with my password",
                "body": "I followed the article and it still does not work.", "query": query, "article": article})
            assert resp.status_code == 201, resp.get_json()
        else:
            self._record("ticket_opened", ticket_ref="SP-TEST", query=query or None)


def run_journeys(app, clock):
    served = Customer(app, clock)
    served.at(9).search("reset password")
    served.at(9, 1).read("alpha", query="reset password", position=1)
    served.at(9, 2).vote("alpha", helpful=True, query="reset password")

    Customer(app, clock).at(10).read("alpha", html=True)  # inferred: read, no vote, no ticket

    helped_then_ticket = Customer(app, clock)
    helped_then_ticket.at(11).read("alpha")
    helped_then_ticket.at(11, 1).vote("alpha", helpful=True)
    helped_then_ticket.at(11, 5).ticket(query="reset password", article="alpha")

    mixed = Customer(app, clock)  # first article no, second yes: self-served
    mixed.at(12).read("alpha")
    mixed.at(12, 1).vote("alpha", helpful=False, reason="not my case")
    mixed.at(12, 10).read("beta")
    mixed.at(12, 11).vote("beta", helpful=True, solved=True)

    unhappy = Customer(app, clock)
    unhappy.at(12, 30).read("beta")
    unhappy.at(12, 31).vote("beta", helpful=False)

    returning = Customer(app, clock)  # 31 minutes apart: two visits, both inferred
    returning.at(13).read("alpha")
    returning.at(13, 31).read("beta")
    returning.at(14, 1).read("beta")  # exactly 30 minutes later: still the second visit

    later_ticket = Customer(app, clock)  # a ticket 5 hours later turns the inference off
    later_ticket.at(15).read("alpha")
    later_ticket.at(20).ticket(query="password")

    bot = Customer(app, clock, user_agent=BOT)
    bot.at(16).read("alpha")
    bot.at(16, 1).vote("alpha", helpful=True)
    bot.at(16, 2).read("beta", html=True)

    night = Customer(app, clock)  # spans midnight: belongs to the day it started
    night.at(23, 50).read("beta")
    night.at(0, 10, days=1).vote("beta", helpful=True)

    clock.moment = D + timedelta(days=1, minutes=20)


EXPECTED = {
    "from": "2026-03-10", "to": "2026-03-10",
    "visits": 10, "self_served": 3, "self_served_inferred": 3, "escalated": 2, "tickets": 2,
    "self_service_ratio": 1.5, "self_service_ratio_with_inferred": 3.0, "deflection_rate": 0.6,
}


@pytest.fixture
def lead_token(app):
    from portal import accounts
    from portal.db import get_session

    with app.app_context():
        accounts.create_user(get_session(), accounts.NewUser(email="boss@example.com", role="lead", password="Amber-Falcon-Ledger-91"))
        return accounts.create_token(get_session(), "boss@example.com")


def test_journeys_give_exact_figures_in_the_api(app, world, lead_token):
    run_journeys(app, world)
    api = app.test_client()
    auth = {"Authorization": f"Bearer {lead_token}"}
    body = api.get("/api/metrics/self-service?from=2026-03-10&to=2026-03-10", headers=auth).get_json()
    assert {k: body[k] for k in EXPECTED} == EXPECTED
    assert body["self_served_inferred_pending"] == 3
    next_day = api.get("/api/metrics/self-service?from=2026-03-11&to=2026-03-11", headers=auth).get_json()
    assert next_day["visits"] == 0 and next_day["self_service_ratio"] is None
    week = api.get("/api/metrics/self-service?from=2026-03-09&to=2026-03-15&grain=day", headers=auth).get_json()
    assert week["visits"] == 10 and len(week["series"]) == 7
    assert week["series"][1]["self_served"] == 3


def test_journeys_give_the_same_figures_on_the_dashboard(app, world, client, login):
    run_journeys(app, world)
    login("lead")
    page = client.get("/leads/?from=2026-03-10&to=2026-03-10&grain=day").get_data(as_text=True)
    shown = dict(re.findall(r'<td data-metric="(\w+)">(\d+)</td>', page))
    assert shown == {"visits": "10", "self_served": "3", "self_served_inferred": "3", "escalated": "2", "tickets": "2"}
    values = dict(re.findall(r'data-metric="(\w+)" data-value="([^"]*)"', page))
    assert values == {"self_service_ratio": "1.5", "deflection_rate": "0.6", "self_service_ratio_with_inferred": "3.0"}
    assert "<svg" in page and "<script" not in page.split("</footer>")[0].split("<main")[1]
    csv = client.get("/leads/export/summary.csv?from=2026-03-10&to=2026-03-10").get_data(as_text=True)
    assert "self_served,3,0,3" in csv


def test_metrics_api_needs_a_lead_token_and_valid_dates(app, lead_token):
    api = app.test_client()
    assert api.get("/api/metrics/self-service").status_code == 401
    auth = {"Authorization": f"Bearer {lead_token}"}
    bad = api.get("/api/metrics/self-service?from=2026-02-30&to=2026-03-01", headers=auth)
    assert bad.status_code == 400 and "from" in bad.get_json()["fields"]
    bad = api.get("/api/metrics/self-service?from=2026-03-02&to=2026-03-01", headers=auth)
    assert bad.status_code == 400 and "to" in bad.get_json()["fields"]
    bad = api.get("/api/metrics/self-service?from=2026-03-01&to=2026-03-02&grain=year", headers=auth)
    assert bad.status_code == 400 and "grain" in bad.get_json()["fields"]
    ok = api.get("/api/metrics/self-service?from=2026-03-01&to=2026-03-02", headers=auth)
    assert ok.status_code == 200 and ok.get_json()["visits"] == 0


def test_agents_cannot_read_the_metrics(app):
    from portal import accounts
    from portal.db import get_session

    with app.app_context():
        accounts.create_user(get_session(), accounts.NewUser(email="a@example.com", role="agent", password="Amber-Falcon-Ledger-91"))
        token = accounts.create_token(get_session(), "a@example.com")
    resp = app.test_client().get("/api/metrics/self-service", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 403
