"""Keyword search on Whoosh: BM25F over per-locale stemmed fields, typo tolerance, snippets.

Each locale has its own fields (title_it, body_it, ...) analyzed with that locale's stemmer,
so a query with no locale is analyzed once per locale and matched against the right fields.
Queries are never handed to Whoosh's parser: words are taken as plain text, so `"`, `(`, `*`,
`OR` or `:` can't raise. A word the index has never seen (`tiket`) is expanded to its nearest
known words (`ticket`) at a lower weight; known words are not, which keeps precision.
"""
from __future__ import annotations

import collections.abc
import json
import os
import threading

import numpy as np
from whoosh import index as whoosh_index
from whoosh.fields import ID, STORED, TEXT, Schema
from whoosh.index import LockError
from whoosh.query import And, Or, Term
from whoosh.scoring import BM25F
from whoosh.writing import CLEAR

from . import analysis, bm25, lexicon, mapped, titles, vocab
from .base import (Document, Health, Hit, IndexBusy, Results, SearchBackend, clamp_paging,
                   clean_query)
from .confidence import Evidence, answered, calibration_for, confidences
from .locks import write_lock

SCHEMA_VERSION = 4                  # 4: no word positions stored (see _schema)
OTHER = "xx"                        # fields for articles in a locale we have no stemmer for
FIELD_LOCALES = analysis.LOCALES + (OTHER,)
# title > tags > summary > body; tuned on the dev sets (bench/quality.py).
FIELD_BOOSTS = {"title": 2.5, "tags": 2.0, "summary": 1.5, "body": 1.0}
EXPANSION_WEIGHT = 0.6              # a corrected word counts less than a word typed right
WORDS_BOOST = 1.0                   # weight of exact-word matches (see _query)
MAX_WORDS = 6                       # exact-word clauses per query, rarest first
MAX_TERMS = 10                      # (locale, term) pairs scored per query, rarest first
COMMON_SHARE = 0.25                 # a term in more than this share of documents is dropped...
COMMON_MIN_DF = 50                  # ...once it is in more than this many (small KBs keep all)
MIN_FUZZY_LEN = 4                   # shorter words have too many neighbours to guess from
MIN_KNOWN_LEN = 3                   # words counted as known or unknown (answer confidence)
BM25_B, BM25_K1 = 0.75, 1.2
CONFIDENCE_POOL = 50                # candidates whose confidence is computed


def _field_locale(locale: str | None) -> str:
    return locale if locale in analysis.LOCALES else OTHER


def _schema() -> Schema:
    # phrase=False: postings keep each word's frequency but not its positions. Nothing here
    # runs phrase queries, and positions were most of a posting block: decoding the postings
    # of a query's new words, a large part of its cost, took several times longer with them.
    fields = dict(
        slug=ID(stored=True, unique=True, sortable=True), locale=ID(stored=True), category=ID(stored=True),
        concept=ID(stored=True), stamp=STORED, title_raw=STORED, text=STORED,
        # folded words of everything: the vocabulary for typo expansion and "did you mean"
        words=TEXT(analyzer=analysis.plain_analyzer(), phrase=False),
        title_prefix=TEXT(analyzer=analysis.plain_analyzer(), phrase=False),
    )
    for loc in FIELD_LOCALES:
        ana = analysis.analyzer_for(loc if loc != OTHER else None)
        for name in FIELD_BOOSTS:
            fields[f"{name}_{loc}"] = TEXT(analyzer=ana, phrase=False)
    return Schema(**fields)


class _LazyFields(collections.abc.Mapping):
    """A hit's stored fields, read from the index on first access."""

    __slots__ = ("_searcher", "_docnum", "_fields")

    def __init__(self, searcher, docnum):
        self._searcher, self._docnum, self._fields = searcher, docnum, None

    @property
    def docnum(self) -> int:
        """The document's number in the searcher's reader."""
        return self._docnum

    def _load(self) -> dict:
        if self._fields is None:
            self._fields = self._searcher.stored_fields(self._docnum)
        return self._fields

    def __getitem__(self, key):
        return self._load()[key]

    def __iter__(self):
        return iter(self._load())

    def __len__(self):
        return len(self._load())


