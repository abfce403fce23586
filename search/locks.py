"""A cross-process write lock that waits (with a deadline) instead of failing at once.

Whoosh's own lock raises LockError the moment another process holds it; several portal
workers publishing at once must queue instead, so every write goes through `write_lock`.
"""
from __future__ import annotations

import contextlib
import os

from filelock import FileLock, Timeout

from .base import IndexBusy


@contextlib.contextmanager
def write_lock(path: str, timeout: float = 30.0, poll: float = 0.02):
    """Holds an exclusive lock on `path` (created if missing); raises IndexBusy after timeout.

    flock() underneath, so the kernel drops the lock of a process that dies; no soft-lock
    fallback, whose leftover file would outlive a killed process. A thread that already holds
    the lock may take it again (rebuild calls clear); other threads of the process wait."""
    path = os.path.abspath(path)
    # One lock object per path (is_singleton) with holds counted per thread (thread_local):
    # each thread locks its own descriptor, and flock excludes descriptors from one another.
    lock = FileLock(path, is_singleton=True, thread_local=True, fallback_to_soft=False)
    try:
        lock.acquire(timeout=timeout, poll_interval=poll)
    except Timeout:
        raise IndexBusy(f"index busy: {path} (waited {timeout:.0f}s)") from None
    try:
        yield
    finally:
        lock.release()
