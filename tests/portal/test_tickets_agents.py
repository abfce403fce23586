"""The agents' side over HTTP: roles, the queue, collisions, presence, canned responses, links."""
import re

import pytest

from tests.portal.tickets_helpers import T0, Clock, staff_client, ticket, version_in


def open_ticket(client, subject="Non riesco ad accedere", body="Il login rimanda sempre alla home.", **extra):
    resp = client.post("/api/tickets", json={"email": "cliente@example.com", "subject": subject, "body": body, **extra})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


@pytest.mark.parametrize("role,queue,kpis,canned_new", [
    (None, 302, 302, 302), ("writer", 403, 403, 403), ("agent", 200, 403, 403),
    ("lead", 200, 200, 200), ("admin", 200, 200, 200)])
def test_role_checks(app, client, role, queue, kpis, canned_new):
    open_ticket(client)
    c = staff_client(app, role) if role else app.test_client()
    assert c.get("/agent/").status_code == queue
    assert c.get("/agent/tickets/1").status_code == queue
    assert c.post("/agent/tickets/1/claim", data={"version": 1}).status_code in ((302,) if queue == 200 else (queue,))
    assert c.get("/agent/kpis/").status_code == kpis
    assert c.get("/agent/kpis/export.csv").status_code == kpis
    assert c.get("/agent/canned/new").status_code == canned_new


def test_queue_views_filters_and_counts(app, client):
    clock = Clock(T0)
    app.extensions["sportello.clock"] = clock
    open_ticket(client, subject="Domanda semplice")                                    # normal: 8 h
    open_ticket(client, subject="Il sito è down", body="Non si apre nessuna pagina da stamattina.")  # urgent: 1 h
    open_ticket(client, subject="Errore al salvataggio", body="Compare un errore ogni volta.", category="technical")
    ann = staff_client(app, "agent", email="ann@example.com", name="Ann")
    page = ann.get("/agent/tickets/3")
    ann.post("/agent/tickets/3/claim", data={"version": version_in(page.text)})
    clock.advance(minutes=10)
    html = ann.get("/agent/").text
    counts = dict(re.findall(r'\?view=(\w+)"[^>]*>[^<]*<span class="count">(\d+)</span>', html))
    assert counts == {"active": "3", "unassigned": "2", "mine": "1", "soon": "1", "breached": "0"}
    # Sorted by SLA due time: the urgent ticket first.
    refs = re.findall(r'>(SP-\d{4}-\d{6})</a>', html)
    assert refs[0].endswith("000002")
    l2 = ann.get("/agent/?group=L2").text
    assert "SP-2026-000003" in l2 and "SP-2026-000001" not in l2
    assert "SP-2026-000001" not in ann.get("/agent/?priority=urgent").text
    assert "SP-2026-000003" in ann.get("/agent/?assignee=me").text
    assert "SP-2026-000003" not in ann.get("/agent/?view=unassigned").text
    clock.advance(hours=1)
    assert "SP-2026-000002" in ann.get("/agent/?view=breached").text
    # Unknown filter values are ignored, not errors.
    assert ann.get("/agent/?status=bogus&sort=x&page=-4&assignee=<script>").status_code == 200


def test_two_agents_at_once_lose_nothing(app, client):
    open_ticket(client)
    ann = staff_client(app, "agent", email="ann@example.com", name="Ann")
    bob = staff_client(app, "agent", email="bob@example.com", name="Bob")
    page_ann = ann.get("/agent/tickets/1")
    page_bob = bob.get("/agent/tickets/1")
    assert version_in(page_ann.text) == version_in(page_bob.text) == 1
    # Both see each other.
    assert "Ann" in bob.post("/agent/tickets/1/presence", json={"composing": True}).get_json()["viewers"][0]["name"]
    ping = ann.post("/agent/tickets/1/presence", json={}).get_json()
    assert ping["viewers"] == [{"id": ping["viewers"][0]["id"], "name": "Bob", "composing": True,
                                "seen_at": ping["viewers"][0]["seen_at"]}]
    # Ann sends first.
    resp = ann.post("/agent/tickets/1/reply", data={"body": "Risposta di Ann: prova a riavviare.", "internal": "0",
                                                    "status": "", "version": 1})
    assert resp.status_code == 302
    # Bob sends on the page he opened: a clear conflict, his text still in the box, nothing saved.
    resp = bob.post("/agent/tickets/1/reply", data={"body": "Risposta di Bob: svuota la cache.", "internal": "0",
                                                    "status": "", "version": 1})
    assert resp.status_code == 409
    html = resp.text
    assert "Someone else changed this ticket" in html
    assert "Risposta di Ann: prova a riavviare." in html and "Ann" in html
    assert re.search(r'<textarea[^>]*name="body"[^>]*>\s*Risposta di Bob: svuota la cache.</textarea>', html)
    assert version_in(html) == 2
    assert [m.author_name for m in ticket(app, 1).messages if m.kind == "reply"] == ["Ann"]
    # Sent again after reading the change: both replies are kept.
    assert bob.post("/agent/tickets/1/reply", data={"body": "Risposta di Bob: svuota la cache.", "internal": "0",
                                                    "status": "", "version": version_in(html)}).status_code == 302
    t = ticket(app, 1)
    assert [m.author_name for m in t.messages if m.kind == "reply"] == ["Ann", "Bob"] and t.version == 3


