"""What every search backend takes and gives: documents in, ranked hits out.

The interface is small on purpose (index, remove, search) so the portal can switch between
keyword, semantic and hybrid search by configuration, and tests can use any of them on a
temporary folder without Flask.
"""
from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

# Queries longer than this are cut: a pasted e-mail must not turn into a 2,000-term query.
MAX_QUERY_CHARS = 256
MAX_LIMIT = 100

Progress = Callable[[int, int], None]   # (done, total)


@dataclass(frozen=True)
class Document:
    """One article as search sees it (the portal converts its rows into these)."""

    slug: str
    title: str
    locale: str = "en"
    category: str = ""
    tags: tuple[str, ...] = ()
    summary: str = ""
    body: str = ""
    concept: str = ""
    # Changes whenever the article changes (e.g. updated_at); lets a service find stale entries.
    stamp: str = ""


@dataclass(frozen=True)
class Hit:
    """One ranked result. `snippet` is HTML-safe: text escaped, matches wrapped in <mark>."""

    slug: str
    score: float
    snippet: str = ""
    title: str = ""
    locale: str = ""
    category: str = ""
    concept: str = ""
    # 0..1: the calibrated belief that this result answers the query (search/confidence.py)
    confidence: float = 0.0


@dataclass(frozen=True)
class Results:
    """One page of results, with the total number of matches and a "did you mean" suggestion."""

    query: str
    total: int
    hits: tuple[Hit, ...] = ()
    suggestion: str | None = None
    page: int = 1
    limit: int = 10
    mode: str = ""
    # Why the query was not run as typed (e.g. "empty", "truncated"); None when it was.
    note: str | None = None
    # Whether the first result is believed to answer the query (its confidence passed the
    # calibration's threshold); False when there are no results.
    answered: bool = False


@dataclass(frozen=True)
class Health:
    """What a backend knows about its own index, so a service can decide to rebuild it."""

    ok: bool
    count: int = 0
    reason: str = ""
    stamps: dict[str, str] = field(default_factory=dict)


class SearchError(RuntimeError):
    """Base class for search failures a caller may want to report (never a bare LockError)."""


class IndexBusy(SearchError):
    """Another writer held the index lock for longer than the configured wait."""


def clean_query(query: str | None) -> tuple[str, str | None]:
    """Returns (query to run, note): whitespace collapsed, over-long queries cut at a word."""
    text = " ".join((query or "").split())
    if not text:
        return "", "empty"
    if len(text) > MAX_QUERY_CHARS:
        cut = text[:MAX_QUERY_CHARS]
        return (cut.rsplit(" ", 1)[0] or cut), "truncated"
    return text, None


def clamp_paging(limit: int, page: int) -> tuple[int, int]:
    """Keeps limit in 1..MAX_LIMIT and page >= 1 (callers validate; this only protects)."""
    return max(1, min(int(limit), MAX_LIMIT)), max(1, int(page))


class SearchBackend(abc.ABC):
    """A searchable index of Documents. Implementations must be safe across processes."""

    name = "base"

    @abc.abstractmethod
    def index(self, docs: Iterable[Document]) -> None:
        """Adds or replaces the given documents (by slug)."""

    @abc.abstractmethod
    def remove(self, slugs: Iterable[str]) -> None:
        """Removes documents by slug; unknown slugs are ignored."""

    @abc.abstractmethod
    def search(self, query: str, locale: str | None = None, category: str | None = None,
               limit: int = 10, page: int = 1, plausible_only: bool = True) -> Results:
        """Runs a query and returns one page of results; never raises on odd input.

        plausible_only keeps only results whose confidence passes the plausible floor (and
        counts only those in total); False ranks every candidate ("possibly related")."""

    @abc.abstractmethod
    def clear(self) -> None:
        """Empties the index (and repairs it if it was unreadable)."""

    @abc.abstractmethod
    def health(self) -> Health:
        """Reports whether the index is readable and what it holds (slug -> stamp)."""

    def rebuild(self, docs: Sequence[Document], progress: Progress | None = None) -> None:
        """Replaces the whole index with docs, reporting progress as (done, total)."""
        self.clear()
        total, done = len(docs), 0
        for start in range(0, total, 200):
            batch = docs[start:start + 200]
            self.index(batch)
            done += len(batch)
            if progress:
                progress(done, total)
        if progress and not total:
            progress(0, 0)

    def suggest(self, prefix: str, locale: str | None = None, limit: int = 8, prefer: str | None = None) -> list[Hit]:
        """Titles matching what was typed, for search-as-you-type, titles in `prefer` first
        (backends may do better)."""
        return []

    def close(self) -> None:
        """Releases open files; the backend may be used again afterwards."""
