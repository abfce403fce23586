"""The write-behind buffer: a visitor's flush waits only for batches that hold its own steps."""
import threading
from datetime import datetime, timezone

from portal.tracking.buffer import EventBuffer
from portal.tracking.service import Step


def _step(visitor):
    return Step(visitor, (), datetime(2026, 1, 1, tzinfo=timezone.utc))


class SlowWrites(EventBuffer):
    """A buffer whose batches block until released, and which remembers what it wrote."""

    def __init__(self):
        super().__init__(sessions=None, interval=3600)
        self.written, self.started, self.release = [], threading.Event(), threading.Event()

    def _write(self, steps):
        self.started.set()
        assert self.release.wait(10), "the batch was never released"
        self.written.append(sorted({s.visitor_id for s in steps}))
        return []


def _background_batch(buffer):
    writer = threading.Thread(target=buffer.flush)
    writer.start()
    assert buffer.started.wait(10)
    return writer


def _flush_aside(buffer, visitor, wait):
    """flush(visitor) in a thread, given `wait` seconds to return; the thread, maybe still waiting."""
    flusher = threading.Thread(target=buffer.flush, args=(visitor,))
    flusher.start()
    flusher.join(wait)
    return flusher


def test_a_visitor_with_nothing_queued_does_not_wait_for_others_batch():
    buffer = SlowWrites()
    buffer.add(_step("other"))
    writer = _background_batch(buffer)
    done = _flush_aside(buffer, "me", 2)
    assert not done.is_alive(), "flush('me') waited for a batch that holds none of its steps"
    buffer.release.set()
    writer.join(10)
    assert buffer.written == [["other"]]


def test_a_visitor_whose_steps_are_being_written_waits_for_them():
    buffer = SlowWrites()
    buffer.add(_step("me"))
    writer = _background_batch(buffer)
    mine = _flush_aside(buffer, "me", 0.3)
    assert mine.is_alive(), "flush('me') returned before the batch with its steps landed"
    buffer.release.set()
    mine.join(10)
    writer.join(10)
    assert buffer.written == [["me"]]


def test_a_visitor_flush_writes_only_its_own_queued_steps():
    buffer = SlowWrites()
    buffer.release.set()
    buffer.add(_step("me"))
    buffer.add(_step("other"))
    buffer.flush("me")
    assert buffer.written == [["me"]]
    assert buffer.pending() == 1
    buffer.flush()
    assert buffer.written == [["me"], ["other"]]
