"""A ticket and its ticket_opened event commit together: neither is ever stored without the other,
and a failure of the recording never costs the ticket."""
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal.tracking import service as tracking_service
from portal.tracking.models import Event, Visit
from ticketing.models import Ticket

TICKET = {"email": "ana@example.com", "subject": "The invoice is wrong",
          "body": "The amount on my last invoice does not match the order.", "query": "invoice wrong"}


def _counts(app):
    with app.app_context():
        session = app.extensions["sportello.db"]()
        try:
            tickets = session.scalar(select(func.count()).select_from(Ticket))
            events = session.scalars(select(Event).where(Event.kind == "ticket_opened")).all()
            escalated = session.scalar(select(func.count()).select_from(Visit).where(Visit.tickets > 0))
            return tickets, [(e.ticket_ref, e.query) for e in events], escalated
        finally:
            session.close()


def test_the_ticket_and_its_event_are_written_together(app, client):
    client.get("/api/search", query_string={"q": "invoice wrong"})
    resp = client.post("/api/tickets", json=TICKET)
    assert resp.status_code == 201
    tickets, events, escalated = _counts(app)
    assert tickets == 1 and events == [(resp.get_json()["reference"], "invoice wrong")] and escalated == 1


def test_a_failed_commit_stores_neither(app, client, monkeypatch):
    from sqlalchemy.orm import Session

    from portal import tickets as desk

    real_commit, real_create = Session.commit, desk.service.create_ticket

    def commit(session):
        if session.info.get("ticket"):  # the ticket's transaction, with its event already in it
            raise RuntimeError("disk went away")
        return real_commit(session)

    def create(session, data, settings, now=None, also=None):
        def hook(s, ticket):
            also(s, ticket)
            s.info["ticket"] = True
        return real_create(session, data, settings, now=now, also=hook)

    monkeypatch.setattr(Session, "commit", commit)
    monkeypatch.setattr(desk.service, "create_ticket", create)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert client.post("/api/tickets", json=TICKET).status_code == 500
    monkeypatch.undo()
    assert _counts(app) == (0, [], 0)


def test_a_failed_recording_keeps_the_ticket(app, client, monkeypatch, caplog):
    def broken(*_args):
        raise RuntimeError("tracking tables are broken")

    monkeypatch.setattr(tracking_service, "_write_events", broken)
    resp = client.post("/api/tickets", json=TICKET)
    assert resp.status_code == 201
    monkeypatch.undo()
    assert _counts(app) == (1, [], 0)
    assert "could not record ticket_opened" in caplog.text


def test_a_lost_race_for_the_visit_is_retried_in_its_savepoint(app, client, monkeypatch):
    real, calls = tracking_service._write_events, []

    def racing(session, *args):
        calls.append(1)
        if len(calls) == 1:
            real(session, *args)  # written, then undone by the savepoint's rollback
            raise IntegrityError("INSERT INTO visits", {}, Exception("another request opened the visit"))
        return real(session, *args)

    monkeypatch.setattr(tracking_service, "_write_events", racing)
    resp = client.post("/api/tickets", json=TICKET)
    assert resp.status_code == 201 and len(calls) == 2
    tickets, events, escalated = _counts(app)
    assert tickets == 1 and len(events) == 1 and escalated == 1


@pytest.mark.parametrize("user_agent", ["Googlebot/2.1 (+http://www.google.com/bot.html)", "curl/8.5.0"])
def test_a_scripted_ticket_is_kept_but_its_visit_is_left_out_of_the_figures(app, client, user_agent):
    from portal import metrics
    from portal.tracking.integrity import AUTOMATED

    resp = client.post("/api/tickets", json=TICKET, headers={"User-Agent": user_agent})
    assert resp.status_code == 201
    tickets, events, _ = _counts(app)
    assert tickets == 1 and len(events) == 1
    with app.app_context():
        session = app.extensions["sportello.db"]()
        visit = session.scalars(select(Visit)).one()
        assert visit.flags & AUTOMATED
        day = visit.started_at.date()
        figures = metrics.self_service(session, day, day, visit.started_at).as_dict()
        session.close()
    assert (figures["escalated"], figures["tickets"], figures["excluded_visits"]) == (0, 0, 1)
    assert figures["excluded_by_reason"]["automated"] == 1
