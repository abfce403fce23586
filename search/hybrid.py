"""Hybrid search: keyword and semantic scores, normalized and combined convexly.

Method (after Bruch, Gai & Ingber, "An Analysis of Fusion Functions for Hybrid Retrieval",
2023, who found a convex combination of normalized scores better and more sample-efficient to
tune than reciprocal rank fusion):

    fused(d) = (1 - w) * S(d) + w * D(d)

  S(d)  keyword BM25F score / the best BM25F score of the query ("theoretical min-max" with
        BM25's floor of 0); 0 for documents the keyword side did not retrieve.
  D(d)  the article's dense score min-max normalized between the query's best and its
        DENSE_POOL-th best document (scores below that floor clip to 0). Cosines of small
        encoders crowd into a narrow band, so their absolute values say little; their spread
        within a query does. The dense score is the best passage's cosine, or for an FAQ
        article that lists ways of asking, the rank-discounted mean of its 3 closest phrasings
        (search/semantic.py, search/passages.py).
  w     the dense weight: from a table per encoder family and query language (the locale
        filter when given, otherwise guessed from stop words and diacritics) and the article's
        language, w = top * competence[query language] * competence[article language]. An
        English-only model such as all-MiniLM-L6-v2 gets a small weight on Italian and Romanian
        queries (measured: alone it scores 0.37 nDCG@10 on Italian SQuAD, BM25F 0.82), so it
        can only break ties and add recall there instead of dragging the ranking down.
        multilingual-e5-small is strongest in English and BM25F with stemmers is relatively
        strong in Italian (squad-it: BM25F 0.843, e5 alone 0.827), so e5 gets 0.6 between
        English texts, 0.48 across English and Italian/Romanian, 0.38 within those; measured
        against a flat 0.5 (nDCG@10, e5-small-nano): banking77 0.873 -> 0.878, squad-it
        0.874 -> 0.881, glossary 0.921 -> 0.923, starter 0.868 -> 0.872.

Candidates are the keyword side's top KEYWORD_POOL plus the dense side's top DENSE_POOL; the
dense score is exact for every candidate (all vectors are in memory). Dense-only candidates
are kept only above a per-encoder cosine floor, so a query that matches nothing can still
reach the "no results" page. Weights were tuned on the dev sets only (bench/quality.py).
"""
from __future__ import annotations

import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace

import numpy as np

from . import analysis
from .analysis import guess_language
from .base import Hit, Results, SearchBackend, clamp_paging, clean_query
from .confidence import Evidence, answered, calibration_for, confidences
from .keyword import KeywordBackend
from .semantic import SemanticBackend

KEYWORD_POOL = 100
DENSE_POOL = 10          # dense-only candidates, and the depth whose score is the normalization floor
SIBLING_WEIGHT = 0.5     # share of a translation's score an article inherits

# How far the dense side is trusted, by encoder family (matched in the encoder name): the
# weight for an English-only model peaks where both the query and the article are English.
#   w(query, article) = top * competence[query language] * competence[article language]
# "?" is a query whose language could not be guessed; "*" any language not named.
DENSE_TRUST: list[tuple[str, float, dict[str, float]]] = [
    ("minilm", 0.7, {"en": 1.0, "it": 0.3, "ro": 0.3, "?": 0.5, "*": 0.3}),
    ("e5", 0.6, {"en": 1.0, "*": 0.8}),
    ("fake", 0.3, {"*": 1.0}),
    ("", 0.5, {"*": 0.7}),
]
# Dense-only candidates below this cosine are dropped (per encoder family).
DENSE_FLOORS: list[tuple[str, float]] = [("minilm", 0.35), ("e5", 0.82), ("fake", 0.3), ("", 0.5)]

def _lookup(table, name: str):
    lowered = name.lower()
    return next(value for key, value in table if key in lowered)