def test_claim_collision(app, client):
    open_ticket(client)
    ann = staff_client(app, "agent", email="ann@example.com", name="Ann")
    bob = staff_client(app, "agent", email="bob@example.com", name="Bob")
    v = version_in(ann.get("/agent/tickets/1").text)
    bob.get("/agent/tickets/1")
    assert ann.post("/agent/tickets/1/claim", data={"version": v}).status_code == 302
    resp = bob.post("/agent/tickets/1/claim", data={"version": v})
    assert resp.status_code == 409 and "claimed by Ann" in resp.text
    assert ticket(app, 1).assignee_id is not None
    assert "Take over" in resp.text


def test_update_and_escalate(app, client):
    open_ticket(client)
    lead = staff_client(app, "lead", name="Lea")
    page = lead.get("/agent/tickets/1")
    resp = lead.post("/agent/tickets/1/update", data={"status": "open", "priority": "urgent", "group": "L1",
                                                      "assignee": "", "version": version_in(page.text)})
    assert resp.status_code == 302
    t = ticket(app, 1)
    assert (t.status, t.priority) == ("open", "urgent")
    page = lead.get("/agent/tickets/1")
    resp = lead.post("/agent/tickets/1/escalate", data={"group": "L2", "reason": "", "version": version_in(page.text)})
    assert resp.status_code == 400
    resp = lead.post("/agent/tickets/1/escalate", data={"group": "L2", "reason": "Serve il team prodotto",
                                                        "version": version_in(page.text)})
    assert resp.status_code == 302
    t = ticket(app, 1)
    assert t.group == "L2" and t.escalations == 1
    assert "escalated L1 → L2: Serve il team prodotto" in lead.get("/agent/tickets/1").text
    resp = lead.post("/agent/tickets/1/update", data={"status": "closed", "priority": "urgent", "group": "L2",
                                                      "assignee": "", "version": t.version})
    assert resp.status_code == 400  # open -> closed is not a transition


def test_canned_responses_and_article_links(app, client, make_article):
    from portal.db import get_session
    from portal.importer import import_paths

    path = make_article("it-reset-password", title="Reimpostare la password")
    with app.app_context():
        import_paths(get_session(), [str(path.parent)], app.config["LOCALES"])
        get_session().commit()
    open_ticket(client, subject="Password dimenticata", body="Non ricordo la password del mio account.",
                name="Carla")
    lead = staff_client(app, "lead", name="Lea")
    resp = lead.post("/agent/canned/new", data={
        "title": "Reset password", "locale": "",
        "body": "Ciao {customer_name}, per {reference} segui {article_link:it-reset-password}. {unknown}"})
    assert resp.status_code == 302
    agent = staff_client(app, "agent", name="Ann")
    assert agent.post("/agent/canned/new", data={"title": "x", "body": "y"}).status_code == 403
    assert "Reset password" in agent.get("/agent/canned").text
    page = agent.get("/agent/tickets/1").text
    filled = re.search(r'<template id="canned-\d+">(.*?)</template>', page, re.S).group(1)
    assert "Ciao Carla, per SP-2026-000001 segui [Reimpostare la password](http" in filled
    assert "/articles/it-reset-password)" in filled and "{unknown}" in filled
    # The suggested article comes with a one-click insert button.
    assert 'class="link insert-article" data-title="Reimpostare la password"' in page
    body = "Ecco la guida: [Reimpostare la password](http://localhost/articles/it-reset-password)"
    resp = agent.post("/agent/tickets/1/reply", data={"body": body, "internal": "0", "status": "pending",
                                                      "version": version_in(page)})
    assert resp.status_code == 302
    t = ticket(app, 1)
    assert t.article_links == 1 and t.messages[-1].articles == ["it-reset-password"]
    # A link to an article that does not exist is not counted.
    page = agent.get("/agent/tickets/1").text
    agent.post("/agent/tickets/1/reply", data={"body": "vedi /articles/nope", "internal": "0", "status": "",
                                               "version": version_in(page)})
    assert ticket(app, 1).article_links == 1
    # Leads can delete.
    cid = int(re.search(r"/agent/canned/(\d+)/edit", lead.get("/agent/canned").text).group(1))
    assert lead.post(f"/agent/canned/{cid}/delete").status_code == 302
    assert "Reset password" not in lead.get("/agent/canned").text


def test_presence_expires(app, client):
    clock = Clock(T0)
    app.extensions["sportello.clock"] = clock
    open_ticket(client)
    ann = staff_client(app, "agent", email="ann@example.com", name="Ann")
    bob = staff_client(app, "agent", email="bob@example.com", name="Bob")
    ann.get("/agent/tickets/1")
    assert "Ann" in bob.get("/agent/tickets/1").text.split('id="presence"')[1][:300]
    clock.advance(seconds=60)
    assert bob.post("/agent/tickets/1/presence", json={}).get_json()["viewers"] == []
    ann.post("/agent/tickets/1/presence", json={"leaving": True})
    assert bob.post("/agent/tickets/1/presence", json={}).get_json()["viewers"] == []


def test_unknown_ticket_is_404(app):
    agent = staff_client(app, "agent")
    assert agent.get("/agent/tickets/999").status_code == 404
    assert agent.post("/agent/tickets/999/reply", data={"body": "x", "version": 1}).status_code == 404
