"""Canned response placeholders, and the queue's filters and counts."""
from datetime import timedelta
from types import SimpleNamespace

import pytest

from ticketing import canned, queue, service
from ticketing.errors import InvalidTicket


def test_fill_placeholders():
    t = SimpleNamespace(customer_name="", email="carla@example.com", reference="SP-2026-000007", subject="Login")
    links = {"it-login": "[Accesso](https://x/articles/it-login)"}
    text = canned.fill("Ciao {customer_name}, {reference} ({subject}) da {agent_name}: {article_link:it-login} "
                       "{article_link:gone} {other} {reference:x}", t, "Ann", links.get)
    assert text == ("Ciao carla, SP-2026-000007 (Login) da Ann: [Accesso](https://x/articles/it-login) "
                    "{article_link:gone} {other} {reference:x}")
    assert canned.article_slugs("{article_link:a} e {article_link:b-2}") == ["a", "b-2"]


def test_canned_crud(session):
    row = canned.save(session, canned.CannedData("Reset", "Ciao {customer_name}", "it"), 1)
    canned.save(session, canned.CannedData("Shared", "Hello", ""), 1)
    canned.save(session, canned.CannedData("Romanian", "Bună", "ro"), 1)
    assert [c.title for c in canned.listing(session, "it")] == ["Reset", "Shared"]
    canned.save(session, canned.CannedData("Reset password", "Ciao", "it"), 1, row.id)
    assert canned.listing(session, "it")[0].title == "Reset password"
    with pytest.raises(InvalidTicket):
        canned.save(session, canned.CannedData(" ", "x"), 1)
    canned.remove(session, row.id)
    assert len(canned.listing(session)) == 2


def test_filters_clean_unknown_values():
    f = queue.Filters(view="x", status="nope", priority="urgent", assignee="1 or 1=1", sort="drop", page=-3).cleaned()
    assert (f.view, f.status, f.priority, f.assignee, f.sort, f.page) == ("active", "", "urgent", "", "due", 1)


def test_counts_and_search(session, clock):
    def make(subject, body="Una descrizione abbastanza lunga."):
        return service.create_ticket(session, service.NewTicket("c@example.com", subject, body), now=clock())

    a = make("Domanda")                                  # normal: first reply due in 8 h
    b = make("Sito down", "Il sito è down da stamattina")  # urgent: 1 h
    c = make("Altra domanda")
    service.claim(session, c.id, service.Actor(5, "Ann"), 1, now=clock())
    now = clock() + timedelta(minutes=5)
    assert queue.view_counts(session, 5, now) == {"active": 3, "unassigned": 2, "mine": 1, "soon": 1, "breached": 0}
    rows, total = queue.search(session, queue.Filters(), 5, now)
    assert total == 3 and rows[0].id == b.id
    rows, total = queue.search(session, queue.Filters(q=a.reference), 5, now)
    assert [r.id for r in rows] == [a.id]
    rows, _ = queue.search(session, queue.Filters(assignee="me"), 5, now)
    assert [r.id for r in rows] == [c.id]
    assert [t.id for t in queue.breaching(session, now + timedelta(hours=1))] == [b.id]
