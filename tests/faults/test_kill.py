"""SIGKILL at the worst moments: the server restarts cleanly and nothing acknowledged is lost."""
import http.client
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
            # the server is gone, maybe mid-response: what was not acknowledged may be lost
            except (OSError, http.client.HTTPException):
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


@pytest.fixture(scope="module")
def starter_home(tmp_path_factory):
    """A home with the starter articles imported and indexed, prepared once and copied per test."""
    folder = tmp_path_factory.mktemp("starter") / "home"
    env = servers.home_env(folder)
    env.pop("SPORTELLO_DATABASE_URL", None)
    servers.prepare_home(env)
    return folder


@pytest.fixture
def home_copy(starter_home, tmp_path):
    """A private copy of the prepared home and its environment."""
    import shutil

    folder = tmp_path / "home"
    shutil.copytree(starter_home, folder)
    env = servers.home_env(folder)
    env.pop("SPORTELLO_DATABASE_URL", None)
    return folder, env


def _db_rows(folder, sql):
    conn = sqlite3.connect(folder / "sportello.db")
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def _api_search(url, q, mode="keyword"):
    from urllib.parse import urlencode

    with urllib.request.urlopen(f"{url}/api/search?{urlencode({'q': q, 'mode': mode, 'limit': 20})}",
                                timeout=30) as resp:
        return [r["slug"] for r in json.loads(resp.read())["results"]]


def _settled_search(url, q, mode="keyword", timeout=90):
    """Search until the answer is not empty: each worker checks (and may rebuild) the index on start."""
    deadline = time.monotonic() + timeout
    while True:
        slugs = _api_search(url, q, mode)
        if slugs or time.monotonic() > deadline:
            return slugs
        time.sleep(0.5)