def dense_weight(encoder_name: str, language: str | None, doc_language: str | None = None) -> float:
    """The dense weight w for an encoder, a query language and an article language."""
    lowered = encoder_name.lower()
    top, competence = next((t, c) for key, t, c in DENSE_TRUST if key in lowered)
    star = competence.get("*", 1.0)
    cq = competence.get(language or "?", competence.get("?", star) if not language else star)
    cd = competence.get(doc_language, star) if doc_language else 1.0
    return top * cq * cd


def fuse(keyword: list[tuple[str, float]], dense: dict[str, float], w,
         dense_floor: float = -1.0, dense_pool: int = DENSE_POOL,
         concepts: dict[str, str] | None = None, members: dict[str, list[str]] | None = None,
         sibling_weight: float = SIBLING_WEIGHT) -> list[tuple[str, float]]:
    """Convex combination of normalized scores; returns (slug, fused score), best first.

    keyword: (slug, BM25F) best first; dense: slug -> cosine for every candidate document;
    w: the dense weight, or a function slug -> weight (it may depend on the article's language).
    concepts/members: slug -> concept and concept -> slugs, for translation evidence.
    """
    top_k = keyword[0][1] if keyword and keyword[0][1] > 0 else 1.0
    sparse = {slug: score / top_k for slug, score in keyword}
    ranked_dense = sorted(dense.values(), reverse=True)
    if ranked_dense:
        hi = ranked_dense[0]
        lo = ranked_dense[min(DENSE_POOL, len(ranked_dense)) - 1]
        span = hi - lo if hi > lo else 1.0
    pool = set(sparse)
    pool.update(s for s, c in sorted(dense.items(), key=lambda kv: -kv[1])[:max(dense_pool, DENSE_POOL)]
                if c >= dense_floor)
    fused = []
    for slug in pool:
        d = max(0.0, (dense[slug] - lo) / span) if slug in dense else 0.0
        wd = w(slug) if callable(w) else w
        fused.append((slug, (1 - wd) * sparse.get(slug, 0.0) + wd * d))
    if concepts and members and sibling_weight:
        fused = _add_translations(dict(fused), concepts, members, sibling_weight)
    fused.sort(key=lambda kv: (-kv[1], kv[0]))
    return fused


def _add_translations(scores: dict[str, float], concepts, members, weight) -> list[tuple[str, float]]:
    """Each article also earns `weight` x the best score of its translations.

    Translations answer the same question, so evidence for one is evidence for the others:
    a query that matches the Italian article's words lifts the Romanian one too (and brings
    it into the list when neither side retrieved it).
    """
    best: dict[str, list[tuple[float, str]]] = {}
    for slug, score in scores.items():
        concept = concepts.get(slug)
        if concept:
            best.setdefault(concept, []).append((score, slug))
    out = dict(scores)
    for concept, found in best.items():
        found.sort(reverse=True)
        for slug in members.get(concept, ()):
            other = next((sc for sc, s in found if s != slug), 0.0)
            out[slug] = scores.get(slug, 0.0) + weight * other
    return list(out.items())


