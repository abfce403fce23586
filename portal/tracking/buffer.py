"""Write-behind for the events every page view and search produces (and the view counters).

A view cost two write transactions in the request (the article's counter, then the event with
its visit and aggregates), most of an article page's time and, on SQLite, a queue for the one
write lock. Here a request only appends to a per-process list; one thread writes the list every
TRACKING_FLUSH_SECONDS in one transaction (service.record_batch, which folds it per visit and
bumps the article view counters of the visits that count).

What this trades, and why it is safe:
- Figures lag by at most the interval (a second by default; longer batches fold more steps per
  visit): the dashboard and the metrics API read a worker's own pending events first (flush()),
  another worker's show up after its next write. A customer takes longer than that to go from
  an article to a submitted ticket, and every event keeps the time it happened.
- Votes, escalations and tickets are not buffered (they change outcomes and a ticket must be
  kept once acknowledged); recording one first writes that visitor's steps still queued or
  being written in this process, so the order of a visit's steps is kept.
- A clean exit (gunicorn's SIGTERM, max_requests, a CLI command) writes what is pending: at
  exit and in gunicorn's worker_exit. A SIGKILL loses at most one interval of views and searches,
  never a ticket.
- With an interval of 0 (the tests) every request writes its own batch before it returns.
"""
from __future__ import annotations

import atexit
import logging
import os
import threading
from portal.tracking.service import Step, record_batch

log = logging.getLogger(__name__)

# A batch is written early when this many steps wait, so that a burst stays one bounded transaction.
MAX_BATCH = 500


class EventBuffer:
    """Steps and view counts waiting for the writer thread of this process."""

    def __init__(self, sessions, interval: float, logger=None, burst=None):
        self.sessions = sessions
        self.interval = max(0.0, float(interval))
        self.burst = burst  # the burst rule for addresses (portal.tracking.integrity.BurstRule)
        self.log = logger or log
        self._reset()
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self):
        # Also the child's side of a fork: the parent's thread and locks do not come along, and
        # what the parent queued is the parent's to write.
        self._cond = threading.Condition()
        self._flushing = threading.Lock()
        self._steps: list[Step] = []
        self._inflight: set[str] = set()    # visitors whose steps the batch being written holds
        self._thread = None

    def add(self, step: Step) -> list[int] | None:
        """Queue one request's events; return visit ids when written at once."""
        if self.interval == 0:
            return self._write([step])
        with self._cond:
            if self._thread is None:
                self._start()
            self._steps.append(step)
            if len(self._steps) >= MAX_BATCH:
                self._cond.notify()
        return None

    def pending(self) -> int:
        """How many steps wait to be written."""
        with self._cond:
            return len(self._steps)

    def flush(self, visitor_id: str | None = None) -> None:
        """Write what is queued so far (only one visitor's steps, if given), in this thread; never raises."""
        if visitor_id is not None:
            with self._cond:
                # Nothing of this visit queued or being written: a ticket need not wait for
                # everyone else's batch (under load that wait was a quarter of a ticket's time).
                if visitor_id not in self._inflight and not any(s.visitor_id == visitor_id for s in self._steps):
                    return
        with self._flushing:  # one batch at a time, so that batches land in queue order
            with self._cond:
                if visitor_id is None:
                    steps, self._steps = self._steps, []
                else:  # a ticket or a vote needs its own visit written, not everyone's
                    steps = [s for s in self._steps if s.visitor_id == visitor_id]
                    if steps:
                        self._steps = [s for s in self._steps if s.visitor_id != visitor_id]
                self._inflight = {s.visitor_id for s in steps}
            try:
                if steps:
                    self._write(steps)
            finally:
                with self._cond:
                    self._inflight = set()

    def close(self) -> None:
        """Write what is pending; from now on every add writes at once (exit, worker_exit)."""
        with self._cond:
            self.interval = 0.0
            self._cond.notify()
        self.flush()

    def _write(self, steps: list[Step]) -> list[int] | None:
        session = self.sessions()
        try:
            return record_batch(session, steps, self.burst)
        except Exception:  # recording must never break a page, nor stop the writer thread
            self.log.exception("tracking: could not record %d steps", len(steps))
            return None
        finally:
            session.close()

    def _start(self):
        self._thread = threading.Thread(target=self._run, name="tracking-writer", daemon=True)
        self._thread.start()
        atexit.register(self.close)

    def _run(self):
        while True:
            with self._cond:
                self._cond.wait(self.interval or None)
                closed = self.interval == 0
            self.flush()
            if closed:
                return
