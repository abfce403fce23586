"""A cross-process write lock that waits (with a deadline) instead of failing at once.

Whoosh's own lock raises LockError the moment another process holds it; several portal
workers publishing at once must queue instead, so every write goes through `write_lock`.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time

from .base import IndexBusy

# flock is per open file description, so threads of one process need their own mutex too.
_thread_locks: dict[str, threading.RLock] = {}
_held = threading.local()           # paths this thread holds: nested calls don't re-lock
_guard = threading.Lock()


def _thread_lock(path: str) -> threading.RLock:
    """One in-process mutex per lock file path."""
    with _guard:
        return _thread_locks.setdefault(path, threading.RLock())


@contextlib.contextmanager
def write_lock(path: str, timeout: float = 30.0, poll: float = 0.02):
    """Holds an exclusive lock on `path` (created if missing); raises IndexBusy after timeout."""
    path = os.path.abspath(path)
    held = _held.__dict__.setdefault("paths", set())
    if path in held:                 # re-entered by the same thread: already exclusive
        yield
        return
    mutex = _thread_lock(path)
    if not mutex.acquire(timeout=timeout):
        raise IndexBusy(f"index busy: {path} (waited {timeout:.0f}s in this process)")
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise IndexBusy(f"index busy: {path} (waited {timeout:.0f}s)") from None
                    time.sleep(poll)
            held.add(path)
            try:
                yield
            finally:
                held.discard(path)
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
    finally:
        mutex.release()
