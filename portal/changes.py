"""Stamps that tell every process of a home when content or votes changed, so that a cached page
can skip the database reads it would otherwise make on every view.

A page served from the cache must still know the content generation (pagecache) and, on an
article, whether this visitor has voted there. Under load those two reads cost more than the
rest of a cached page: a pool checkout, a read transaction and its WAL locks, and a wait for
the GIL afterwards. So every process maps one small file, `cache/changes`, in which any commit
that changes content or votes writes a fresh random stamp into its slot. A Memo keeps what it
last read from the database together with the stamp it saw before reading, and reads again when
the stamp has moved. A random stamp rather than a counter: two processes that write at once
cannot undo each other's change.

A commit that bypasses this (a hand-made SQL update, a process killed between its commit and
its stamp) is still seen within MAX_AGE seconds, when every kept value expires. The stamps
cover one machine, so they are used only when the database is SQLite, which lives in the same
home; elsewhere a Memo reads the database every time, as before.
"""
from __future__ import annotations

import logging
import mmap
import os
import time
from pathlib import Path

from portal.lru import ExpiringLRU

log = logging.getLogger(__name__)

CONTENT, VOTES = 0, 1  # slots
_WIDTH = 8
MAX_AGE = 5.0


class Stamps:
    """The shared stamp file of one home; every method is a no-op when the file is unusable."""

    def __init__(self, path: Path | None):
        self.path = path
        self._map = None
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
                try:
                    if os.fstat(fd).st_size < 2 * _WIDTH:
                        os.ftruncate(fd, 2 * _WIDTH)
                    self._map = mmap.mmap(fd, 2 * _WIDTH)  # shared: another process's writes show at once
                finally:
                    os.close(fd)
            except OSError:
                log.warning("changes: cannot map %s; cached pages will read the database", path, exc_info=True)

    @property
    def enabled(self) -> bool:
        """True when stamps are shared, so kept values can be trusted until their stamp moves."""
        return self._map is not None

    def read(self, slot: int) -> bytes | None:
        """The slot's current stamp (None when stamps are off)."""
        if self._map is None:
            return None
        return self._map[slot * _WIDTH:(slot + 1) * _WIDTH]

    def touch(self, slot: int) -> None:
        """Tell every process that what the slot covers has changed (call it after the commit)."""
        if self._map is not None:
            self._map[slot * _WIDTH:(slot + 1) * _WIDTH] = os.urandom(_WIDTH)


class Memo:
    """Values read from the database, kept while their slot's stamp stands (MAX_AGE at most)."""

    def __init__(self, stamps: Stamps, slot: int, size: int = 1):
        self.stamps, self.slot = stamps, slot
        self._kept = ExpiringLRU(MAX_AGE, size=size)

    def get(self, key, load):
        """Return load()'s value for key, from memory while nothing changed since it was read."""
        stamp = self.stamps.read(self.slot)
        if stamp is None:
            return load()
        kept = self._kept.get(key)
        if kept is not None and kept[0] == stamp:
            return kept[1]
        value = load()  # read after the stamp: a change committed meanwhile moves the stamp again
        self._kept.put(key, (stamp, value))
        return value


def for_app(app) -> Stamps:
    """The app's stamps (made once): the home's file for SQLite, none for other databases."""
    stamps = app.extensions.get("sportello.changes")
    if stamps is None:
        shared = str(app.config["DATABASE_URL"]).startswith("sqlite")
        stamps = Stamps(Path(app.config["HOME"]) / "cache" / "changes" if shared else None)
        app.extensions["sportello.changes"] = stamps
    return stamps


def watch(sessionmaker, stamps: Stamps, slot: int, changed) -> None:
    """Touch slot after every commit of a session for which changed(session) returned true at a
    flush (changed may act too: pagecache bumps the generation there)."""
    from sqlalchemy import event

    key = f"sportello.changes.{slot}"

    def before_flush(session, _context, _instances):
        if changed(session):
            session.info[key] = True

    def after_commit(session):
        # A flag left by a rolled-back flush touches at the next commit: one extra read, harmless.
        if session.info.pop(key, False):
            stamps.touch(slot)

    event.listen(sessionmaker, "before_flush", before_flush)
    event.listen(sessionmaker, "after_commit", after_commit)
