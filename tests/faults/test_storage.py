"""Disk full and a read-only index folder: a clear 503 page and log line, stored data untouched,
and the index heals once the disk is fixed. Real mounts when root may mount (tmpfs, read-only
bind); otherwise chmod (non-root) or a simulated ENOSPC at the file-open boundary."""
import builtins
import errno
import logging
import os
import shutil
import subprocess

import pytest
from sqlalchemy import select

ARTICLE_TEXT = "Quokka parcels travel by sea and arrive within ten days."


@pytest.fixture
def app_config():
    return {"AUTO_REINDEX": True}


@pytest.fixture
def site(app, runner, make_article, login):
    """An app with one published and one in-review article, indexed, and a writer logged in."""
    make_article("en-live", title="Parcel tracking", locale="en", body="Track your parcel online.")
    folder = make_article("en-quokka", title="Quokka shipping", locale="en", status="review", body=ARTICLE_TEXT).parent
    assert runner.invoke(args=["import", str(folder)]).exit_code == 0
    assert runner.invoke(args=["reindex"]).exit_code == 0
    login("writer")
    return app


def _mount(*args):
    return subprocess.run(["mount", *args], capture_output=True, text=True).returncode == 0


def _can_mount(tmp_path):
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    probe = tmp_path / "probe"
    probe.mkdir()
    ok = _mount("-t", "tmpfs", "-o", "size=64k", "tmpfs", str(probe))
    if ok:
        subprocess.run(["umount", str(probe)])
    return ok


def _publish(app, client, slug):
    from portal.db import get_session
    from portal.models import Article

    with app.app_context():
        art = get_session().scalar(select(Article).where(Article.slug == slug))
        art_id, version = art.id, art.version
    return client.post(f"/write/{art_id}/status", data={"action": "publish", "version": version})


def _db_state(app):
    from portal.db import get_session
    from portal.models import Article

    with app.app_context():
        return {a.slug: (a.status, a.body, a.html) for a in get_session().scalars(select(Article))}


def _search_slugs(client, q):
    resp = client.get("/api/search", query_string={"q": q, "mode": "keyword"})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return [r["slug"] for r in resp.get_json()["results"]]


def _heal(app, client):
    """Once the disk is fixed, the index is brought back in step with the database."""
    with app.test_request_context("/"):
        app.extensions["sportello.search"].ensure_ready()
    assert "en-quokka" in _search_slugs(client, "quokka")
    assert "en-live" in _search_slugs(client, "parcel tracking")


def _assert_clear_failure(resp, caplog, words):
    page = resp.get_data(as_text=True)
    assert resp.status_code == 503, (resp.status_code, page[:500])
    assert "cannot write to its storage" in page and "Traceback" not in page
    assert resp.headers["Retry-After"]
    assert any("storage failure" in r.getMessage() and words in r.getMessage() for r in caplog.records), \
        [r.getMessage() for r in caplog.records]


def test_disk_full_under_the_index_real_tmpfs(site, client, tmp_path, caplog):
    if not _can_mount(tmp_path):
        pytest.skip("needs root with permission to mount a tmpfs; test_disk_full_simulated covers the rest")
    index = os.path.join(site.config["HOME"], "search")
    saved = tmp_path / "index-copy"
    shutil.copytree(index, saved)
    shutil.rmtree(index)
    os.mkdir(index)
    used = sum(f.stat().st_size for f in saved.rglob("*") if f.is_file())
    assert _mount("-t", "tmpfs", "-o", f"size={used // 1024 + 512}k", "tmpfs", index)
    try:
        shutil.copytree(saved, index, dirs_exist_ok=True)
        with open(os.path.join(index, "filler"), "wb", buffering=0) as fh:  # fill the disk to the last byte
            try:
                while True:
                    fh.write(b"\0" * 4096)
                    fh.flush()
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
        before = _db_state(site)
        caplog.set_level(logging.ERROR)
        resp = _publish(site, client, "en-quokka")
        _assert_clear_failure(resp, caplog, "No space left on device")
        # Reading still works from the intact index, and the database holds exactly what it held,
        # apart from the status change that was committed before the index was touched.
        assert "en-live" in _search_slugs(client, "parcel tracking")
        after = _db_state(site)
        assert {s: v[1:] for s, v in after.items()} == {s: v[1:] for s, v in before.items()}
        os.remove(os.path.join(index, "filler"))
        _heal(site, client)
    finally:
        subprocess.run(["umount", "-l", index])


