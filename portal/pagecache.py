"""Caches of what anonymous visitors all see alike: article and home pages, search answers.

Correctness rests on the content generation (models.ContentState), a counter that goes up in
the same transaction as any change to an article or a category, whichever process, app or
command made it. Every lookup reads it first (one row) and it is part of every key, so nothing
rendered before a publish is served after the publish's commit: the old entries stop matching.
Reading it before building the value also means a value is never older than its key.

View counts are not content: they reorder related and popular articles without bumping the
generation, so entries also expire after PAGE_CACHE_SECONDS, which bounds how long such an
order may lag behind the counters.

Each worker keeps its entries in memory and also offers them to the other workers of the same
home through a small SQLite file (SharedStore): a page or answer one worker computed costs the
others a lookup, which halves the work after a start or a publish.

Only pages that are the same for every visitor are shared: no staff user, nothing flashed.
The CSRF token of the article page's feedback forms is rendered as a placeholder and each
visitor's own token is filled in on the way out (fill_token).
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import os
import pickle
import sqlite3
import threading
import time
from collections import OrderedDict
from pathlib import Path
from functools import lru_cache
from itertools import chain

from flask import current_app, g, has_request_context, request
from flask import session as cookie_session
from sqlalchemy import event, select, update

from portal.models import Article, Category, ContentState

_STATE = ContentState.__table__
log = logging.getLogger(__name__)


class PageCache:
    """A bounded LRU whose entries also expire after `seconds`; shared by a worker's threads."""

    def __init__(self, seconds: float, size: int = 1024):
        self.seconds, self.size = float(seconds), size
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        """Return the value kept for key, or None when there is none or it expired."""
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            if item[0] < time.monotonic():
                del self._items[key]
                return None
            self._items.move_to_end(key)
            return item[1]

    def put(self, key, value, seconds: float | None = None) -> None:
        """Keep value for key (seconds, or the cache's age limit), dropping the least recently used."""
        with self._lock:
            self._items[key] = (time.monotonic() + (self.seconds if seconds is None else seconds), value)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._items.clear()


class SharedStore:
    """Entries the worker processes of one home share, in a SQLite file; best effort (a cache).

    Values are pickled: the file lives in the home folder, next to the secret key, and is
    trusted as much."""

    def __init__(self, path, size: int = 20_000):
        self.path, self.size = Path(path), size
        self._lock = threading.Lock()
        self._db = None
        self._puts = 0
        os.register_at_fork(after_in_child=self._forget)

    def _forget(self):
        self._lock, self._db = threading.Lock(), None  # a connection must not cross a fork

    def _connection(self):
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=2, check_same_thread=False, isolation_level=None)
            # A cache: losing the latest writes to a crash costs a render, so no syncing.
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=OFF")
            db.execute("CREATE TABLE IF NOT EXISTS entries (key TEXT PRIMARY KEY, generation INTEGER NOT NULL, "
                       "expires REAL NOT NULL, value BLOB NOT NULL)")
            self._db = db
        return self._db

    def get(self, key: str, generation: int):
        """Return (value, seconds it has left) another process kept for key in this generation, or None."""
        try:
            now = time.time()
            with self._lock:
                row = self._connection().execute(
                    "SELECT value, expires FROM entries WHERE key = ? AND generation = ? AND expires > ?",
                    (key, generation, now)).fetchone()
            return (pickle.loads(row[0]), row[1] - now) if row else None
        except Exception:  # noqa: BLE001 - a broken cache is a miss, never an error page
            log.warning("page cache: could not read %s", self.path, exc_info=True)
            return None

    def put(self, key: str, generation: int, value, seconds: float) -> None:
        """Offer value to the other processes until it expires or the generation moves on."""
        try:
            blob = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
            with self._lock:
                db = self._connection()
                db.execute("INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?)",
                           (key, generation, time.time() + seconds, blob))
                self._puts += 1
                if self._puts % 500 == 0:
                    self._prune(db, generation)
        except Exception:  # noqa: BLE001 - as in get
            log.warning("page cache: could not write %s", self.path, exc_info=True)

    def _prune(self, db, generation):
        db.execute("DELETE FROM entries WHERE generation < ? OR expires < ?", (generation, time.time()))
        extra = db.execute("SELECT count(*) FROM entries").fetchone()[0] - self.size
        if extra > 0:
            db.execute("DELETE FROM entries WHERE key IN (SELECT key FROM entries ORDER BY expires LIMIT ?)",
                       (extra,))


