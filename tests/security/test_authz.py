"""Authorization beyond the role x route table: tickets by token only, agents do not publish,
writers do not read tickets, API tokens are stored hashed and can be revoked."""
import hashlib

import pytest
from sqlalchemy import select


def _needs(app, *endpoints):
    missing = [e for e in endpoints if e not in app.view_functions]
    if missing:
        pytest.skip(f"not registered yet: {', '.join(missing)}")


def _open_ticket(client):
    resp = client.post("/api/tickets", json={"email": "c@example.com", "subject": "My invoice",
                                             "body": "The invoice total looks wrong to me."})
    assert resp.status_code == 201, resp.get_data(as_text=True)
    return resp.get_json()


def _staff_client(app, role):
    from portal import accounts
    from portal.db import get_session

    email = f"{role}@example.com"
    with app.app_context():
        accounts.create_user(get_session(), accounts.NewUser(email, role, "Amber-Falcon-Ledger-91"))
    client = app.test_client()
    assert client.post("/auth/login", data={"email": email, "password": "Amber-Falcon-Ledger-91"}).status_code == 302
    return client


def test_a_ticket_page_opens_only_with_its_token(app, client):
    _needs(app, "tickets_api.create", "tickets.status")
    from urllib.parse import urlsplit

    from portal.db import get_session
    from ticketing.models import Ticket

    created = _open_ticket(client)
    path = urlsplit(created["url"]).path
    stranger = app.test_client()
    page = stranger.get(path)
    assert page.status_code == 200 and b"My invoice" in page.data
    with app.app_context():
        ticket = get_session().get(Ticket, created["id"])
        token = ticket.access_token
    assert len(token) >= 22, "the token must be unguessable"
    for guess in (created["reference"], str(created["id"]), token[:-1], token[:-1] + ("A" if token[-1] != "A" else "B"),
                  token.upper() if token.upper() != token else token.lower()):
        assert stranger.get(f"/tickets/s/{guess}").status_code == 404, guess
        assert stranger.get(f"/api/tickets/status/{guess}").status_code == 404, guess
    # Staff pages by id need a login; a customer never gets one.
    resp = stranger.get(f"/agent/tickets/{created['id']}")
    assert resp.status_code in (302, 401, 403) and b"My invoice" not in resp.data
    # The private page is not cached by shared caches nor leaked in the Referer.
    assert "no-store" in page.headers.get("Cache-Control", "") or "private" in page.headers.get("Cache-Control", "")
    assert page.headers.get("Referrer-Policy") in ("same-origin", "no-referrer", "strict-origin")


def test_a_ticket_page_cannot_post_for_another_token(app, client):
    _needs(app, "tickets_api.create", "tickets.reply")
    _open_ticket(client)
    resp = app.test_client().post("/tickets/s/not-a-real-token/reply", data={"body": "hello there, reopening"})
    assert resp.status_code == 404


def test_an_agent_cannot_publish(app, client, runner, make_article):
    _needs(app, "writers.change_status", "writers.dashboard")
    from portal.db import get_session
    from portal.models import Article

    path = make_article("en-draft", title="Draft", locale="en", status="review")
    assert runner.invoke(args=["import", str(path.parent)]).exit_code == 0
    with app.app_context():
        art = get_session().scalar(select(Article).where(Article.slug == "en-draft"))
        art_id, version = art.id, art.version
    agent = _staff_client(app, "agent")
    assert agent.get("/write/").status_code == 403
    resp = agent.post(f"/write/{art_id}/status", data={"action": "publish", "version": version})
    assert resp.status_code == 403
    with app.app_context():
        assert get_session().get(Article, art_id).status == "review"
    assert client.get("/articles/en-draft").status_code == 404


def test_a_writer_cannot_read_tickets(app, client):
    _needs(app, "tickets_api.create", "agents.queue", "agents.ticket_page")
    created = _open_ticket(client)
    writer = _staff_client(app, "writer")
    assert writer.get("/agent/").status_code == 403
    resp = writer.get(f"/agent/tickets/{created['id']}")
    assert resp.status_code == 403 and b"My invoice" not in resp.data
    resp = writer.post(f"/agent/tickets/{created['id']}/reply", data={"body": "hi", "internal": "0", "version": 1})
    assert resp.status_code == 403
    assert writer.get("/api/metrics/tickets").status_code == 403


def test_api_tokens_are_stored_hashed(app):
    from portal import accounts
    from portal.db import get_session
    from portal.models import ApiToken

    with app.app_context():
        session = get_session()
        accounts.create_user(session, accounts.NewUser("lead@example.com", "lead", "Amber-Falcon-Ledger-91"))
        token = accounts.create_token(session, "lead@example.com")
        rows = session.scalars(select(ApiToken)).all()
    assert len(rows) == 1
    assert rows[0].token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str([(r.token_hash, r.name) for r in rows])


def test_revoked_tokens_stop_working(app, runner):
    from portal import accounts
    from portal.db import get_session

    with app.app_context():
        accounts.create_user(get_session(), accounts.NewUser("lead@example.com", "lead", "Amber-Falcon-Ledger-91"))
    token = runner.invoke(args=["token", "create", "--email", "lead@example.com"]).output.strip()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/metrics/self-service", headers=headers).status_code == 200
    result = runner.invoke(args=["token", "revoke", "--email", "lead@example.com"])
    assert result.exit_code == 0 and "revoked 1" in result.output
    resp = client.get("/api/metrics/self-service", headers=headers)
    assert resp.status_code == 401 and resp.is_json


def test_tokens_carry_their_role(app, runner):
    from portal import accounts
    from portal.db import get_session

    with app.app_context():
        accounts.create_user(get_session(), accounts.NewUser("agent@example.com", "agent", "Amber-Falcon-Ledger-91"))
        token = accounts.create_token(get_session(), "agent@example.com")
    client = app.test_client()
    resp = client.get("/api/metrics/self-service", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 403 and resp.is_json
    assert client.get("/api/metrics/self-service", headers={"Authorization": "Bearer sp_forged"}).status_code == 401
    assert client.get("/api/metrics/self-service").status_code == 401