def _start_and_wait(env, *args, marker):
    """Start a sportello command and return once its output shows marker (the work has begun)."""
    import subprocess

    proc = subprocess.Popen([servers.PYTHON, "-c", "from portal.cli import main; main()", *args],
                            env={**env, "PYTHONUNBUFFERED": "1"}, cwd=servers.ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if marker in line:
            return proc, seen
    raise AssertionError(f"{marker!r} never appeared: {''.join(seen)[-2000:]}")


@pytest.mark.parametrize("delay", [0.3, 2.0])
def test_a_reindex_killed_midway_leaves_a_usable_index(home_copy, server_factory, delay):
    folder, env = home_copy
    proc, _ = _start_and_wait(env, "reindex", marker="reindexing")
    time.sleep(delay)
    proc.kill()  # SIGKILL: no cleanup, locks held at the time die with the process
    proc.wait(timeout=30)
    published = _db_rows(folder, "select count(*) from articles where status = 'published'")[0][0]
    assert published == 252, "the database lost articles"
    server = server_factory(env, workers=2)
    assert "en-faq-reopen" in _settled_search(server.url, "reopen a solved ticket")
    assert _settled_search(server.url, "tempo di prima risposta", mode="semantic")
    assert "en-faq-lost-link" in _settled_search(server.url, "lost link", mode="hybrid")
    # The next reindex runs to its end: no stale lock survived the killed process.
    result = servers.sportello(env, "reindex", timeout=300)
    assert "done: " in result.stdout and "LockError" not in result.stdout + result.stderr


def test_an_import_killed_midway_leaves_no_half_written_article(tmp_path, home, server_factory):
    from portal.content import render_markdown

    folder, env = home
    import subprocess

    proc = subprocess.Popen([servers.PYTHON, "-c", "from portal.cli import main; main()", "import",
                             str(servers.ROOT / "articles")], env=env, cwd=servers.ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while _db_rows(folder, "select count(*) from articles")[0][0] < 40 and time.monotonic() < deadline:
        time.sleep(0.02)  # one file per transaction: kill it in the middle of the run
    proc.kill()
    proc.wait(timeout=30)
    rows = _db_rows(folder, "select slug, title, body, html, checksum, status from articles")
    assert 40 <= len(rows) < 252, len(rows)
    for slug, title, body, html, checksum, status in rows:
        assert title and body and checksum and status == "published", slug
        assert html == render_markdown(body)[0], f"{slug}: stored HTML does not match its body"
    # Importing again completes the job: what was saved is unchanged, the rest is created.
    result = servers.sportello(env, "import", str(servers.ROOT / "articles"), timeout=600)
    assert "0 failed" in result.stdout and f"{len(rows)} unchanged" in result.stdout, result.stdout[-500:]
    server = server_factory(env, workers=1)
    assert "en-faq-reopen" in _settled_search(server.url, "reopen a solved ticket")


class _Browser:
    """A cookie-keeping HTTP client that submits forms with their CSRF token, as a writer would."""

    def __init__(self, base):
        import http.cookiejar

        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, path):
        with self.opener.open(self.base + path, timeout=60) as resp:
            return resp.read().decode()

    def post_form(self, path, page, fields):
        import re
        from urllib.parse import urlencode

        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        req = urllib.request.Request(self.base + path, data=urlencode({**fields, "csrf_token": token}).encode(),
                                     method="POST")
        with self.opener.open(req, timeout=120) as resp:
            return resp.status, resp.read().decode()


def test_publishing_while_reindexing_loses_nothing(home_copy, server_factory, tmp_path):
    import re
    import subprocess

    folder, env = home_copy
    extra = tmp_path / "extra"
    extra.mkdir()
    for n in range(8):
        (extra / f"en-zz-{n}.md").write_text(
            f"---\ntitle: Zanzibar topic {n}\nslug: en-zz-{n}\nlocale: en\ncategory: faq\nstatus: review\n---\n"
            f"Zanzibar{n}unique is the word that only this article holds.\n", encoding="utf-8")
    servers.sportello(env, "import", str(extra))
    servers.sportello(env, "user", "create", "--email", "w@example.com", "--role", "writer", "--password", "Amber-Falcon-Ledger-91")
    ids = dict(_db_rows(folder, "select slug, id from articles where slug like 'en-zz-%'"))
    server = server_factory(env, workers=2)
    writer = _Browser(server.url)
    login_page = writer.get("/auth/login")
    writer.post_form("/auth/login", login_page, {"email": "w@example.com", "password": "Amber-Falcon-Ledger-91"})

    reindexes = subprocess.Popen(
        [servers.PYTHON, "-c", "from portal.cli import main\nfor _ in range(3):\n"
         "    try:\n        main(['reindex'])\n    except SystemExit as e:\n        assert not e.code, e.code"],
        env=env, cwd=servers.ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    statuses = []
    for slug, art_id in sorted(ids.items()):
        page = writer.get(f"/write/{art_id}")
        version = re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)
        status, body = writer.post_form(f"/write/{art_id}/status", page, {"action": "publish", "version": version})
        statuses.append((slug, status, "Done" in body))
        time.sleep(0.2)
    output, _ = reindexes.communicate(timeout=600)
    assert reindexes.returncode == 0, output[-3000:]
    assert "LockError" not in output and "busy" not in output.lower(), output[-3000:]
    assert all(status == 200 and done for _, status, done in statuses), statuses
    assert {s for s, st in _db_rows(folder, "select slug, status from articles where slug like 'en-zz-%'")
            if st == "published"} == set(ids)
    log = (tmp_path / "gunicorn-0.log").read_text()
    assert "LockError" not in log and "Traceback" not in log, log[-3000:]
    missing = [slug for slug in ids if slug not in _api_search(server.url, f"Zanzibar{slug[-1]}unique")]
    assert not missing, f"published but lost from the index: {missing}"


def test_search_keeps_answering_during_a_reindex(home_copy, server_factory):
    folder, env = home_copy
    server = server_factory(env, workers=1)
    assert "en-faq-reopen" in _api_search(server.url, "reopen a solved ticket")
    proc, _ = _start_and_wait(env, "reindex", marker="reindexing")
    empty = 0
    while proc.poll() is None:
        empty += not _api_search(server.url, "reopen a solved ticket")
        time.sleep(0.05)
    assert proc.returncode == 0
    assert empty == 0, f"{empty} searches found nothing while the index was rebuilt"
