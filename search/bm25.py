"""BM25F over a Whoosh index, scored with numpy: the same scores as Whoosh, ~10x faster.

Whoosh scores a query posting by posting, each through a chain of Python calls (matcher,
scorer, a column read for the document's field length): about a million calls for 300
queries on 10k articles, most of the keyword query time. Here a clause's postings are read
block by block into arrays and scored in one numpy expression, with each segment's field
lengths decoded once and kept while the segment exists.

The formula and statistics are Whoosh's own (searcher.idf, searcher.avg_field_length,
lengths quantized to a byte), computed in the same order in float64, and ties rank as in
Whoosh's collector (lower document number first): the same hits with the same scores,
which tests/search/test_bm25.py checks against Whoosh on a multi-segment index.
"""
from __future__ import annotations

import collections
import threading

import numpy as np
from whoosh.matching.wrappers import FilterMatcher
from whoosh.util.numeric import byte_to_length

_BYTE_LENGTH = np.array([byte_to_length(b) for b in range(256)], np.float64)
# Decoded postings kept in memory (8 bytes each): a frequent word's list is decoded once,
# not on every query that has it (decoding is most of a query's cost)
CACHED_POSTINGS = 1_000_000


def _segment_key(reader):
    """A key for a segment that stays the same across index generations (None if unknown)."""
    try:
        return reader.segment().segment_id()
    except Exception:  # noqa: BLE001 - an empty index's reader has no segment
        return None


def postings(reader, field: str, text: str) -> tuple[np.ndarray, np.ndarray]:
    """(document numbers, term frequencies) of a term in one segment, deleted ones included."""
    m = reader.postings(field, text)
    if isinstance(m, FilterMatcher):        # the deletion filter: the caller masks those
        m = m.child
    ids, weights = [], []
    if hasattr(m, "_read_ids") and hasattr(m, "_next_block"):
        # whoosh 3 codec: decode whole blocks (the private part of a pinned dependency;
        # the generic loop below is the fallback for any other matcher)
        while m.is_active():
            if m._data is None:
                m._read_data()
            raw = m._data[0]
            # ids are stored as deltas: a cumulative sum instead of whoosh's generator
            ids.append(np.asarray(raw, np.int64) if m._byteids else np.cumsum(np.asarray(raw, np.int64)))
            m._read_weights()
            weights.append(np.asarray(m._weights, np.float64))
            m._next_block()
        if ids:
            return np.concatenate(ids), np.concatenate(weights)
        return np.zeros(0, np.int64), np.zeros(0, np.float64)
    while m.is_active():
        ids.append(m.id())
        weights.append(m.weight())
        m.next()
    return np.asarray(ids, np.int64), np.asarray(weights, np.float64)


def field_lengths(reader, field: str) -> np.ndarray:
    """Every document's length in a field, as Whoosh's scorer sees it (byte-quantized)."""
    n = reader.doc_count_all()
    try:
        from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
        col = reader._perdoc._cached_reader(_lenfield(field), LENGTHS_COLUMN)
        if col is None:
            return np.zeros(n, np.float64)
        raw = np.frombuffer(col._dbfile.get(col._basepos, col._count), np.uint8)
        codes = np.zeros(n, np.uint8)
        codes[:len(raw)] = raw[:n]
        return _BYTE_LENGTH[codes]
    except (AttributeError, ImportError):    # another codec: ask document by document
        return np.array([reader.doc_field_length(d, field, 0) or 0 for d in range(n)], np.float64)


class SegmentArrays:
    """Field lengths and decoded postings per segment, shared across index generations.

    A segment's lengths and postings never change (deletions are kept apart), so after a
    publish only the new small segment is read; segments that are gone are dropped by
    forget_except().
    """

    def __init__(self, cached_postings: int = CACHED_POSTINGS):
        self._lengths: dict[tuple, np.ndarray] = {}
        self._postings: collections.OrderedDict = collections.OrderedDict()
        self._cached, self._budget = 0, cached_postings
        self._lock = threading.Lock()

    def postings(self, reader, field: str, text: str) -> tuple[np.ndarray, np.ndarray]:
        """postings() of a segment, from a bounded LRU cache."""
        seg = _segment_key(reader)
        key = (seg, field, text)
        with self._lock:
            hit = self._postings.get(key) if seg is not None else None
            if hit is not None:
                self._postings.move_to_end(key)
                return hit
        if (field, text) in reader:
            ids, tf = postings(reader, field, text)
        else:                   # remembered too: a query often asks for absent terms
            ids, tf = np.zeros(0, np.int64), np.zeros(0, np.float64)
        if seg is not None and len(ids) <= self._budget // 4:
            # int32/float32 halve the memory; float32 -> float64 is exact, so scores don't move
            hit = (ids.astype(np.int32), tf.astype(np.float32))
            with self._lock:
                if key not in self._postings:
                    self._postings[key] = hit
                    self._cached += max(len(ids), 1)
                while self._cached > self._budget:
                    _, (old, _) = self._postings.popitem(last=False)
                    self._cached -= max(len(old), 1)
            return hit
        return ids, tf

    def lengths(self, reader, field: str) -> np.ndarray:
        """The field lengths of one segment's documents."""
        seg = _segment_key(reader)
        if seg is None:
            return field_lengths(reader, field)
        key = (seg, field)
        arr = self._lengths.get(key)
        if arr is None:
            arr = self._lengths[key] = field_lengths(reader, field)
        return arr

    def forget_except(self, segments: set) -> None:
        """Drops the arrays of segments not in `segments`."""
        for key in [k for k in self._lengths if k[0] not in segments]:
            self._lengths.pop(key, None)
        with self._lock:
            for key in [k for k in self._postings if k[0] not in segments]:
                self._cached -= max(len(self._postings.pop(key)[0]), 1)


