"""Several processes writing at once: nobody sees a LockError, every write lands."""
import multiprocessing as mp

import pytest

from search.base import Document
from search.registry import create_backend


def _writer(path, worker, n):
    backend = create_backend("hybrid", path, encoder="fake", lock_timeout=60)
    for i in range(n):
        backend.index([Document(slug=f"w{worker}-{i}", title=f"Article {worker} {i}", locale="en",
                                body=f"worker{worker} item{i} shared words")])
        backend.search("shared words")


@pytest.mark.slow
def test_concurrent_writers_never_collide(tmp_path):
    path = str(tmp_path / "idx")
    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=_writer, args=(path, w, 8)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    backend = create_backend("hybrid", path, encoder="fake")
    assert backend.keyword.health().count == 32
    assert backend.semantic.health().count == 32
    assert backend.health().ok


def test_reader_sees_commits_of_another_backend_instance(tmp_path):
    reader = create_backend("keyword", tmp_path / "idx")
    writer = create_backend("keyword", tmp_path / "idx")
    writer.index([Document(slug="a", title="Alpha", body="first")])
    assert [h.slug for h in reader.search("alpha").hits] == ["a"]
    writer.index([Document(slug="b", title="Beta", body="second")])
    assert [h.slug for h in reader.search("beta").hits] == ["b"]


def test_waiting_writer_times_out_with_index_busy(tmp_path):
    from search.base import IndexBusy
    from search.locks import write_lock
    import threading
    path = str(tmp_path / "lock")
    held, release = threading.Event(), threading.Event()

    def hold():
        with write_lock(path, 5):
            held.set()
            release.wait(5)
    t = threading.Thread(target=hold)
    t.start()
    held.wait(5)
    with pytest.raises(IndexBusy):
        with write_lock(path, 0.2):
            pass
    release.set()
    t.join()


def test_the_holding_thread_may_take_the_lock_again(tmp_path):
    from search.locks import write_lock
    path = str(tmp_path / "lock")
    with write_lock(path, 1):
        with write_lock(path, 0.2):      # rebuild() -> clear() nests like this
            pass


def _hold_forever(path, ready):
    from search.locks import write_lock
    with write_lock(path, 5):
        ready.set()
        import time
        time.sleep(60)


def test_a_killed_holder_releases_the_lock(tmp_path):
    from search.base import IndexBusy
    from search.locks import write_lock
    path = str(tmp_path / "lock")
    ctx = mp.get_context("fork")
    ready = ctx.Event()
    proc = ctx.Process(target=_hold_forever, args=(path, ready))
    proc.start()
    assert ready.wait(10)
    with pytest.raises(IndexBusy, match="lock"):
        with write_lock(path, 0.1):
            pass
    proc.kill()
    proc.join(10)
    with write_lock(path, 5):
        pass