def test_read_only_index_folder(site, client, tmp_path, caplog):
    index = os.path.join(site.config["HOME"], "search")
    if os.geteuid() == 0:
        if not _can_mount(tmp_path):
            pytest.skip("root ignores file modes and may not mount here: no real read-only folder")
        assert _mount("--bind", index, index) and _mount("-o", "remount,ro,bind", index)
        undo = lambda: subprocess.run(["umount", "-l", index])  # noqa: E731
        reason = "Read-only file system"
    else:
        for root, dirs, files in os.walk(index):
            for name in dirs + files + ["."]:
                os.chmod(os.path.join(root, name), 0o555 if name in dirs + ["."] else 0o444)
        undo = lambda: subprocess.run(["chmod", "-R", "u+w", index])  # noqa: E731
        reason = "Permission denied"
    try:
        before = _db_state(site)
        caplog.set_level(logging.ERROR)
        resp = _publish(site, client, "en-quokka")
        _assert_clear_failure(resp, caplog, reason)
        assert "en-live" in _search_slugs(client, "parcel tracking")
        after = _db_state(site)
        assert {s: v[1:] for s, v in after.items()} == {s: v[1:] for s, v in before.items()}
    finally:
        undo()
    _heal(site, client)


def test_disk_full_simulated(site, client, monkeypatch, caplog):
    """ENOSPC at the moment the index opens a file for writing (portable: no root needed)."""
    index = os.path.join(site.config["HOME"], "search")
    real_open = builtins.open

    def full_open(file, mode="r", *args, **kwargs):
        if any(m in mode for m in "wax+") and str(file).startswith(index):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(file))
        return real_open(file, mode, *args, **kwargs)

    before = _db_state(site)
    caplog.set_level(logging.ERROR)
    monkeypatch.setattr(builtins, "open", full_open)
    resp = _publish(site, client, "en-quokka")
    monkeypatch.setattr(builtins, "open", real_open)
    _assert_clear_failure(resp, caplog, "No space left on device")
    after = _db_state(site)
    assert {s: v[1:] for s, v in after.items()} == {s: v[1:] for s, v in before.items()}
    _heal(site, client)


def test_database_disk_full_refuses_tickets_clearly(app, client, monkeypatch, caplog):
    """SQLite's "database or disk is full" on a ticket: a JSON 503, earlier tickets intact."""
    if "tickets_api.create" not in app.view_functions:
        pytest.skip("tickets API not registered")
    body = {"email": "c@example.com", "subject": "First one", "body": "This one is saved before the disk fills."}
    first = client.post("/api/tickets", json=body)
    assert first.status_code == 201
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.orm import Session

    real_flush = Session.flush

    def full_flush(self, *args, **kwargs):
        raise OperationalError("INSERT INTO tickets ...", {}, Exception("database or disk is full"))

    caplog.set_level(logging.ERROR)
    monkeypatch.setattr(Session, "flush", full_flush)
    resp = client.post("/api/tickets", json={**body, "subject": "Second one"})
    monkeypatch.setattr(Session, "flush", real_flush)
    assert resp.status_code == 503 and "storage" in resp.get_json()["error"]
    assert any("database or disk is full" in r.getMessage() for r in caplog.records)
    status = client.get(f"/api/tickets/status/{first.get_json()['url'].rsplit('/', 1)[-1]}")
    assert status.status_code == 200 and status.get_json()["subject"] == "First one"
