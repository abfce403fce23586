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
_thread_locks: dict[str, threading.Lock] = {}
_guard = threading.Lock()


def _thread_lock(path: str) -> threading.Lock:
    """One in-process mutex per lock file path."""
    with _guard:
        return _thread_locks.setdefault(os.path.abspath(path), threading.Lock())


@contextlib.contextmanager
def write_lock(path: str, timeout: float = 30.0, poll: float = 0.02):
    """Holds an exclusive lock on `path` (created if missing); raises IndexBusy after timeout."""
    mutex = _thread_lock(path)
    if not mutex.acquire(timeout=timeout):
        raise IndexBusy(f"index busy: {path} (waited {timeout:.0f}s in this process)")
    try:
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
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
    finally:
        mutex.release()
