"""XSS corpus: every payload, through every place user text reaches a page, must stay inert.

Surfaces: article titles, tags, summaries and bodies (import and the writers' editor), search
queries and snippets, ticket subjects, bodies and replies, and the leads' pages that show what
customers typed. A surface whose area is not installed is skipped, with the reason."""
import json
from urllib.parse import urlsplit

import pytest

from tests.security.htmlcheck import assert_inert
from tests.security.payloads import PAYLOADS

TITLE_PAYLOADS = [p for p in PAYLOADS if len(p) <= 300]


def _needs(app, *endpoints):
    missing = [e for e in endpoints if e not in app.view_functions]
    if missing:
        pytest.skip(f"not registered yet: {', '.join(missing)}")


def _get_html(client, url, where=None):
    resp = client.get(url, follow_redirects=True)
    assert resp.status_code < 500, (url, resp.status_code)
    if resp.mimetype == "text/html":
        assert_inert(resp.get_data(as_text=True), where or url)
    return resp


def _assert_json_safe(resp, where):
    """JSON answers are not HTML: they must say so, so that no browser sniffs them into a page."""
    assert resp.mimetype == "application/json", where
    assert resp.headers.get("X-Content-Type-Options") == "nosniff", where


def _import_payload_articles(app, runner, tmp_path):
    from portal.content import ArticleData, dump_article

    folder = tmp_path / "xss"
    folder.mkdir()
    body = "# Payloads\n\nzebrafish payload corpus\n\n" + "\n\n".join(PAYLOADS)
    articles = [ArticleData(title=f"Zebrafish {p}", slug=f"xss-{i}", locale="en", category="xss",
                            body=f"zebrafish {p}\n\n{body}", tags=(p[:60], "zebrafish"), summary=p,
                            concept="xss")
                for i, p in enumerate(TITLE_PAYLOADS)]
    for data in articles:
        (folder / f"{data.slug}.md").write_text(dump_article(data), encoding="utf-8")
    result = runner.invoke(args=["import", str(folder)])
    assert result.exit_code == 0, result.output
    _reindex(app, runner)
    return [a.slug for a in articles]


def _reindex(app, runner):
    if "reindex" in app.cli.commands:
        result = runner.invoke(args=["reindex"])
        assert result.exit_code == 0, result.output


def test_article_titles_tags_summaries_and_bodies(app, client, runner, tmp_path):
    slugs = _import_payload_articles(app, runner, tmp_path)
    for url in ("/", "/faq", "/categories/xss", "/?lang=it"):
        _get_html(client, url)
    for slug in slugs:
        _get_html(client, f"/articles/{slug}")
        resp = client.get(f"/api/articles/{slug}")
        assert resp.status_code == 200
        _assert_json_safe(resp, slug)
        assert_inert(resp.get_json()["html"], f"api html of {slug}")


def test_writers_editor_and_history(app, client, runner, tmp_path, login):
    _needs(app, "writers.new", "writers.article", "writers.history")
    login("writer")
    body = "\n\n".join(PAYLOADS)
    for i, payload in enumerate(TITLE_PAYLOADS[:12]):
        form = {"title": payload, "slug": f"w-xss-{i}", "locale": "en", "category": "xss",
                "tags": "zebrafish, " + payload.replace(",", " ")[:100], "concept": "", "source_slug": "",
                "summary": payload, "body": body, "note": payload[:300]}
        resp = client.post("/write/new", data=form)
        assert resp.status_code in (302, 400), resp.status_code
        assert_inert(resp.get_data(as_text=True), f"editor answer for {payload!r}")
        if resp.status_code == 302:
            url = resp.headers["Location"]
            _get_html(client, url)
            _get_html(client, url + "/edit")
            _get_html(client, url + "/history")
    resp = client.post("/write/new", data={**form, "slug": "w-xss-preview", "action": "preview"})
    assert_inert(resp.get_data(as_text=True), "editor preview")
    resp = client.post("/write/preview", json={"body": body})
    assert_inert(resp.get_json()["html"], "live preview")
    for url in ("/write/", "/write/articles", "/write/articles?q=" + PAYLOADS[0]):
        _get_html(client, url)


