"""The customer's side over HTTP: from a failed search to a ticket, its status page and rating."""
import re

import pytest

from tests.portal.tickets_helpers import staff_client, ticket, version_in


def test_escalate_from_failed_search_and_follow_to_rating(app, client):
    query = "stampante laser inceppata carta"
    if "search.api_search" in app.view_functions:
        resp = client.get("/api/search", query_string={"q": query})
        assert resp.status_code == 200
    # "Still need help?" leads to the form, prefilled with the last query.
    resp = client.get("/tickets/new", query_string={"q": query})
    assert resp.status_code == 200
    assert f'value="{query}"' in resp.text  # subject and the hidden q
    resp = client.post("/tickets/new", data={
        "email": "giulia@example.com", "name": "Giulia", "category": "technical", "subject": query,
        "body": "La stampante si blocca a metà pagina, ho già provato a riavviarla.", "q": query})
    assert resp.status_code == 302
    status_url = resp.headers["Location"]
    assert re.fullmatch(r"/tickets/s/[A-Za-z0-9_-]{40,}", status_url)
    page = client.get(status_url)
    reference = re.search(r"SP-\d{4}-\d{6}", page.text).group(0)
    assert "La stampante si blocca" in page.text and "How did we do?" not in page.text
    t = ticket(app, reference=reference)
    assert t.context["queries"][-1] == query and t.context["query"] == query and t.locale == "en"
    assert str(t.id) not in status_url.rsplit("/", 1)[1] or len(status_url.rsplit("/", 1)[1]) > 40

    # An agent sees it in the queue with what the customer already tried, claims it and solves it.
    agent = staff_client(app, "agent", name="Paolo")
    queue = agent.get("/agent/", query_string={"view": "unassigned"})
    assert reference in queue.text
    page = agent.get(f"/agent/tickets/{t.id}")
    assert "Already tried" in page.text and query in page.text
    assert agent.post(f"/agent/tickets/{t.id}/claim", data={"version": version_in(page.text)}).status_code == 302
    page = agent.get(f"/agent/tickets/{t.id}")
    resp = agent.post(f"/agent/tickets/{t.id}/reply", data={
        "body": "Apri il coperchio e togli il foglio inceppato.", "internal": "0", "status": "solved",
        "version": version_in(page.text)})
    assert resp.status_code == 302

    # The customer reads the reply and rates the help.
    page = client.get(status_url)
    assert "Apri il coperchio" in page.text and "How did we do?" in page.text
    resp = client.post(status_url + "/rate", data={"csat": "5", "nps": "9"})
    assert resp.status_code == 302
    page = client.get(status_url)
    assert "you rated this help 5 out of 5" in page.text and "How did we do?" not in page.text
    t = ticket(app, t.id)
    assert (t.status, t.csat, t.nps, t.agent_replies) == ("solved", 5, 9, 1)
    from portal.db import get_session
    from ticketing.models import Outbox

    with app.app_context():
        kinds = [o.kind for o in get_session().query(Outbox).filter_by(ticket_id=t.id).order_by(Outbox.id)]
    assert kinds == ["received", "solved"]


def test_form_errors_keep_everything_typed(client):
    resp = client.post("/tickets/new", data={"email": "not-an-email", "name": "Anna", "category": "billing",
                                             "subject": "Fa", "body": "Il mio testo lungo e dettagliato", "q": "fattura"})
    assert resp.status_code == 400
    html = resp.text
    assert "Enter a valid email address" in html and "The subject needs between 3 and 200" in html
    for typed in ('value="not-an-email"', 'value="Anna"', 'value="Fa"', "Il mio testo lungo e dettagliato",
                  '<option value="billing" selected'):
        assert typed in html
    assert 'aria-invalid="true"' in html


def test_prefill_from_article(app, client, make_article):
    from portal.importer import import_paths
    from portal.db import get_session

    path = make_article("it-reset-password", title="Reimpostare la password")
    with app.app_context():
        import_paths(get_session(), [str(path.parent)], app.config["LOCALES"])
        get_session().commit()
    resp = client.get("/tickets/new", query_string={"article": "it-reset-password"})
    assert 'name="article" type="hidden" value="it-reset-password"' in resp.text
    resp = client.post("/tickets/new", data={"email": "a@example.com", "subject": "Password", "category": "account",
                                             "body": "Il link di reset non arriva mai.", "article": "it-reset-password"})
    t = ticket(app, 1)
    assert t.context["articles"][-1] == {"slug": "it-reset-password", "title": "Reimpostare la password"}
    page = client.get("/articles/it-reset-password")
    assert "Still need help?" in page.text and "/tickets/new?" in page.text


