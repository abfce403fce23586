"""SIGKILL at the worst moments: the server restarts cleanly and nothing acknowledged is lost."""
import json
import sqlite3
import threading
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import pytest

from tests import servers

pytestmark = pytest.mark.slow


def _post_json(url, body, timeout=10):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, None


def _integrity(home):
    conn = sqlite3.connect(home / "sportello.db")
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def test_no_acknowledged_ticket_is_lost_when_the_server_is_killed(home, server_factory):
    folder, env = home
    server = server_factory(env, workers=2, threads=4)
    acknowledged, failures, stop = [], [], threading.Event()

    def customer(n):
        i = 0
        while not stop.is_set():
            i += 1
            try:
                status, body = _post_json(server.url + "/api/tickets", {
                    "email": f"c{n}@example.com", "subject": f"Ticket {n}-{i}",
                    "body": "My order has not arrived yet, please help."})
            except OSError:  # the server is gone: what was not acknowledged may be lost
                failures.append(n)
                continue
            if status == 201:
                acknowledged.append(body)

    threads = [threading.Thread(target=customer, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 30
    while len(acknowledged) < 20 and time.monotonic() < deadline:
        time.sleep(0.05)
    server.kill()  # SIGKILL to the master and every worker, mid-traffic
    stop.set()
    for t in threads:
        t.join(timeout=30)
    assert len(acknowledged) >= 20, "too few tickets were created before the kill"
    assert _integrity(folder) == "ok"

    restarted = server_factory(env, workers=2, threads=2)
    for ticket in acknowledged:
        path = urlsplit(ticket["url"]).path
        with urllib.request.urlopen(restarted.url + path, timeout=10) as resp:
            assert resp.status == 200 and ticket["reference"].encode() in resp.read()
    references = [t["reference"] for t in acknowledged]
    assert len(set(references)) == len(references), "a reference was handed out twice"
    # The server takes new tickets after the restart.
    status, body = _post_json(restarted.url + "/api/tickets", {
        "email": "after@example.com", "subject": "After the crash", "body": "Still works after a restart?"})
    assert status == 201 and body["reference"] not in references
