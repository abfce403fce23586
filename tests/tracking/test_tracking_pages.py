"""The article's feedback box, the feedback API's validation, the dashboard's pages and exports."""
import logging

import pytest
from sqlalchemy import select

from tests.conftest import write_article
from tests.tracking.helpers import as_visitor, cookie_visitor


@pytest.fixture
def article(app, tmp_path):
    from portal.db import get_session
    from portal.importer import import_paths

    write_article(tmp_path / "kb", "alpha", title="Reset your password")
    with app.app_context():
        import_paths(get_session(), [str(tmp_path / "kb")], app.config["LOCALES"])
    return "alpha"


def rows(app, model):
    from portal.db import get_session

    with app.app_context():
        return get_session().scalars(select(model)).all()


def test_article_page_asks_and_a_no_shows_the_reason_box(client, article):
    page = client.get("/articles/alpha").get_data(as_text=True)
    assert "Was this helpful?" in page and "Did this answer your question?" not in page
    assert 'src="/static/js/feedback.js"' in page
    page = client.get("/articles/alpha?q=reset+password").get_data(as_text=True)
    assert "Did this answer your question?" in page
    resp = client.post("/articles/alpha/feedback", data={"helpful": "no", "q": "reset password"})
    assert resp.status_code == 302 and "voted=1" in resp.location and "q=reset" in resp.location
    page = client.get(resp.location).get_data(as_text=True)
    assert 'data-fb-no >' in page or "data-fb-no>" in page  # the reason box is no longer hidden
    client.post("/articles/alpha/feedback", data={"reason": "it skips a step"})
    from portal.tracking.models import Vote, Visit

    (vote,) = rows(client.application, Vote)
    assert (vote.helpful, vote.reason, vote.query) == (False, "it skips a step", "reset password")
    (visit,) = rows(client.application, Visit)
    assert visit.views == 2 and visit.negative == 1  # the reload after voting is not a view


def test_ticket_link_after_no_when_tickets_are_installed(app, client, article):
    client.post("/articles/alpha/feedback", data={"helpful": "no"})
    page = client.get("/articles/alpha?voted=1").get_data(as_text=True)
    if "tickets.new" in app.view_functions:
        assert "/tickets/new?" in page and "article=alpha" in page
    else:
        assert "Open a ticket" not in page


def test_feedback_form_answers_json_for_the_script(client, article):
    client.get("/articles/alpha")
    resp = client.post("/articles/alpha/feedback", data={"helpful": "yes"}, headers={"Accept": "application/json"})
    assert resp.status_code == 200 and resp.get_json()["helpful"] is True
    assert client.post("/articles/alpha/feedback", data={}).status_code == 400
    assert client.post("/articles/missing/feedback", data={"helpful": "yes"}).status_code == 404


def test_one_standing_vote_per_visitor_and_article(app, client, article):
    from portal.tracking.models import Vote

    client.get("/api/articles/alpha")
    for helpful in (True, False, True):
        assert client.post("/api/articles/alpha/feedback", json={"helpful": helpful}).status_code == 201
    assert [v.helpful for v in rows(app, Vote)] == [True]


@pytest.mark.parametrize("body, field", [
    ({}, "helpful"), ({"helpful": "yes"}, "helpful"), ({"helpful": True, "solved": 1}, "solved"),
    ({"helpful": True, "query": 5}, "query"), ({"helpful": False, "reason": "x" * 501}, "reason"),
])
def test_feedback_api_rejects_bad_bodies_with_the_field(client, article, body, field):
    resp = client.post("/api/articles/alpha/feedback", json=body)
    assert resp.status_code == 400 and field in resp.get_json()["fields"]