def test_status_page_is_private(app, client):
    resp = client.post("/api/tickets", json={"email": "a@example.com", "subject": "Oggetto",
                                             "body": "Descrizione abbastanza lunga"})
    url = resp.get_json()["url"]
    path = url[url.index("/tickets/s/"):]
    page = client.get(path)
    assert page.headers["Cache-Control"] == "no-store" and page.headers["Referrer-Policy"] == "no-referrer"
    assert "noindex" in page.headers["X-Robots-Tag"]
    assert client.get("/tickets/s/" + "A" * 43).status_code == 404
    assert client.get("/tickets/s/1").status_code == 404
    # Internal notes never reach the customer.
    agent = staff_client(app, "agent")
    page_a = agent.get("/agent/tickets/1")
    agent.post("/agent/tickets/1/reply", data={"body": "Nota segreta per il team", "internal": "1", "status": "",
                                               "version": version_in(page_a.text)})
    assert "Nota segreta" not in client.get(path).text
    assert "Nota segreta" not in client.get("/api/tickets/status/" + path.rsplit("/", 1)[1]).text


def test_customer_reply_reopens_and_closed_refuses(app, client):
    from portal.db import get_session
    from ticketing import service

    url = client.post("/api/tickets", json={"email": "a@example.com", "subject": "Oggetto",
                                            "body": "Descrizione abbastanza lunga"}).get_json()["url"]
    path = url[url.index("/tickets/s/"):]
    with app.app_context():
        service.agent_message(get_session(), service.AgentMessage(1, service.Actor(9, "Ann"), "Fatto", 1,
                                                                  status="solved"))
    assert client.post(path + "/reply", data={"body": "Non funziona ancora"}).status_code == 302
    assert ticket(app, 1).status == "open"
    with app.app_context():
        t = service.get_ticket(get_session(), 1)
        service.change(get_session(), service.TicketChange(1, service.Actor(9, "Ann"), t.version, status="solved"))
        t = service.get_ticket(get_session(), 1)
        service.change(get_session(), service.TicketChange(1, service.Actor(9, "Ann"), t.version, status="closed"))
    resp = client.post(path + "/reply", data={"body": "Ehi?"})
    assert resp.status_code == 400 and "closed" in resp.text
    assert "Open a new request" in client.get(path).text


def test_rating_validation(app, client):
    from portal.db import get_session
    from ticketing import service

    url = client.post("/api/tickets", json={"email": "a@example.com", "subject": "Oggetto",
                                            "body": "Descrizione abbastanza lunga"}).get_json()["url"]
    path = url[url.index("/tickets/s/"):]
    assert client.post(path + "/rate", data={"csat": "5"}).status_code == 400  # not solved yet
    with app.app_context():
        service.agent_message(get_session(), service.AgentMessage(1, service.Actor(9, "Ann"), "Fatto", 1,
                                                                  status="solved"))
    assert client.post(path + "/rate", data={"csat": "7"}).status_code == 400
    assert client.post(path + "/rate", data={"nps": "10"}).status_code == 302
    assert client.post(path + "/rate", data={"csat": "2"}).status_code == 302  # CSAT still open
    t = ticket(app, 1)
    assert (t.csat, t.nps) == (2, 10)


class TestApi:
    def test_created(self, app, client):
        resp = client.post("/api/tickets", json={"email": "b@example.com", "subject": "Fattura errata",
                                                 "body": "La fattura di marzo ha un importo sbagliato.",
                                                 "query": "fattura sbagliata", "article": "it-nope"})
        assert resp.status_code == 201
        data = resp.get_json()
        assert set(data) == {"id", "reference", "status", "url"}
        assert data["status"] == "new" and re.fullmatch(r"SP-\d{4}-\d{6}", data["reference"])
        assert data["url"].startswith("http") and "/tickets/s/" in data["url"]
        assert client.get(data["url"][data["url"].index("/tickets/s/"):]).status_code == 200
        t = ticket(app, data["id"])
        assert t.source == "api" and t.context["query"] == "fattura sbagliata"

    def test_field_errors(self, client):
        resp = client.post("/api/tickets", json={"email": "nope", "subject": "", "body": "x"})
        assert resp.status_code == 422
        body = resp.get_json()
        assert body["error"] and set(body["fields"]) == {"email", "subject", "body"}

    def test_wrong_types_and_bodies(self, client):
        resp = client.post("/api/tickets", json={"email": ["a"], "subject": "Oggetto", "body": "Descrizione lunga"})
        assert resp.status_code == 400 and resp.get_json()["fields"] == {"email": "must be a string"}
        assert client.post("/api/tickets", json=["x"]).status_code == 400
        resp = client.post("/api/tickets", data="email=a", content_type="application/x-www-form-urlencoded")
        assert resp.status_code in (400, 415) and "error" in resp.get_json()


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
def test_csrf_on_the_form_but_not_on_the_json_api(client):
    resp = client.post("/tickets/new", data={"email": "a@example.com", "subject": "Oggetto",
                                             "body": "Descrizione abbastanza lunga"})
    assert resp.status_code == 400
    resp = client.post("/api/tickets", json={"email": "a@example.com", "subject": "Oggetto",
                                             "body": "Descrizione abbastanza lunga"})
    assert resp.status_code == 201
