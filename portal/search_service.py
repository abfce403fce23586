"""The portal's side of search: builds the backend from config, keeps it in step with the DB.

`init_app` registers a SearchService as app.extensions["sportello.search"]. Nothing heavy
happens there: the embedding model loads on the first semantic search or indexing, and the
index is checked against the database on first use (or by `sportello serve`/`init`), then
rebuilt or patched if it is missing, stale, unreadable or built with another encoder.
"""
from __future__ import annotations

import html
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import click
from flask import current_app, url_for
from flask.cli import with_appcontext
from sqlalchemy import select

from portal import pagecache
from search.base import Document, Results
from search.registry import BACKENDS, create_backend

MODES = tuple(BACKENDS)
# How many hits folding looks at: enough to meet a concept's translations on later pages.
FOLD_WINDOW_MIN, FOLD_WINDOW_MAX = 30, 100


@dataclass(frozen=True)
class Row:
    """One search result as pages and the API show it: the hit joined with the article row."""

    slug: str
    title: str
    locale: str
    category: str
    url: str
    snippet: str
    score: float
    summary: str = ""
    concept: str = ""
    also_in: tuple = ()  # other versions of the same concept: ((locale, slug), ...)
    confidence: float = 0.0  # 0..1: the belief that this article answers the query (search.confidence)


@dataclass(frozen=True)
class Answer:
    """One page of results for the views."""

    query: str
    mode: str
    total: int
    took_ms: float
    suggestion: str | None
    rows: tuple[Row, ...] = ()
    page: int = 1
    limit: int = 10
    note: str | None = None
    extra: dict = field(default_factory=dict)
    answered: bool = False  # the first result is believed to answer the query


def stamp(article) -> str:
    """What changes whenever an indexed article changes (compared on start to find stale entries).

    Every save bumps the version and every content change the checksum; a timestamp would not
    do, since SQLite hands datetimes back without their time zone and the strings would differ.
    """
    return f"{article.version}|{article.checksum}"


def to_document(article) -> Document:
    """An Article row as a search Document."""
    return Document(
        slug=article.slug, title=article.title, locale=article.locale,
        category=article.category.slug if article.category else "",
        tags=tuple(str(t) for t in (article.tags or ())), summary=article.summary or "",
        body=article.body or "", concept=article.concept or "", stamp=stamp(article))


