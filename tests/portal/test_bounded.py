"""Bounded work per request: markdown rendered once when written and stored, a time bound on every
render of text from a form or a file, caps on the text fields, YAML aliases refused."""
import time

import pytest

from portal import content
from tests.portal.tickets_helpers import staff_client, ticket, version_in

SLOW = "[a](" * 5000  # quadratic in python-markdown: seconds for 20,000 characters
TICKET = {"email": "ana@example.com", "subject": "The invoice is wrong",
          "body": "The amount on my last invoice does not match the order."}


@pytest.fixture
def quick_bound(monkeypatch):
    """A short render bound, so that the slow input is cut off fast."""
    monkeypatch.setattr(content, "RENDER_SECONDS", 0.5)


def _open_ticket(client):
    resp = client.post("/api/tickets", json=TICKET)
    assert resp.status_code == 201
    return resp.get_json()


def test_an_agents_reply_is_rendered_once_and_stored(app, client, monkeypatch):
    created = _open_ticket(client)
    agent = staff_client(app, "agent")
    page = agent.get(f"/agent/tickets/{created['id']}").get_data(as_text=True)
    resp = agent.post(f"/agent/tickets/{created['id']}/reply",
                      data={"body": "See **this** article.", "internal": "0", "version": version_in(page)})
    assert resp.status_code == 302
    (reply,) = [m for m in ticket(app, created["id"]).messages if m.kind == "reply"]
    assert "<strong>this</strong>" in reply.html

    def no_rendering(*args, **kwargs):
        raise AssertionError("a view rendered markdown")

    monkeypatch.setattr(content, "render_markdown", no_rendering)
    monkeypatch.setattr(content, "render_bounded", no_rendering)
    status = client.get(created["url"].replace("http://localhost", "")).get_data(as_text=True)
    assert "<strong>this</strong>" in status


def test_a_reply_that_renders_too_slowly_is_refused_with_the_field(app, client, quick_bound):
    created = _open_ticket(client)
    agent = staff_client(app, "agent")
    page = agent.get(f"/agent/tickets/{created['id']}").get_data(as_text=True)
    started = time.monotonic()
    resp = agent.post(f"/agent/tickets/{created['id']}/reply",
                      data={"body": SLOW, "internal": "0", "version": version_in(page)})
    assert resp.status_code == 400 and "takes too long to display" in resp.get_data(as_text=True)
    assert time.monotonic() - started < 5
    assert [m.kind for m in ticket(app, created["id"]).messages] == ["customer"]


def test_an_old_message_without_html_is_rendered_once_per_process(app, client, monkeypatch):
    from portal.db import get_session
    from ticketing.models import Message

    created = _open_ticket(client)
    with app.app_context():
        session = get_session()
        session.add(Message(ticket_id=created["id"], kind="reply", author_name="Old", body="An *old* reply.",
                            html="", version=1))
        session.commit()
    url = created["url"].replace("http://localhost", "")
    assert "<em>old</em>" in client.get(url).get_data(as_text=True)
    calls = []
    monkeypatch.setattr(content, "render_markdown", lambda body: calls.append(body) or ("x", ""))
    assert "<em>old</em>" in client.get(url).get_data(as_text=True) and calls == []


def test_the_preview_is_bounded_in_size_and_time(app, client, login, quick_bound, monkeypatch):
    from portal.views import writers

    monkeypatch.setattr(writers, "PREVIEW_SECONDS", 0.5)
    login("writer")
    resp = client.post("/write/preview", json={"body": "x" * (content.MAX_BODY + 1)})
    assert resp.status_code == 400 and "body" in resp.get_json()["fields"]
    started = time.monotonic()
    resp = client.post("/write/preview", json={"body": SLOW})
    assert resp.status_code == 422 and "body" in resp.get_json()["fields"]
    assert time.monotonic() - started < 5
    assert "<strong>ok</strong>" in client.post("/write/preview", json={"body": "**ok** " * 500}).get_json()["html"]


def test_an_article_that_renders_too_slowly_is_refused_on_the_body(app, client, login, quick_bound):
    from tests.writers.conftest import form

    login("writer")
    resp = client.post("/write/new", data=form(body=SLOW))
    assert resp.status_code == 400 and "takes more than" in resp.get_data(as_text=True)


def test_yaml_aliases_are_refused_on_import_with_the_path(app, runner, tmp_path):
    folder = tmp_path / "kb"
    folder.mkdir()
    bomb = "\n".join([
        "---", "title: Bomb", "slug: bomb", "locale: en",
        'a: &a ["x","x","x","x","x","x","x","x","x"]',
        "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]",
        "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]",
        "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]",
        "e: [*d,*d,*d,*d,*d,*d,*d,*d,*d]", "---", "# Bomb", "", "Text."])
    (folder / "bomb.md").write_text(bomb)
    started = time.monotonic()
    result = runner.invoke(args=["import", str(folder)])
    assert result.exit_code == 1 and "bomb.md" in result.output and "aliases" in result.output
    assert time.monotonic() - started < 5


def test_an_imported_article_that_renders_too_slowly_fails_alone(app, runner, tmp_path, quick_bound):
    folder = tmp_path / "kb"
    folder.mkdir()
    (folder / "slow.md").write_text(f"---\ntitle: Slow\nslug: slow\nlocale: en\n---\n{SLOW}\n")
    (folder / "fine.md").write_text("---\ntitle: Fine\nslug: fine\nlocale: en\n---\nFine text.\n")
    result = runner.invoke(args=["import", str(folder)])
    assert result.exit_code == 1 and "slow.md" in result.output and "1 created" in result.output


@pytest.mark.parametrize("field, value", [("subject", "s" * 201), ("body", "b" * 10_001), ("name", "n" * 201)])
def test_ticket_fields_are_capped(client, field, value):
    resp = client.post("/api/tickets", json={**TICKET, field: value})
    assert resp.status_code == 422 and field in resp.get_json()["fields"]
