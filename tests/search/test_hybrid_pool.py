"""Hybrid search runs its dense side on a thread pool: same answers, also in a forked child."""
import multiprocessing as mp

from search import hybrid as hybrid_module


def _child(backend, queue):
    queue.put([h.slug for h in backend.search("refund").hits])


def test_pool_is_made_again_after_fork(hybrid):
    before = [h.slug for h in hybrid.search("refund").hits]
    parent_pool = hybrid_module._pool
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(hybrid, queue))
    proc.start()
    got = queue.get(timeout=60)
    proc.join(60)
    assert proc.exitcode == 0 and got == before and before
    assert hybrid_module._pool is parent_pool          # the parent's pool is untouched


def test_errors_of_the_dense_side_reach_the_caller(hybrid, monkeypatch):
    def broken(*_args):
        raise RuntimeError("dense side failed")
    monkeypatch.setattr(hybrid.semantic, "scored", broken)
    try:
        hybrid.search("refund")
    except RuntimeError as exc:
        assert "dense side failed" in str(exc)
    else:
        raise AssertionError("the error was swallowed")
