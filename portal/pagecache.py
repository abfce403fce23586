"""Caches of what anonymous visitors all see alike: article and home pages, search answers.

Correctness rests on the content generation (models.ContentState), a counter that goes up in
the same transaction as any change to an article or a category, whichever process, app or
command made it. Every lookup takes it first and it is part of every key, so nothing rendered
before a publish is served once the publish has committed: the old entries stop matching. It
is read from the database, or from memory while the home's content stamp (portal.changes) shows
that no commit changed content since the last read. Taking it before building the value also
means a value is never older than its key.

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
from pathlib import Path
from itertools import chain

from flask import current_app, g, has_request_context, request
from flask import session as cookie_session
from sqlalchemy import select, update

from portal import changes
from portal.lru import ExpiringLRU
from portal.models import Article, Category, ContentState

_STATE = ContentState.__table__
log = logging.getLogger(__name__)


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
            from portal.db import create_private

            create_private(self.path)  # pages of the portal: the owner's only, like the database
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
    """Bump the generation (and the content stamp) on every flush that changes articles or
    categories; add the caches."""
    stamps = changes.for_app(app)
    changes.watch(app.extensions["sportello.db"], stamps, changes.CONTENT, _bump_on_content_change)
    app.extensions["sportello.generation"] = changes.Memo(stamps, changes.CONTENT)
    seconds = float(app.config.get("PAGE_CACHE_SECONDS") or 0)
    app.extensions["sportello.pages"] = ExpiringLRU(seconds, size=2048)
    app.extensions["sportello.answers"] = ExpiringLRU(seconds, size=4096)
    limit = app.config.get("WTF_CSRF_TIME_LIMIT", 3600)
    app.extensions["sportello.signed_tokens"] = ExpiringLRU(min(60.0, (limit or 3600) / 10), size=10_000)
    app.extensions["sportello.shared_pages"] = SharedStore(Path(app.config["HOME"]) / "cache" / "pages.sqlite")
    # The same in every worker of this home (pages travel between them), and no article text
    # can contain it by chance or on purpose.
    app.extensions["sportello.token_placeholder"] = "csrf-placeholder-" + hmac.new(
        str(app.config["SECRET_KEY"]).encode(), b"page cache token placeholder", hashlib.sha256).hexdigest()[:32]


def _bump_on_content_change(session) -> bool:
    """At a flush that changes articles or categories, bump the generation; say whether it did."""
    if not any(isinstance(obj, (Article, Category)) for obj in chain(session.new, session.dirty, session.deleted)):
        return False
    # Core on the session's connection: inside a flush, an ORM statement would flush again.
    bump(session.connection())
    return True


def bump(connection) -> None:
    """Make every cached page and answer outdated, in the connection's transaction (through a
    session, the content stamp is touched at its commit; otherwise call touch() after yours)."""
    connection.execute(update(_STATE).values(generation=_STATE.c.generation + 1))


def touch() -> None:
    """After a commit that bumped the generation outside a session: tell the other processes."""
    current_app.extensions["sportello.changes"].touch(changes.CONTENT)


_GENERATION = select(_STATE.c.generation).where(_STATE.c.id == 1)  # built once: read on every lookup


def generation(session) -> int:
    """The content generation as this session sees it now."""
    return session.connection().execute(_GENERATION).scalar() or 0


def _current_generation() -> int:
    """The content generation, read again only when a commit has touched the content stamp.

    A cached page needs nothing else from the database, and a session (transaction, pool
    checkout, rollback, result objects) cost several times the query itself."""
    from portal.db import read_first

    def load():
        row = read_first(current_app.extensions["sportello.engine"], _GENERATION)
        return (row[0] or 0) if row else 0

    return current_app.extensions["sportello.generation"].get("generation", load)


def shareable() -> bool:
    """True when this request's page may be shared: caching is on, no staff user, nothing flashed."""
    return (current_app.extensions["sportello.pages"].seconds > 0 and g.get("user") is None
            and not cookie_session.get("_flashes"))


def cached(key: tuple, build, store: str = "sportello.pages"):
    """Return build() for key in this content generation, locale and URL root, computing it on a miss.

    build() returning None (nothing to show) is not kept; outside a request nothing is."""
    cache = current_app.extensions[store]
    if cache.seconds <= 0 or not has_request_context():
        return build()
    from portal.i18n import get_locale

    current = _current_generation()
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
    return page.replace(placeholder, _visitor_token())


def _visitor_token() -> str:
    """This visitor's signed CSRF token; one signed for the same session in the last minute is
    given again. Signing cost more than the rest of a cached page, and a reused token stays
    bound to its session and valid for the time limit (an hour) less that minute at most."""
    from flask_wtf.csrf import generate_csrf

    field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    raw = cookie_session.get(field)
    if not isinstance(raw, str) or g.get(field):
        return generate_csrf()  # a new session (it makes the raw token), or already signed here
    signed = current_app.extensions["sportello.signed_tokens"]
    token = signed.get(raw)
    if token is None:
        token = generate_csrf()
        signed.put(raw, token)
    setattr(g, field, token)  # what generate_csrf() would keep for the rest of the request
    return token