def init_app(app):
    """Bump the generation on every flush that changes articles or categories; add the caches."""
    event.listen(app.extensions["sportello.db"], "before_flush", _bump_on_content_change)
    seconds = float(app.config.get("PAGE_CACHE_SECONDS") or 0)
    app.extensions["sportello.pages"] = PageCache(seconds, size=2048)
    app.extensions["sportello.answers"] = PageCache(seconds, size=4096)
    app.extensions["sportello.shared_pages"] = SharedStore(Path(app.config["HOME"]) / "cache" / "pages.sqlite")
    # The same in every worker of this home (pages travel between them), and no article text
    # can contain it by chance or on purpose.
    app.extensions["sportello.token_placeholder"] = "csrf-placeholder-" + hmac.new(
        str(app.config["SECRET_KEY"]).encode(), b"page cache token placeholder", hashlib.sha256).hexdigest()[:32]


def _bump_on_content_change(session, _flush_context, _instances):
    if any(isinstance(obj, (Article, Category)) for obj in chain(session.new, session.dirty, session.deleted)):
        # Core on the session's connection: inside a flush, an ORM statement would flush again.
        bump(session.connection())


def bump(connection) -> None:
    """Make every cached page and answer outdated, in the connection's transaction."""
    connection.execute(update(_STATE).values(generation=_STATE.c.generation + 1))


_GENERATION = select(_STATE.c.generation).where(_STATE.c.id == 1)  # built once: read on every lookup


@lru_cache(maxsize=16)
def _generation_and(condition):
    return select(_STATE.c.generation, condition).where(_STATE.c.id == 1)


def generation(session) -> int:
    """The content generation as this session sees it now."""
    return session.connection().execute(_GENERATION).scalar() or 0


def _read_generation(unless):
    """(generation, whether the unless condition holds), in one round trip outside the request's session.

    A cached page needs nothing else from the database, and a session (transaction, pool
    checkout, rollback, result objects) cost several times the query itself."""
    from portal.db import read_first

    engine = current_app.extensions["sportello.engine"]
    if unless is None:
        row = read_first(engine, _GENERATION)
        return (row[0] or 0 if row else 0), False
    condition, params = unless
    row = read_first(engine, _generation_and(condition), params)
    return (row[0] or 0, bool(row[1])) if row is not None else (0, False)


def shareable() -> bool:
    """True when this request's page may be shared: caching is on, no staff user, nothing flashed."""
    return (current_app.extensions["sportello.pages"].seconds > 0 and g.get("user") is None
            and not cookie_session.get("_flashes"))


def cached(key: tuple, build, store: str = "sportello.pages", unless=None, otherwise=None):
    """Return build() for key in this content generation, locale and URL root, computing it on a miss.

    build() returning None (nothing to show) is not kept; outside a request nothing is. unless is
    (a prebuilt SQL condition, its parameters), read with the generation: when it holds, this
    request gets otherwise() instead (say, the page of a visitor whose vote it shows)."""
    cache = current_app.extensions[store]
    if cache.seconds <= 0 or not has_request_context():
        return build()
    from portal.i18n import get_locale

    current, personal = _read_generation(unless)
    if personal:
        return otherwise()
    full = (*key, get_locale(), request.script_root, current)
    value = cache.get(full)
    if value is not None:
        return value
    shared = current_app.extensions["sportello.shared_pages"]
    name = hashlib.sha1(repr((store, full)).encode()).hexdigest()
    found = shared.get(name, current)
    if found is not None:
        value, left = found
        cache.put(full, value, left)  # no older than the first render allows
        return value
    value = build()
    if value is not None:
        shared.put(name, current, value, cache.seconds)
        cache.put(full, value)
    return value


def shared_context() -> dict:
    """Template values that render a page for every visitor: the CSRF token as a placeholder."""
    placeholder = current_app.extensions["sportello.token_placeholder"]
    return {"csrf_token": lambda: placeholder}


def fill_token(page: str) -> str:
    """Put this visitor's CSRF token where a shared page has the placeholder."""
    placeholder = current_app.extensions["sportello.token_placeholder"]
    if placeholder not in page:
        return page
    from flask_wtf.csrf import generate_csrf

    return page.replace(placeholder, generate_csrf())