def test_search_queries_and_snippets(app, client, runner, tmp_path):
    _needs(app, "search.search_page", "search.api_search")
    _import_payload_articles(app, runner, tmp_path)
    for payload in PAYLOADS:
        _get_html(client, "/search?" + _qs(q=payload))
        resp = client.get("/api/search?" + _qs(q=payload))
        _assert_json_safe(resp, payload)
    for query in ("zebrafish", "zebrafish payload corpus", "alert", "script", "onerror img"):
        _get_html(client, "/search?" + _qs(q=query))
        resp = client.get("/api/search?" + _qs(q=query, mode="keyword"))
        data = resp.get_json()
        for hit in data["results"]:
            # The front end may insert snippets as HTML (highlights): they must be inert markup.
            assert_inert(hit["snippet"], f"snippet for {query!r}")
        if data["results"]:
            assert "zebrafish" in json.dumps(data).lower()
    if "search.api_suggest" in app.view_functions:
        for payload in ("Zebrafish <", "Zebrafish <img", PAYLOADS[0]):
            resp = client.get("/api/suggest?" + _qs(q=payload))
            _assert_json_safe(resp, payload)


def _qs(**params):
    from urllib.parse import urlencode

    return urlencode(params)


def test_ticket_subjects_bodies_and_replies(app, client):
    _needs(app, "tickets_api.create", "tickets.status", "tickets.reply", "tickets.new")
    body = "\n\n".join(PAYLOADS)
    urls = []
    for payload in TITLE_PAYLOADS[:12]:
        resp = client.post("/api/tickets", json={"email": "customer@example.com", "subject": f"Help {payload}"[:200],
                                                 "body": body, "query": payload, "name": payload[:200]})
        assert resp.status_code == 201, resp.get_data(as_text=True)
        urls.append(urlsplit(resp.get_json()["url"]).path)
    resp = client.post("/tickets/new", data={"email": "customer@example.com", "subject": PAYLOADS[0], "body": body,
                                             "category": "general", "q": PAYLOADS[1], "article": PAYLOADS[2]},
                       follow_redirects=True)
    assert_inert(resp.get_data(as_text=True), "ticket form answer")
    _get_html(client, "/tickets/new?" + _qs(q=PAYLOADS[5], article=PAYLOADS[6]))
    for url in urls:
        _get_html(client, url)
        resp = client.post(url + "/reply", data={"body": body}, follow_redirects=True)
        assert_inert(resp.get_data(as_text=True), f"customer reply on {url}")
    _needs(app, "agents.queue", "agents.ticket_page", "agents.reply")
    agent = app.test_client()
    _login_as(app, agent, "agent")
    _get_html(agent, "/agent/")
    _get_html(agent, "/agent/?" + _qs(q=PAYLOADS[0]))
    for ticket_id, version in _tickets(app):
        _get_html(agent, f"/agent/tickets/{ticket_id}")
        for internal in ("0", "1"):
            resp = agent.post(f"/agent/tickets/{ticket_id}/reply", follow_redirects=True,
                              data={"body": body, "internal": internal, "status": "", "version": version})
            assert resp.status_code < 500
            assert_inert(resp.get_data(as_text=True), f"agent reply on ticket {ticket_id}")
            version = dict(_tickets(app))[ticket_id]
    assert _message_kinds(app) >= {"customer", "note"}, "the agents' replies were not saved"
    for url in urls:
        _get_html(client, url)  # the agents' replies, as the customer sees them


def _message_kinds(app):
    from sqlalchemy import select

    from portal.db import get_session
    from ticketing.models import Message

    with app.app_context():
        return set(get_session().scalars(select(Message.kind)).all())


def _tickets(app):
    from sqlalchemy import select

    from portal.db import get_session
    from ticketing.models import Ticket

    with app.app_context():
        return get_session().execute(select(Ticket.id, Ticket.version)).all()


def _login_as(app, client, role):
    from sqlalchemy import select

    from portal import accounts
    from portal.db import get_session
    from portal.models import User

    email = f"{role}@example.com"
    with app.app_context():
        if get_session().scalar(select(User).where(User.email == email)) is None:
            accounts.create_user(get_session(), accounts.NewUser(email, role, "Amber-Falcon-Ledger-91"))
    assert client.post("/auth/login", data={"email": email, "password": "Amber-Falcon-Ledger-91"}).status_code == 302


def test_leads_pages_show_customer_queries_inertly(app, client, login):
    _needs(app, "leads.dashboard", "leads.gaps")
    from portal import tracking

    for payload in PAYLOADS:
        with app.test_request_context("/search", headers={"User-Agent": "Mozilla/5.0"}):
            from flask import g

            g.visitor_id = "xssvisitor0000000001"
            g.locale = "en"
            tracking.record_search(payload, 0, mode="hybrid", locale="en")
    login("lead")
    for url in ("/leads/", "/leads/gaps", "/leads/gaps?locale=en"):
        _get_html(client, url)