class SearchService:
    """Owns the backends of one app; safe to share between threads of a worker."""

    def __init__(self, app):
        self.mode = app.config.get("SEARCH_BACKEND", "hybrid")
        if self.mode not in BACKENDS:
            raise ValueError(f"SEARCH_BACKEND={self.mode!r}: choose one of {', '.join(MODES)}")
        self.path = Path(app.config["HOME"]) / "search"
        self.encoder = app.config.get("EMBEDDING_MODEL") or "e5-small-nano"
        self.cache_dir = app.config.get("EMBEDDING_CACHE_DIR") or str(self.path / "embedding-cache")
        self.query_max = int(app.config.get("SEARCH_QUERY_MAX", 200))
        self.auto = bool(app.config.get("AUTO_REINDEX", True))
        self._backends = {}
        self._lock = threading.Lock()
        self._checked = False

    # ---- backends --------------------------------------------------------------------
    @property
    def indexed_modes(self) -> tuple[str, ...]:
        """Modes this install can serve: keyword-only installs skip the model entirely."""
        return ("keyword",) if self.mode == "keyword" else MODES

    def backend(self, mode: str | None = None):
        """The backend for a mode (created once; all modes share one folder)."""
        mode = mode if mode in self.indexed_modes else self.mode
        with self._lock:
            if mode != "hybrid" and "hybrid" in self.indexed_modes:
                # The sides of the hybrid backend serve the single modes too: separate
                # instances would map every index file twice into each worker.
                if "hybrid" not in self._backends:
                    self._backends["hybrid"] = create_backend("hybrid", str(self.path), **self._options())
                return getattr(self._backends["hybrid"], mode)
            if mode not in self._backends:
                opts = {} if mode == "keyword" else self._options()
                self._backends[mode] = create_backend(mode, str(self.path), **opts)
            return self._backends[mode]

    def _options(self) -> dict:
        return {"encoder": self.encoder, "cache_dir": self.cache_dir}

    @property
    def writer(self):
        """The backend that indexes: hybrid keeps both sides, keyword only its own."""
        return self.backend("keyword" if self.mode == "keyword" else "hybrid")

    # ---- keeping in step -------------------------------------------------------------
    def apply(self, upserted=(), removed=()) -> None:
        """Indexes saved articles and drops removed ones (Article rows or slugs); call after commit."""
        docs, gone = [], set()
        for item in removed:
            gone.add(item if isinstance(item, str) else item.slug)
        for article in upserted:
            if getattr(article, "is_public", article.status == "published"):
                docs.append(to_document(article))
            else:
                gone.add(article.slug)
        if docs:
            self.writer.index(docs)
        if gone - {d.slug for d in docs}:
            self.writer.remove(gone - {d.slug for d in docs})
        if docs or gone:
            _index_changed()

    def published(self) -> list:
        """Every published article, with its category loaded."""
        from portal import db
        from portal.models import Article

        rows = db.get_session().scalars(select(Article).where(Article.status == "published").order_by(Article.id))
        return list(rows)

    def rebuild(self, progress=None) -> int:
        """Rebuilds the indexes from the database and returns how many articles they hold;
        progress is a callable progress(done, total), or True for a progress bar."""
        docs = [to_document(a) for a in self.published()]
        self._run_rebuild(docs, progress)
        self._checked = True
        return len(docs)

    def ensure_ready(self, progress=False) -> str:
        """Checks the index against the database; rebuilds or patches it. Returns what it did."""
        health = self.writer.health()
        articles = self.published()
        want = {a.slug: stamp(a) for a in articles}
        if not health.ok:
            current_app.logger.warning("search index needs a rebuild: %s", health.reason)
            self._run_rebuild([to_document(a) for a in articles], progress)
            action = f"rebuilt ({health.reason})"
        else:
            stale = [a for a in articles if health.stamps.get(a.slug) != want[a.slug]]
            extra = set(health.stamps) - set(want)
            if stale or extra:
                current_app.logger.warning("search index stale: %d changed, %d removed", len(stale), len(extra))
                self.apply(stale, extra)
            action = f"patched ({len(stale)} updated, {len(extra)} removed)" if stale or extra else "ok"
        self._checked = True
        return action

    def _run_rebuild(self, docs, progress) -> None:
        if progress is True:
            # the keyword side reports articles, then the semantic side passages to embed
            with click.progressbar(length=max(len(docs), 1), label="indexing") as bar:
                def step(done, total):
                    bar.length, bar.pos = max(total, 1), done
                    bar.update(0)
                self.writer.rebuild(docs, step)
        else:
            self.writer.rebuild(docs, progress or None)
        _index_changed()

    def _check_once(self) -> None:
        """On first use in a worker, notice a missing/stale/corrupt index (unless turned off)."""
        if self._checked or not self.auto:
            return
        with self._lock:
            if self._checked:
                return
            self._checked = True
        try:
            self.ensure_ready()
        except Exception:  # noqa: BLE001 - a broken index must not take search down with it
            current_app.logger.exception("search index check failed")

    # ---- querying --------------------------------------------------------------------
    def search(self, query, mode=None, locale=None, category=None, limit=10, page=1, prefer=None) -> Answer:
        """Runs a search and joins the hits with the database (published articles only).

        With `prefer` (the visitor's locale) translations are folded: one result per concept,
        the visitor's version first, the others listed in `also_in`. Folding needs to see the
        translations together, so a wider window is fetched and paginated after folding.

        Answers are kept per content generation (portal.pagecache), which every article commit
        and every index write moves on, in any process: an answer never outlives its sources.
        """
        self._check_once()
        start = time.perf_counter()
        key = ("answer", (query or "")[: self.query_max], mode or self.mode, locale or None, category or None,
               limit, page, prefer)
        answer = pagecache.cached(key, store="sportello.answers", build=lambda: self._search(
            query, mode, locale, category, limit, page, prefer))
        return replace(answer, took_ms=round((time.perf_counter() - start) * 1000, 1))

    def _search(self, query, mode, locale, category, limit, page, prefer, plausible_only=True) -> Answer:
        mode = mode or self.mode
        backend = self.backend(mode)
        start = time.perf_counter()
        text = (query or "")[: self.query_max]
        if prefer:
            window = min(FOLD_WINDOW_MAX, max(FOLD_WINDOW_MIN, 3 * limit * page))
            res: Results = backend.search(text, locale=locale or None, category=category or None,
                                          limit=window, page=1, plausible_only=plausible_only)
            folded = self._fold_to_locale(self._rows(res.hits), prefer)
            # Past the window nothing was folded; count those hits as they are.
            total = len(folded) + max(0, res.total - len(res.hits))
            rows = tuple(folded[(page - 1) * limit: page * limit])
            page_no, limit_no = page, limit
        else:
            res = backend.search(text, locale=locale or None, category=category or None,
                                 limit=limit, page=page, plausible_only=plausible_only)
            rows, total, page_no, limit_no = self._rows(res.hits), res.total, res.page, res.limit
        took = (time.perf_counter() - start) * 1000
        return Answer(query=res.query, mode=backend.name, total=total, took_ms=round(took, 1),
                      suggestion=res.suggestion, rows=rows, page=page_no, limit=limit_no, note=res.note,
                      answered=res.answered and bool(rows))

    def related(self, query, locale=None, limit=3) -> tuple[Row, ...]:
        """Up to `limit` articles closest to a query that has no answer ("possibly related"), in
        the visitor's language where a translation exists; nothing is cut for low confidence."""
        self._check_once()
        key = ("related", (query or "")[: self.query_max], locale, limit)
        answer = pagecache.cached(key, store="sportello.answers", build=lambda: self._search(
            query, None, None, None, limit, 1, locale, plausible_only=False))
        return answer.rows

    @staticmethod
    def _fold(rows, prefer) -> list[Row]:
        """One row per concept, the preferred locale's version shown where the rows hold it
        (search.fold)."""
        from search.fold import fold_hits

        return [replace(f.hit, also_in=f.also_in) for f in fold_hits(rows, prefer)]

    def _fold_to_locale(self, rows, prefer) -> list[Row]:
        """_fold(), then each row still shown in another language whose concept has a
        published version in `prefer` shows that version instead.

        The rows hold only the results that passed the confidence cut, and a query in one
        language lends its translations' versions less confidence, so an English visitor's
        Italian query kept the Italian article and cut the English one; the visitor reads
        the English one (it inherits the concept's confidence, and the snippet becomes its
        summary: the matched excerpt is in the other language)."""
        from portal import db
        from portal.models import Article, Category

        rows = self._fold(rows, prefer)
        want = {r.concept for r in rows if r.concept and r.locale != prefer}
        if not prefer or not want:
            return rows
        found = {a.concept: a for a in db.get_session().execute(
            select(Article.slug, Article.title, Article.locale, Category.slug.label("category"), Article.summary,
                   Article.concept)
            .outerjoin(Category, Category.id == Article.category_id)
            .where(Article.concept.in_(want), Article.locale == prefer, Article.status == "published"))}
        out = []
        for r in rows:
            a = found.get(r.concept) if r.locale != prefer else None
            if a is None:
                out.append(r)
                continue
            others = ((r.locale, r.slug),) + tuple(x for x in r.also_in if x[1] != a.slug)
            out.append(replace(r, slug=a.slug, title=a.title, locale=a.locale, category=a.category or "",
                               url=url_for("kb.article", slug=a.slug), summary=a.summary or "",
                               snippet=html.escape(a.summary or "", quote=False), also_in=others))
        return out

    def suggest(self, prefix, prefer=None, limit=8) -> list[Row]:
        """Titles for search-as-you-type: one per concept, the `prefer` (visitor's) language
        first; a title in another language only where none in `prefer` matched (its row's
        locale says which, for a language tag)."""
        self._check_once()
        hits = self.backend("keyword").suggest((prefix or "")[: self.query_max], None, 2 * limit, prefer)
        return self._fold(self._rows(hits), prefer)[:limit]

    def _rows(self, hits) -> tuple[Row, ...]:
        from portal import db
        from portal.models import Article, Category

        if not hits:
            return ()
        # The shown columns only: whole rows would load every hit's body and HTML as well.
        found = {a.slug: a for a in db.get_session().execute(
            select(Article.slug, Article.title, Article.locale, Category.slug.label("category"), Article.summary,
                   Article.concept)
            .outerjoin(Category, Category.id == Article.category_id)
            .where(Article.slug.in_([h.slug for h in hits]), Article.status == "published"))}
        rows = []
        for h in hits:
            a = found.get(h.slug)
            if a is None:        # unpublished since it was indexed: never show it
                continue
            rows.append(Row(slug=a.slug, title=a.title, locale=a.locale, category=a.category or "",
                            url=url_for("kb.article", slug=a.slug), snippet=h.snippet,
                            score=round(float(h.score), 4), summary=a.summary or "", concept=a.concept or "",
                            confidence=getattr(h, "confidence", 0.0)))
        return tuple(rows)


def _index_changed() -> None:
    """Outdate cached answers: they may have been computed between an article's commit and now."""
    from portal import pagecache

    with current_app.extensions["sportello.engine"].begin() as connection:
        pagecache.bump(connection)
    pagecache.touch()


def init_app(app) -> None:
    """Registers the search service, the search blueprint and `sportello reindex`."""
    app.extensions["sportello.search"] = SearchService(app)
    from portal.views import search as search_views

    app.register_blueprint(search_views.bp)
    app.cli.add_command(reindex_command)


@click.command("reindex")
@with_appcontext
def reindex_command():
    """Rebuild the keyword and semantic indexes from the database, with a progress bar."""
    service = current_app.extensions["sportello.search"]
    click.echo(f"reindexing the published articles ({service.mode}, encoder {service.encoder})")
    start = time.perf_counter()
    count = service.rebuild(progress=True)
    click.echo(f"done: {count} articles in {time.perf_counter() - start:.1f}s")