def _best(scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the k best scores, best first (a partial sort: arrays of 10k+ documents)."""
    k = min(k, len(scores))
    if k == 0:
        return np.zeros(0, np.int64)
    top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    return top[np.argsort(-scores[top], kind="stable")]


@dataclass(frozen=True)
class _Ranked:
    """One query's fused candidates with what building their hits needs."""

    fused: list[tuple[str, float]]
    evidence: Evidence
    rows: list
    parsed: dict
    kw_total: int
    snap: object
    idx: np.ndarray
    where: dict
    passage_scores: np.ndarray
    every: np.ndarray          # every article's dense score


_pool: tuple[int, ThreadPoolExecutor] | None = None
_pool_lock = threading.Lock()


def _in_background(fn, *args) -> Future:
    """fn(*args) on this process's small thread pool (made again in a forked child)."""
    global _pool
    with _pool_lock:
        if _pool is None or _pool[0] != os.getpid():     # threads don't survive fork()
            _pool = (os.getpid(), ThreadPoolExecutor(max_workers=4, thread_name_prefix="sportello-dense"))
        return _pool[1].submit(fn, *args)


class HybridBackend(SearchBackend):
    """Keyword + semantic, fused by normalized weighted scores (see the module docstring)."""

    name = "hybrid"

    def __init__(self, keyword: KeywordBackend, semantic: SemanticBackend, weight: float | None = None):
        self.keyword = keyword
        self.semantic = semantic
        self.weight = weight          # a fixed w overrides the table (for experiments)

    def index(self, docs) -> None:
        """Indexes into both sides (keyword first: it is the one users notice first)."""
        docs = list(docs)
        self.keyword.index(docs)
        self.semantic.index(docs)

    def remove(self, slugs) -> None:
        """Removes from both sides."""
        slugs = list(slugs)
        self.keyword.remove(slugs)
        self.semantic.remove(slugs)

    def clear(self) -> None:
        """Empties both sides."""
        self.keyword.clear()
        self.semantic.clear()

    def rebuild(self, docs, progress=None) -> None:
        """Rebuilds both sides; progress counts keyword documents then semantic passages."""
        docs = list(docs)
        self.keyword.rebuild(docs, progress)
        self.semantic.rebuild(docs, progress)

    def health(self):
        """Unhealthy if either side is; counts and stamps come from the keyword side."""
        kw, sem = self.keyword.health(), self.semantic.health()
        if not kw.ok:
            return kw
        if not sem.ok:
            return sem
        if kw.stamps != sem.stamps:
            return type(kw)(False, count=kw.count, reason="keyword and semantic indexes disagree", stamps=kw.stamps)
        return kw

    def close(self) -> None:
        """Closes both sides."""
        self.keyword.close()
        self.semantic.close()

    def suggest(self, prefix, locale=None, limit=8, prefer=None):
        """Title suggestions come from the keyword index."""
        return self.keyword.suggest(prefix, locale, limit, prefer)

    def weight_for(self, text: str, locale: str | None, snap):
        """The dense weight for this query: a number, or slug -> number by article language."""
        if self.weight is not None:
            return self.weight
        name, qlang = self.semantic.encoder.name, locale or guess_language(text)
        if snap is None:
            return dense_weight(name, qlang)
        by_locale = {loc: dense_weight(name, qlang, loc) for loc in snap.locale_names}
        docs = snap.meta["docs"]
        return lambda slug: by_locale.get(docs[slug]["locale"], 0.0) if slug in docs else dense_weight(name, qlang)

    def ranked(self, text: str, locale=None, category=None, want: int = DENSE_POOL) -> "_Ranked":
        """Every fused candidate of a (cleaned, non-empty) query, best first, with its evidence."""
        # the dense side (query encoding, dot product: C code that lets go of the GIL) runs
        # beside the keyword side (Python): a long query is slow on both, so this cuts the p95
        dense_side = _in_background(self.semantic.scored, text, locale, category)
        rows, parsed, kw_total = self.keyword.scored(text, locale, category, limit=max(KEYWORD_POOL, want))
        snap, idx, scores, passage_scores, every = dense_side.result()
        dense, where = self._dense_candidates(snap, idx, scores, rows, locale, category, want)
        floor = _lookup(DENSE_FLOORS, self.semantic.encoder.name)
        concepts, members = (snap.concepts, snap.members) if snap is not None else (None, None)
        if members and (locale or category):      # translations outside the filter stay out
            allowed = {snap.slugs[i] for i in idx}
            members = {c: [s for s in ss if s in allowed] for c, ss in members.items()}
        fused = fuse([(s, sc) for s, sc, _ in rows], dense, self.weight_for(text, locale, snap), floor,
                     max(DENSE_POOL, want), concepts, members)
        top_dense = [snap.slugs[idx[i]] for i in _best(scores, 3)]
        evidence = self._evidence(text, locale, fused, rows, parsed, snap, every, top_dense)
        return _Ranked(fused, evidence, rows, parsed, kw_total, snap, idx, where, passage_scores, every)

    def search(self, query, locale=None, category=None, limit=10, page=1, plausible_only=True) -> Results:
        """Fused search; the suggestion and snippets come from the keyword side when it matched.

        Every candidate gets a confidence (search/confidence.py); with plausible_only the list
        and `total` keep only those above the calibration's plausible floor."""
        limit, page = clamp_paging(limit, page)
        text, note = clean_query(query)
        if not text or not analysis.words(text):
            return Results(query=text, total=0, page=page, limit=limit, mode=self.name, note=note or "empty")
        r = self.ranked(text, locale, category, page * limit)
        calibration = calibration_for(self.semantic.encoder.name, self.name)
        conf = confidences(r.evidence, calibration)
        keep = np.flatnonzero(conf >= calibration.plausible) if plausible_only else np.arange(len(r.fused))
        fields = {s: f for s, _, f in r.rows}
        hits = []
        for i in keep[(page - 1) * limit: page * limit]:
            slug, score = r.fused[i]
            if slug in fields:
                f = fields[slug]
                hit = Hit(slug=slug, score=score, snippet=self.keyword.snippet_for(f, r.parsed),
                          title=f.get("title_raw", ""), locale=f.get("locale", ""),
                          category=f.get("category", ""), concept=f.get("concept", ""))
            else:            # a dense candidate, or brought in by a translation
                doc = int(r.idx[r.where[slug]]) if slug in r.where else r.snap.position[slug]
                hit = self.semantic.hit(r.snap, doc, score, r.passage_scores, text)
            hits.append(replace(hit, confidence=round(float(conf[i]), 4)))
        total = len(keep) if plausible_only else r.kw_total + sum(1 for s, _ in r.fused if s not in fields)
        return Results(query=text, total=total, hits=tuple(hits), page=page, limit=limit, mode=self.name,
                       suggestion=self.keyword._suggestion(text, r.parsed["corrections"]), note=note,
                       answered=answered(conf, r.evidence, calibration))

    @staticmethod
    def _dense_candidates(snap, idx, scores, rows, locale, category, want):
        """slug -> dense score for the dense side's best and every keyword candidate, and
        slug -> its position in the filtered arrays."""
        dense, where = {}, {}
        if snap is None or not len(idx):
            return dense, where
        want = min(max(DENSE_POOL, want), len(scores))
        top = np.argpartition(-scores, want - 1)[:want] if want < len(scores) else np.arange(len(scores))
        position = {snap.slugs[d]: i for i, d in enumerate(idx)} if locale or category else None
        chosen = set(top.tolist())
        for slug in (r[0] for r in rows):     # exact dense score for every keyword candidate
            i = position.get(slug) if position is not None else snap.position.get(slug)
            if i is not None:
                chosen.add(i)
        for i in chosen:
            dense[snap.slugs[idx[i]]] = float(scores[i])
            where[snap.slugs[idx[i]]] = i
        return dense, where

    def _evidence(self, text, locale, fused, rows, parsed, snap, every, top_dense) -> Evidence:
        """What confidence is computed from, for every fused candidate."""
        slugs = [slug for slug, _ in fused]
        docs = snap.meta["docs"] if snap is not None else {}
        position = snap.position if snap is not None else {}
        cos = np.array([every[position[s]] if s in position else np.nan for s in slugs], np.float64)
        sparse = {slug: score for slug, score, _ in rows}
        words = dict(zip((r[0] for r in rows), parsed.get("coverage", ())))
        return Evidence(
            slugs=slugs, cos=cos, sparse=np.array([sparse.get(s, 0.0) for s in slugs]),
            words=np.array([words.get(s, 0.0) for s in slugs]),
            concepts=[docs.get(s, {}).get("concept", "") for s in slugs],
            locales=[docs.get(s, {}).get("locale", "") for s in slugs],
            dense_mean=float(every.mean()) if len(every) else 0.0,
            dense_std=float(every.std()) if len(every) > 1 else 1.0,
            sparse_max=parsed.get("max_score", 0.0), query_language=locale or guess_language(text),
            unknown=parsed.get("unknown", 0.0), top_keyword=[r[0] for r in rows[:3]], top_dense=top_dense,
            faq=np.array([snap is not None and s in position and bool(snap.faq[position[s]]) for s in slugs]))