class CachedCounts:
    """A reader whose doc_frequency() answers are memoized; everything else is the reader's.

    A query asks for the document frequency of each of its terms in every field of every
    language, a hash lookup per segment each time; the same words come back query after
    query, and the answers hold for the whole generation the reader belongs to.
    """

    def __init__(self, reader, size: int = 100_000):
        self._reader, self._size, self._df = reader, size, {}

    def doc_frequency(self, field: str, text: str) -> int:
        """reader.doc_frequency(field, text), memoized."""
        key = (field, text)
        df = self._df.get(key)
        if df is None:
            if len(self._df) >= self._size:
                self._df.clear()
            df = self._df[key] = self._reader.doc_frequency(field, text)
        return df

    def __contains__(self, term) -> bool:
        return self.doc_frequency(*term) > 0

    def __getattr__(self, name):
        return getattr(self._reader, name)


class Scorer:
    """BM25F top-N for one searcher (one index generation); build a new one per searcher."""

    def __init__(self, searcher, arrays: SegmentArrays, B: float = 0.75, K1: float = 1.2):
        self.searcher, self.arrays, self.B, self.K1 = searcher, arrays, B, K1
        reader = searcher.reader()
        self.reader = CachedCounts(reader)      # the reader to parse queries with
        self.leaves = list(reader.leaf_readers())
        self.size = reader.doc_count_all()
        self.segments = {_segment_key(r) for r, _ in self.leaves}
        arrays.forget_except(self.segments)
        self.live = np.ones(self.size, bool)
        for leaf, offset in self.leaves:
            if leaf.has_deletions():
                gone = getattr(leaf, "deleted_docs_set", None)
                if gone is None:
                    gone = [d for d in range(leaf.doc_count_all()) if leaf.is_deleted(d)]
                self.live[np.fromiter(gone, np.int64) + offset] = False
        self._masks: dict = {}
        self._slugs = None

    def mask(self, field: str, value: str) -> np.ndarray:
        """Documents (live or not) that have `value` in an untokenized field, memoized."""
        key = (field, value)
        found = self._masks.get(key)
        if found is None:
            found = np.zeros(self.size, bool)
            for leaf, offset in self.leaves:
                if (field, value) in leaf:
                    found[postings(leaf, field, value)[0] + offset] = True
            if len(self._masks) > 256:
                self._masks.clear()
            self._masks[key] = found
        return found

    def slug(self, docnum: int) -> str:
        """The slug of a document (the column reader is opened once per generation)."""
        if self._slugs is None:
            self._slugs = self.searcher.reader().column_reader("slug")
        return self._slugs[docnum]

    def has_terms(self, docnums: np.ndarray, terms) -> np.ndarray:
        """(len(docnums), len(terms)) bool: whether each document has each (field, text) term."""
        out = np.zeros((len(docnums), len(terms)), bool)
        for j, (field, text) in enumerate(terms):
            for leaf, offset in self.leaves:
                ids, _ = self.arrays.postings(leaf, field, text)
                if len(ids):        # ids ascend: a binary search each, cheaper than np.isin's sort
                    local = docnums - offset
                    out[:, j] |= ids[np.minimum(np.searchsorted(ids, local), len(ids) - 1)] == local
        return out

    def top(self, clauses, limit: int, allow: np.ndarray | None = None) -> tuple[list[tuple[int, float]], int]:
        """([(docnum, score)] best first, number of matches) for (field, text, boost) clauses."""
        s, B, K1 = self.searcher, self.B, self.K1
        scores = np.zeros(self.size, np.float64)
        matched = np.zeros(self.size, bool)
        for field, text, boost in clauses:
            idf = s.idf(field, text)
            avgfl = s.avg_field_length(field) or 1
            for leaf, offset in self.leaves:
                ids, tf = self.arrays.postings(leaf, field, text)
                if not len(ids):
                    continue
                tf = tf.astype(np.float64)
                fl = self.arrays.lengths(leaf, field)[ids]
                # whoosh.scoring.bm25, then the Term's boost, in Whoosh's order of operations
                score = idf * ((tf * (K1 + 1)) / (tf + K1 * ((1 - B) + B * fl / avgfl)))
                if boost != 1.0:
                    score = score * boost
                scores[ids + offset] += score
                matched[ids + offset] = True
        matched &= self.live
        if allow is not None:
            matched &= allow
        docs = np.flatnonzero(matched)
        total = len(docs)
        found = scores[docs]
        if total > limit > 0:
            # only documents scoring at least the limit-th best can be in the top
            kth = np.partition(found, total - limit)[total - limit]
            keep = found >= kth
            docs, found = docs[keep], found[keep]
        order = np.argsort(-found, kind="stable")[:max(limit, 0)]   # ties: lower docnum first
        return [(int(docs[i]), float(found[i])) for i in order], total