def test_feedback_api_needs_json_and_a_published_article(client, article):
    resp = client.post("/api/articles/alpha/feedback", data="helpful=true",
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert 400 <= resp.status_code < 500 and "error" in resp.get_json()
    resp = client.post("/api/articles/missing/feedback", json={"helpful": True})
    assert resp.status_code == 404 and resp.get_json()["fields"]


@pytest.mark.parametrize("agent", ["Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
                                   "python-requests/2.32.3", ""])
def test_scripted_clients_are_left_out_of_the_figures(app, client, article, agent):
    from portal.models import Article
    from portal.tracking.integrity import AUTOMATED
    from portal.tracking.models import Event, QueryDay, Visit

    bot = {"User-Agent": agent}
    client.get("/", headers=bot)
    client.get("/articles/alpha", headers=bot)
    client.get("/api/search", query_string={"q": "planted query"}, headers=bot)
    resp = client.post("/api/articles/alpha/feedback", json={"helpful": True}, headers=bot)
    assert resp.status_code == 201
    assert sorted(e.kind for e in rows(app, Event))[-2:] == ["search", "view"]
    (visit,) = rows(app, Visit)
    assert visit.flags & AUTOMATED
    assert [q for q in rows(app, QueryDay) if q.searches] == []  # no planted query in the search report
    assert [a.views for a in rows(app, Article)] == [0]  # nor in the popular articles


def test_a_recording_failure_never_breaks_the_page(app, client, article, monkeypatch, caplog):
    import portal.tracking as tracking

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(tracking, "record_events", broken)
    monkeypatch.setattr("portal.tracking.buffer.record_batch", broken)  # views are written in batches
    with caplog.at_level(logging.ERROR):
        assert client.get("/articles/alpha").status_code == 200
        assert client.get("/api/articles/alpha").status_code == 200
    assert "could not record" in caplog.text
    assert client.post("/api/articles/alpha/feedback", json={"helpful": True}).status_code == 503


def test_visit_context_for_tickets(app, client, article):
    from portal import tracking

    client.get("/articles/alpha?q=reset&pos=2")
    client.post("/api/articles/alpha/feedback", json={"helpful": False, "reason": "old"})
    with as_visitor(app, cookie_visitor(client)):
        context = tracking.visit_context()
    assert context["articles"] == ["alpha"]
    assert context["article_titles"] == {"alpha": "Reset your password"}
    assert context["votes"][0]["helpful"] is False


def test_dashboard_needs_a_lead(client, login):
    assert client.get("/leads/").status_code == 302
    login("agent")
    assert client.get("/leads/").status_code == 403


def test_dashboard_pages_and_every_csv(app, client, login, article):
    client.get("/articles/alpha?q=reset&pos=1")
    client.post("/api/articles/alpha/feedback", json={"helpful": False})
    login("lead")
    page = client.get("/leads/")
    assert page.status_code == 200 and b"Self-service ratio" in page.data
    assert b"Invalid period" in client.get("/leads/?from=nope").data
    for grain in ("day", "week", "month"):
        assert client.get(f"/leads/?grain={grain}&from=2025-01-01&to=2025-12-31").status_code == 200
    from portal.views.leads import export_names

    for table in export_names():
        resp = client.get(f"/leads/export/{table}.csv")
        assert resp.status_code == 200 and resp.mimetype == "text/csv", table
        assert resp.get_data(as_text=True).count("\n") >= 1
    assert client.get("/leads/export/nothing.csv").status_code == 404
    gaps = client.get("/leads/gaps")
    assert gaps.status_code == 200 and b"Content gaps" in gaps.data


def test_gaps_page_groups_failed_queries(app, client, login):
    from portal import tracking

    for query, results in (("reset password", 0), ("reset my password", 0), ("fattura elettronica", 0)):
        with as_visitor(app, "visitor-gaps-0000000"):
            tracking.record_search(query, results, mode="hybrid")
    login("lead")
    page = client.get("/leads/gaps").get_data(as_text=True)
    assert page.count("data-gap-size") == 2
    csv = client.get("/leads/export/gaps.csv").get_data(as_text=True)
    assert "reset password,2,2,no_result" in csv


def test_csv_cells_cannot_run_formulas(app, client, login):
    from portal import tracking

    with as_visitor(app, "visitor-csv-00000000"):
        tracking.record_search("=HYPERLINK(1)", 0)
    login("lead")
    csv = client.get("/leads/export/top-queries.csv").get_data(as_text=True)
    assert "'=hyperlink(1)" in csv