class _ArrayOr(Or):
    """An Or scored by Whoosh's array matcher, for when Whoosh itself runs the query (the
    tests compare search/bm25.py with it): every posting of every clause is read into one
    score array per chunk of documents. Whoosh picks it by itself only up to 5,000 documents;
    past that its binary tree of union matchers was 2-5x slower on our queries (bench/speed.py).
    A class attribute, so it survives Query.normalize()."""

    matcher_type = Or.ARRAY_MATCHER


class KeywordBackend(SearchBackend):
    """Whoosh index in `path`; safe for many reader and writer processes."""

    name = "keyword"

    def __init__(self, path: str, lock_timeout: float = 30.0, **_ignored):
        self.path = os.fspath(path)
        self.lock_timeout = lock_timeout
        self._ix = None
        self._searcher = None
        self._lock = threading.Lock()
        self._correction_cache: dict = {}
        self._scorer: bm25.Scorer | None = None
        self._arrays = bm25.SegmentArrays()     # lengths and postings per segment, across generations
        self._vocab = vocab.Vocabulary("words")   # typo candidates per segment, likewise
        self.lexicon = lexicon.default()          # words of it/ro/en "did you mean" must not rewrite

    # ---- storage -------------------------------------------------------------------------
    @property
    def _lockfile(self) -> str:
        return os.path.join(self.path, ".write.lock")

    @property
    def _versionfile(self) -> str:
        return os.path.join(self.path, "sportello-keyword.json")

    def _open(self):
        """Opens (creating if needed) the index; callers hold self._lock."""
        if self._ix is None:
            os.makedirs(self.path, exist_ok=True)
            # segment files read from the map, not from a copy of it
            storage = mapped.MappedStorage(self.path)
            if not storage.index_exists():
                with write_lock(self._lockfile, self.lock_timeout):
                    if not storage.index_exists():
                        self._create()
            self._ix = storage.open_index()
        return self._ix

    def _create(self) -> None:
        """Creates an empty index and records the schema version (holding the write lock)."""
        mapped.MappedStorage(self.path).create_index(_schema())
        tmp = self._versionfile + ".tmp"
        with open(tmp, "w") as fh:
            json.dump({"schema": SCHEMA_VERSION}, fh)
        os.replace(tmp, self._versionfile)

    def _get_searcher(self):
        """A searcher on the latest commit (another process may have written since)."""
        with self._lock:
            ix = self._open()
            if self._searcher is None or not self._searcher.up_to_date():
                # the old searcher is left to the garbage collector, not closed: another
                # thread may still be reading from it
                self._searcher = ix.searcher(weighting=BM25F(B=BM25_B, K1=BM25_K1))
            return self._searcher

    def _scorer_for(self, searcher) -> bm25.Scorer:
        """The numpy BM25F scorer of a searcher, built once per index generation."""
        with self._lock:
            if self._scorer is None or self._scorer.searcher is not searcher:
                self._scorer = bm25.Scorer(searcher, self._arrays, B=BM25_B, K1=BM25_K1)
                self._vocab.forget_except(self._scorer.segments)
            return self._scorer

    def _write(self, fn) -> None:
        """Runs fn(writer) under the cross-process lock and commits; never leaks LockError."""
        with write_lock(self._lockfile, self.lock_timeout):
            with self._lock:
                ix = self._open()
            try:
                # _lk=False: write_lock above already excludes other writers; whoosh's own lock
                # would leak for good if the writer's constructor failed (disk full).
                writer = ix.writer(timeout=self.lock_timeout, delay=0.05, _lk=False)
            except LockError as exc:   # a process that bypassed our lock (e.g. an old version)
                raise IndexBusy(f"keyword index busy: {self.path}") from exc
            try:
                fn(writer)
                writer.commit()
            except BaseException:
                # A failed commit (disk full) is cancelled too, so its temporary files go.
                try:
                    writer.cancel()
                except Exception:  # noqa: BLE001 - the original error is the one to report
                    pass
                raise

    # ---- SearchBackend -------------------------------------------------------------------
    def index(self, docs) -> None:
        """Adds or replaces documents by slug in one commit."""
        docs = list(docs)
        if docs:
            self._write(lambda w: [w.update_document(**self._fields(d)) for d in docs])

    def remove(self, slugs) -> None:
        """Deletes documents by slug in one commit."""
        slugs = [s for s in slugs if s]
        if slugs:
            self._write(lambda w: [w.delete_by_term("slug", s) for s in slugs])

    def rebuild(self, docs, progress=None) -> None:
        """Replaces the index in one commit, as a single new segment (fastest to read).

        The new documents go into a new segment while the old ones stay searchable; the
        commit (mergetype=CLEAR) then drops every old segment in the same atomic TOC write,
        so readers see either the whole old index or the whole new one, never an empty one.
        Only an index that can't be reused (missing, unreadable, other schema) is cleared first.
        """
        docs = list(docs)
        with write_lock(self._lockfile, self.lock_timeout):
            if not self._reusable():
                self.clear()
            with self._lock:
                ix = self._open()
            writer = ix.writer(timeout=self.lock_timeout, delay=0.05, _lk=False)  # see _write
            try:
                for n, doc in enumerate(docs, 1):
                    writer.add_document(**self._fields(doc))
                    if progress and (n % 200 == 0 or n == len(docs)):
                        progress(n, len(docs))
                writer.commit(mergetype=CLEAR)
            except BaseException:
                try:
                    writer.cancel()
                except Exception:  # noqa: BLE001 - the original error is the one to report
                    pass
                raise
        if progress and not docs:
            progress(0, 0)

    def _reusable(self) -> bool:
        """True if the index on disk opens and has this schema version (caller holds the lock)."""
        try:
            with open(self._versionfile) as fh:
                if json.load(fh).get("schema") != SCHEMA_VERSION:
                    return False
            with self._lock:
                self._ix = None          # reopen: another process may have replaced it
                self._open().latest_generation()
            return True
        except Exception:  # noqa: BLE001 - corrupt files raise all sorts of errors
            with self._lock:
                self._ix = self._searcher = None
            return False

    def clear(self) -> None:
        """Recreates an empty index (also the cure for an unreadable one)."""
        with write_lock(self._lockfile, self.lock_timeout):
            with self._lock:
                self._ix = self._searcher = None
                os.makedirs(self.path, exist_ok=True)
                for name in os.listdir(self.path):
                    if name.endswith((".toc", ".seg", ".pst", ".trm", ".fdt", ".fdi")) or name.startswith("_"):
                        os.remove(os.path.join(self.path, name))
                self._create()

    def health(self) -> Health:
        """Opens the index and reads every stored stamp; any failure means 'rebuild me'."""
        try:
            if not whoosh_index.exists_in(self.path):
                return Health(False, reason="missing")
            with open(self._versionfile) as fh:
                if json.load(fh).get("schema") != SCHEMA_VERSION:
                    return Health(False, reason="schema changed")
            searcher = self._get_searcher()
            stamps = {f["slug"]: f.get("stamp", "") for f in searcher.all_stored_fields()}
            return Health(True, count=len(stamps), stamps=stamps)
        except Exception as exc:  # noqa: BLE001 - corrupt files raise all sorts of errors
            with self._lock:
                self._ix = self._searcher = None
            return Health(False, reason=f"unreadable: {type(exc).__name__}: {exc}")

    def close(self) -> None:
        """Drops the open searcher and index handles."""
        with self._lock:
            self._ix = self._searcher = None

    @staticmethod
    def _fields(doc: Document) -> dict:
        loc = _field_locale(doc.locale)
        text = "\n\n".join(p for p in (doc.summary, doc.body) if p)
        return {
            "slug": doc.slug, "locale": doc.locale or "", "category": doc.category or "",
            "concept": doc.concept or "", "stamp": doc.stamp, "title_raw": doc.title,
            "text": analysis.plain_text(text),
            "words": " ".join((doc.title, " ".join(doc.tags), doc.summary, doc.body)),
            "title_prefix": doc.title,
            f"title_{loc}": doc.title, f"tags_{loc}": " ".join(t.replace("_", " ") for t in doc.tags),
            f"summary_{loc}": doc.summary, f"body_{loc}": doc.body,
        }

    # ---- querying ------------------------------------------------------------------------
    def _known(self, reader, word: str) -> bool:
        """True if the word, or its stem in some locale, occurs in the index."""
        if reader.doc_frequency("words", word):
            return True
        for loc in analysis.LOCALES:
            for term in analysis.terms(word, loc):
                if any(reader.doc_frequency(f"{f}_{loc}", term) for f in ("title", "body")):
                    return True
        return False

    def _corrections(self, reader, word: str) -> list[str]:
        """Nearest known words to an unknown word: smallest edit distance, most frequent first."""
        key = (word, reader.generation() if hasattr(reader, "generation") else None, id(reader))
        cached = self._correction_cache.get(key)
        if cached is None:
            cached = self._correction_cache[key] = self._find_corrections(reader, word)
            if len(self._correction_cache) > 5000:
                self._correction_cache.clear()
        return cached

    def _find_corrections(self, reader, word: str) -> list[str]:
        maxdist = 1 if len(word) <= 5 else 2
        found = []
        # the first two letters must match: typos there are rare, and scanning the vocabulary
        # under a 2-letter prefix is what keeps this fast on a large index. The candidates
        # are reader.terms_within("words", word, maxdist, prefix=2), found from memory.
        for cand, dist in self._vocab.within(reader, word, maxdist, prefix=2):
            if cand != word:
                found.append((dist, -reader.doc_frequency("words", cand), cand))
        if not found:
            return []
        best = min(d for d, _, _ in found)
        return [c for d, _, c in sorted(found) if d == best][:3]

    def analyze(self, text: str, locale: str | None = None, reader=None) -> dict:
        """Parses a query: {'words', 'corrections' {word: [..]}, 'terms' {locale: {term: weight}}}."""
        if reader is None:
            searcher = self._get_searcher()
            reader = self._scorer_for(searcher).reader
        qwords = analysis.words(text)
        corrections, unknown, checked = {}, 0, 0
        for w in dict.fromkeys(qwords):
            if len(w) < MIN_KNOWN_LEN or w.isdigit():
                continue
            checked += 1
            if not self._known(reader, w):
                cands = self._corrections(reader, w) if len(w) >= MIN_FUZZY_LEN else []
                if cands:
                    corrections[w] = cands
                else:       # not a typo of a known word either
                    unknown += 1
        locales = [_field_locale(locale)] if locale else list(FIELD_LOCALES)
        per_locale = {}
        for loc in locales:
            ana_loc = loc if loc != OTHER else None
            weights = {t: 1.0 for t in analysis.terms(text, ana_loc)}
            for cands in corrections.values():
                for cand in cands:
                    for t in analysis.terms(cand, ana_loc):
                        weights.setdefault(t, EXPANSION_WEIGHT)
            if weights:
                per_locale[loc] = weights
        # stop words are not in the stemmed fields; a query made only of them ("perché",
        # "OR") is still meant, so then the folded unstemmed words are matched (see _query)
        fallback = [w for w in dict.fromkeys(qwords) if len(w) > 1]
        return {"words": qwords, "corrections": corrections, "terms": per_locale, "fallback": fallback,
                "unknown": unknown / checked if checked else 0.0}

    @staticmethod
    def _query(parsed: dict, reader):
        """An OR of per-field term clauses, pruned for speed (see MAX_TERMS, COMMON_SHARE)."""
        found: dict[tuple[str, str], list] = {}      # (locale, term) -> [(field, weight, df)]
        for loc, weights in parsed["terms"].items():
            for term, weight in weights.items():
                for field, boost in FIELD_BOOSTS.items():
                    df = reader.doc_frequency(f"{field}_{loc}", term)
                    if df:      # absent terms would cost a lookup per segment for nothing
                        found.setdefault((loc, term), []).append((field, boost * weight, df))
        if found:
            # Whoosh scores postings in Python, so a long question over a big index is slow;
            # the rarest terms carry the ranking (BM25's IDF), so only they are kept: terms in
            # more than COMMON_SHARE of the documents go unless nothing rarer is left, and at
            # most MAX_TERMS (locale, term) pairs are scored.
            limit = max(COMMON_MIN_DF, int(COMMON_SHARE * reader.doc_count()))
            by_df = sorted(found.items(), key=lambda kv: max(df for _, _, df in kv[1]))
            rare = [kv for kv in by_df if max(df for _, _, df in kv[1]) <= limit]
            chosen = (rare or by_df[:1])[:MAX_TERMS]
            clauses = [Term(f"{field}_{loc}", term, boost=weight)
                       for (loc, term), fields in chosen for field, weight, _ in fields]
            if WORDS_BOOST:
                # the exact (folded, unstemmed) words too, in any language: rewards literal
                # matches that stemming blurs, and words the query's language doesn't stem well
                limit_words = max(COMMON_MIN_DF, int(COMMON_SHARE * reader.doc_count()))
                dfs = [(reader.doc_frequency("words", w), w) for w in parsed.get("fallback", ())]
                rare_words = sorted((df, w) for df, w in dfs if 0 < df <= limit_words)[:MAX_WORDS]
                clauses += [Term("words", w, boost=WORDS_BOOST) for _, w in rare_words]
        else:           # only stop words (or unknown words): match the plain vocabulary
            clauses = [Term("words", w) for w in parsed.get("fallback", ()) if ("words", w) in reader]
        return _ArrayOr(clauses) if clauses else None

    @staticmethod
    def _filter(locale, category):
        parts = [Term("locale", locale)] if locale else []
        if category:
            parts.append(Term("category", category))
        return And(parts) if len(parts) > 1 else (parts[0] if parts else None)

    def _suggestion(self, text: str, corrections: dict) -> str | None:
        """The query with each unknown word replaced by its best correction, if any; a word of
        a known language is kept unless the correction is far more common in it (search/lexicon.py)."""
        if not corrections:
            return None
        out = []
        for word in text.split():
            key = analysis.fold(word).strip(".,;:!?\"'()")
            allowed = [c for c in corrections.get(key, ())
                       if self.lexicon is None or self.lexicon.may_replace(key, c)]
            out.append(allowed[0] if allowed else word)
        suggestion = " ".join(out)
        return suggestion if suggestion != text else None

    def scored(self, query: str, locale: str | None = None, category: str | None = None,
               limit: int = 100) -> tuple[list[tuple[str, float, dict]], dict, int]:
        """Top `limit` (slug, BM25F score, stored fields), the parsed query and the total."""
        text, _ = clean_query(query)
        searcher = self._get_searcher()
        scorer = self._scorer_for(searcher)
        parsed = self.analyze(text, locale, scorer.reader) if text else {"words": [], "corrections": {}, "terms": {}}
        q = self._query(parsed, scorer.reader)
        if q is None:
            return [], parsed, 0
        # scored with numpy (search/bm25.py): the same hits and scores as
        # searcher.search(q, filter=self._filter(locale, category)), without Whoosh's
        # per-posting Python calls, which were most of the query time
        allow = None
        if locale:
            allow = scorer.mask("locale", locale)
        if category:
            allow = scorer.mask("category", category) if allow is None else allow & scorer.mask("category", category)
        clauses = [(t.fieldname, t.text, t.boost) for t in q.subqueries]
        top, total = scorer.top(clauses, limit, allow)
        parsed["max_score"] = self._max_score(scorer.searcher, clauses)
        parsed["coverage"] = self._coverage(scorer, parsed, np.array([d for d, _ in top[:CONFIDENCE_POOL]], np.int64))
        # stored fields (with the whole text) load only when a caller looks at them, i.e. for
        # the hits of the page actually shown
        rows = [(scorer.slug(docnum), score, _LazyFields(searcher, docnum)) for docnum, score in top]
        return rows, parsed, total

    @staticmethod
    def _coverage(scorer, parsed, docnums: np.ndarray) -> np.ndarray:
        """Per document, the share of the query's words (weighted by IDF) that it contains, in
        any field of its own language: a near miss tends to match only part of the question."""
        out = np.zeros(len(docnums))
        if not len(docnums):
            return out
        other = None
        for loc, weights in parsed["terms"].items():
            if loc == OTHER:        # articles of a locale with no stemmer of its own
                if other is None:
                    other = ~np.logical_or.reduce([scorer.mask("locale", x) for x in analysis.LOCALES])
                mine = other[docnums]
            else:
                mine = scorer.mask("locale", loc)[docnums]
            typed = [t for t, w in weights.items() if w == 1.0]     # not the typo expansions
            if not mine.any() or not typed:
                continue
            idf = np.array([scorer.searcher.idf(f"body_{loc}", t) for t in typed])
            has = np.zeros((int(mine.sum()), len(typed)), bool)
            for field in FIELD_BOOSTS:
                has |= scorer.has_terms(docnums[mine], [(f"{field}_{loc}", t) for t in typed])
            out[mine] = has @ idf / idf.sum()
        return out

    @staticmethod
    def _max_score(searcher, clauses) -> float:
        """The best BM25F score the clauses allow one document: every term saturated in its
        best field of the best locale, plus the plain-words clauses (answer confidence)."""
        best: dict[str, dict[str, float]] = {}
        for field, text, boost in clauses:
            name, _, loc = field.rpartition("_")
            bound = searcher.idf(field, text) * boost * (BM25_K1 + 1)
            per_term = best.setdefault(loc if name else "", {})
            per_term[text] = max(per_term.get(text, 0.0), bound)
        words = sum(best.pop("", {}).values())
        return words + max((sum(terms.values()) for terms in best.values()), default=0.0)

    def snippet_for(self, fields: dict, parsed: dict) -> str:
        """The highlighted snippet of a hit, using the query terms of the hit's locale."""
        loc = _field_locale(fields.get("locale"))
        terms = set(parsed["terms"].get(loc, {}))
        if not terms:
            return analysis.snippet(fields.get("text", ""), set(parsed["fallback"]), None, plain=True)
        return analysis.snippet(fields.get("text", ""), terms, loc if loc != OTHER else None, plain=True)

    def ranked(self, text: str, locale=None, category=None, want: int = CONFIDENCE_POOL):
        """(rows, parsed, total, evidence) of a cleaned query: its best `want` (at least
        CONFIDENCE_POOL) articles with the evidence their confidence is computed from."""
        rows, parsed, total = self.scored(text, locale, category, limit=max(CONFIDENCE_POOL, want))
        slugs = [slug for slug, _, _ in rows]
        words = np.zeros(len(rows))
        found = parsed.get("coverage", ())
        words[:len(found)] = found[:len(rows)]
        evidence = Evidence(slugs=slugs, cos=np.full(len(rows), np.nan), sparse=np.array([r[1] for r in rows]),
                            words=words, concepts=slugs, locales=[""] * len(rows),
                            sparse_max=parsed.get("max_score", 0.0), unknown=parsed.get("unknown", 0.0),
                            top_keyword=slugs[:3])
        return rows, parsed, total, evidence

    def search(self, query, locale=None, category=None, limit=10, page=1, plausible_only=True) -> Results:
        """Keyword search; the suggestion is the query with unknown words corrected."""
        limit, page = clamp_paging(limit, page)
        text, note = clean_query(query)
        if not text:
            return Results(query=text, total=0, page=page, limit=limit, mode=self.name, note=note)
        rows, parsed, total, evidence = self.ranked(text, locale, category, page * limit)
        calibration = calibration_for("", self.name)
        conf = confidences(evidence, calibration)
        keep = np.flatnonzero(conf >= calibration.plausible) if plausible_only else np.arange(len(rows))
        hits = []
        for i in keep[(page - 1) * limit: page * limit]:
            slug, score, f = rows[i]
            hits.append(Hit(slug=slug, score=score, snippet=self.snippet_for(f, parsed), title=f.get("title_raw", ""),
                            locale=f.get("locale", ""), category=f.get("category", ""),
                            concept=f.get("concept", ""), confidence=round(float(conf[i]), 4)))
        return Results(query=text, total=len(keep) if plausible_only else total, hits=tuple(hits), page=page,
                       limit=limit, mode=self.name, suggestion=self._suggestion(text, parsed["corrections"]),
                       note=note, answered=answered(conf, evidence, calibration))

    def stored(self, slugs) -> dict[str, dict]:
        """Stored fields of the given slugs (for hits found by another backend)."""
        searcher = self._get_searcher()
        out = {}
        for slug in slugs:
            fields = searcher.document(slug=slug)
            if fields:
                out[slug] = fields
        return out

    def suggest(self, prefix: str, locale: str | None = None, limit: int = 8, prefer: str | None = None) -> list[Hit]:
        """Articles whose title holds the typed words anywhere, the last one as a prefix
        (search-as-you-type, search/titles.py); titles in `prefer` first."""
        searcher = self._get_searcher()
        return titles.suggest(searcher, self._scorer_for(searcher), prefix, locale, limit, prefer)
