"""Load: 200 tickets submitted at once through the JSON API of a real threaded server on a real
SQLite file are all stored, each with a unique reference."""
import json
import threading
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

N = 200


def submit(base, i):
    body = json.dumps({"email": f"cliente{i}@example.com", "subject": f"Richiesta numero {i}",
                       "body": f"Descrizione della richiesta numero {i}, abbastanza lunga.",
                       "query": f"ricerca {i}"}).encode()
    req = urllib.request.Request(f"{base}/api/tickets", data=body, method="POST",
                                 headers={"Content-Type": "application/json", "Accept": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        return resp.status, json.loads(resp.read())


@pytest.mark.slow
def test_200_concurrent_tickets_get_unique_references(app, live_server):
    assert app.config["DATABASE_URL"].startswith(("sqlite:///", "postgresql"))
    barrier = threading.Barrier(50)

    def one(i):
        if i < 50:
            barrier.wait()  # the first 50 leave together
        return submit(live_server, i)

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(one, range(N)))
    assert [status for status, _ in results] == [201] * N
    refs = [data["reference"] for _, data in results]
    ids = [data["id"] for _, data in results]
    urls = [data["url"] for _, data in results]
    assert len(set(refs)) == N and len(set(ids)) == N and len(set(urls)) == N
    from portal.db import get_session
    from ticketing.models import Message, Ticket

    with app.app_context():
        session = get_session()
        assert session.scalar(select(func.count(Ticket.id))) == N
        assert session.scalar(select(func.count(func.distinct(Ticket.reference)))) == N
        assert session.scalar(select(func.count(Message.id))) == N
        stored = dict(session.execute(select(Ticket.id, Ticket.reference)).all())
    assert all(stored[i] == ref == f"SP-{ref[3:7]}-{i:06d}" for i, ref in zip(ids, refs))
