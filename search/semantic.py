"""Semantic search: passages embedded by an encoder, stored as numpy arrays on disk.

Layout of the store folder:
    meta.json        the commit point: encoder spec/name/dim, generation, documents, file names
    vectors-G.npy    float32 (passages, dim), L2-normalized, rows grouped by document
    hashes-G.npy     key per passage: hash of its text and of how it was embedded (unchanged
                     passages keep their vectors on rebuild)
    asked-G.npy      bool per passage: one way of asking a question, embedded as a query
    excerpts-G.bin   the start of each passage's text (UTF-8), sliced by offsets-G.npy
All arrays are memory-mapped, so worker processes share them through the page cache and a
reload after another process's commit reads only the small meta.json.
Every write makes a new vectors file and then replaces meta.json atomically (temp file +
fsync + os.replace), so a crash leaves the previous generation intact. Readers check the
meta file's identity on each search and reload when another process committed. Vectors of a
different encoder or dimension are never mixed in: the store reports "needs rebuild".

An article's score is its best passage, except for its `asked` passages (the items of a list of
ways of asking, search/passages.py): those count together, as the rank-discounted mean of the
best ASKED_TOP of them (weights 1, 1/2, 1/3), and the article takes the better of that and its
best other passage. Several phrasings close to a query are firmer evidence than one. Measured on
banking77 (616 queries, 8 phrasings per FAQ article), e5-small-nano semantic nDCG@10: 0.852 as
plain passages scored by the best one, 0.853 embedded as queries, 0.870 with this mean (a mean,
never a sum: a long article must not win by having many passages; top-3 sums over every
article's passages cost the glossary set 0.85 -> 0.52).
"""
from __future__ import annotations

import collections
import hashlib
import json
import os
import sqlite3
import threading
from dataclasses import dataclass, replace

import numpy as np

from . import analysis
from .base import Document, Health, Hit, Results, SearchBackend, clamp_paging, clean_query
from .confidence import Evidence, answered, calibration_for, confidences
from .locks import write_lock
from .passages import passages as passages_of

# 3: asked passages (embedded as queries, scored together). A store of an older format reports
# "needs rebuild"; the rebuild still reuses its vectors for every passage whose key is unchanged.
FORMAT = 3
REUSABLE_FORMATS = (2, 3)
EXCERPT_CHARS = 300
ASKED_TOP = 3
# Candidates whose confidence is computed: past the 50th article nothing plausible is left.
CONFIDENCE_POOL = 50
_ASKED_WEIGHTS = 1.0 / np.arange(1, ASKED_TOP + 1)


def text_hash(text: str) -> str:
    """Stable key of a passage text (vectors are reused when the text is unchanged)."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:20]


def passage_key(text: str, asked: bool = False) -> str:
    """Key of a passage's vector: its text and whether it was embedded as a query."""
    # a control character cannot occur in passage text, so the two kinds never collide
    return text_hash("\x00query\x00" + text if asked else text)


class EmbeddingCache:
    """A persistent text-hash -> vector cache per encoder (SQLite, safe across processes)."""

    def __init__(self, folder: str, encoder_name: str, dim: int):
        os.makedirs(folder, exist_ok=True)
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in encoder_name)
        self.dim = dim
        self._db = sqlite3.connect(os.path.join(folder, f"{safe}-{dim}.sqlite"), timeout=30,
                                   check_same_thread=False)
        # WAL: a worker storing a new query's vector no longer waits for the others' reads (nor
        # they for it), and no commit waits for the disk: a vector lost to a crash is re-encoded.
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS vec (h TEXT PRIMARY KEY, v BLOB)")

    def get(self, hashes: list[str]) -> dict[str, np.ndarray]:
        """Cached vectors for the hashes that have one."""
        out = {}
        for i in range(0, len(hashes), 500):
            chunk = hashes[i:i + 500]
            rows = self._db.execute(f"SELECT h, v FROM vec WHERE h IN ({','.join('?' * len(chunk))})", chunk)
            out.update((h, np.frombuffer(v, dtype=np.float32)) for h, v in rows)
        return out

    def put(self, items: dict[str, np.ndarray]) -> None:
        """Stores vectors by hash."""
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO vec VALUES (?, ?)",
                                 [(h, np.asarray(v, np.float32).tobytes()) for h, v in items.items()])


def _atomic_write(path: str, write) -> None:
    """Writes via a temp file in the same folder, fsyncs it and renames it into place."""
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "wb") as fh:
        write(fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class _Snapshot:
    """One loaded generation of the store: vectors plus per-document arrays for filtering."""

    def __init__(self, meta: dict, vectors: np.ndarray, offsets: np.ndarray, excerpts: np.ndarray,
                 asked: np.ndarray | None = None):
        self.meta = meta
        self.vectors = vectors
        self.offsets, self.excerpts = offsets, excerpts
        self.slugs = list(meta["docs"])
        docs = meta["docs"]
        self.locales = np.array([docs[s]["locale"] for s in self.slugs], dtype=object)
        self.categories = np.array([docs[s]["category"] for s in self.slugs], dtype=object)
        self.locale_names = frozenset(self.locales.tolist())
        self.starts = np.array([docs[s]["rows"][0] for s in self.slugs], dtype=np.int64)
        self.ends = np.array([docs[s]["rows"][1] for s in self.slugs], dtype=np.int64)
        # translations share a concept: slug -> concept and concept -> slugs, for fusion
        self.concepts = {s: docs[s]["concept"] for s in self.slugs if docs[s].get("concept")}
        self.position = {s: i for i, s in enumerate(self.slugs)}
        # asked rows, sorted (so by document), with their document and rank-0 position per document
        self.asked_rows = np.nonzero(asked)[0] if asked is not None else np.zeros(0, np.int64)
        self.asked_doc = np.searchsorted(self.starts, self.asked_rows, side="right") - 1
        self.asked_first = np.searchsorted(self.asked_doc, self.asked_doc, side="left")
        self._selections: dict = {}
        self.faq = np.zeros(len(self.slugs), bool)      # documents scored by their ways of asking
        self.faq[self.asked_doc] = True
        self.members: dict[str, list[str]] = {}
        for slug, concept in self.concepts.items():
            self.members.setdefault(concept, []).append(slug)

    def excerpt(self, row: int) -> str:
        """The stored start of passage `row`."""
        return bytes(self.excerpts[int(self.offsets[row]):int(self.offsets[row + 1])]).decode("utf-8", "replace")

    def doc_scores(self, qvec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(score per document, score of every passage) for a query vector (module docstring)."""
        if not self.slugs:
            return np.zeros(0, np.float32), np.zeros(0, np.float32)
        scores = self.vectors @ qvec
        if not len(self.asked_rows):
            return np.maximum.reduceat(scores, self.starts), scores
        other = scores.copy()
        other[self.asked_rows] = -np.inf
        best = np.maximum.reduceat(other, self.starts)
        asked = scores[self.asked_rows]
        order = np.lexsort((-asked, self.asked_doc))        # by document, best first within it
        rank = np.arange(len(order)) - self.asked_first      # asked_doc is sorted: groups stay put
        weight = np.where(rank < ASKED_TOP, _ASKED_WEIGHTS[np.minimum(rank, ASKED_TOP - 1)], 0.0)
        n = len(self.slugs)
        total = np.bincount(self.asked_doc, weights=asked[order] * weight, minlength=n)
        norm = np.bincount(self.asked_doc, weights=weight, minlength=n)
        has = norm > 0
        best[has] = np.maximum(best[has], total[has] / norm[has])
        return best.astype(np.float32, copy=False), scores

    def best_row(self, doc: int, row_scores: np.ndarray) -> int:
        """The row of a document's best passage."""
        start, end = int(self.starts[doc]), int(self.ends[doc])
        return start + int(np.argmax(row_scores[start:end])) if end > start else -1

    def selection(self, locale, category) -> np.ndarray:
        """Indexes of the documents passing the filters (memoized per snapshot)."""
        key = (locale, category)
        if key not in self._selections:
            mask = np.ones(len(self.slugs), bool)
            if locale:
                mask &= self.locales == locale
            if category:
                mask &= self.categories == category
            self._selections[key] = np.nonzero(mask)[0]
        return self._selections[key]


@dataclass(frozen=True)
class Ranked:
    """A query's best articles (document numbers, best first) with their evidence."""

    snap: _Snapshot | None
    docs: list[int]
    evidence: Evidence
    rows: np.ndarray          # every passage's score, for snippets
    pool: int                 # articles passing the filters


class _RowLookup:
    """hash -> stored vector, read from the old vectors only for the hashes asked about."""

    def __init__(self, row_of: dict[str, int], vectors: np.ndarray):
        self.row_of, self.vectors = row_of, vectors

    def __contains__(self, h: str) -> bool:
        return h in self.row_of

    def __getitem__(self, h: str) -> np.ndarray:
        return np.asarray(self.vectors[self.row_of[h]], np.float32)


class SemanticBackend(SearchBackend):
    """Dense retrieval with one encoder; the store lives in `path`."""

    name = "semantic"

    def __init__(self, path: str, encoder="fake", cache_dir: str | None = None,
                 lock_timeout: float = 60.0, batch_size: int = 32, max_words: int | None = None,
                 **_ignored):
        self.path = os.fspath(path)
        self.encoder_spec = encoder if isinstance(encoder, str) else getattr(encoder, "name", "custom")
        self._encoder = None if isinstance(encoder, str) else encoder
        self.cache_dir = cache_dir
        self.lock_timeout = lock_timeout
        self.batch_size = batch_size
        self.max_words = max_words
        self._snap: _Snapshot | None = None
        self._snap_key = None
        self._lock = threading.Lock()
        self._qcache: collections.OrderedDict[str, np.ndarray] = collections.OrderedDict()

    # ---- encoder -------------------------------------------------------------------------
    @property
    def encoder(self):
        """The encoder, loaded on first use (never at import or construction)."""
        if self._encoder is None:
            from .encoders import get_encoder
            self._encoder = get_encoder(self.encoder_spec)
        return self._encoder

    def encode_query(self, text: str) -> np.ndarray:
        """The query's vector, memoized per process (hybrid and paging ask twice) and in the
        embedding cache, which the worker processes share and a restart keeps."""
        with self._lock:
            vec = self._qcache.get(text)
            if vec is not None:
                self._qcache.move_to_end(text)
                return vec
        # One worker's encoding (~20 ms on 2 cores) then costs the others a lookup (~0.1 ms).
        key, (store, store_lock) = passage_key(text, asked=True), self._query_store()
        try:
            with store_lock:  # one sqlite3 connection: its calls must not overlap (threads)
                vec = store.get([key]).get(key) if store is not None else None
        except Exception:  # noqa: BLE001 - a broken cache costs an encoding, never the search
            vec = store = None
        if vec is None:
            vec = self.encoder.encode_queries([text])[0]
            try:
                if store is not None:
                    with store_lock:
                        store.put({key: vec})
            except Exception:  # noqa: BLE001 - as above
                pass
        with self._lock:
            self._qcache[text] = vec
            while len(self._qcache) > 512:
                self._qcache.popitem(last=False)
        return vec

    def _query_store(self) -> tuple[EmbeddingCache | None, threading.Lock]:
        """The embedding cache for query vectors (one connection kept) and the lock its calls take."""
        found = getattr(self, "_queries", None)
        if found is None:
            with self._lock:
                found = getattr(self, "_queries", None)
                if found is None:
                    try:
                        store = None if self.cache_dir is None else EmbeddingCache(
                            self.cache_dir, self.encoder.name, self.encoder.dim)
                    except Exception:  # noqa: BLE001 - try again on the next query
                        return None, threading.Lock()
                    found = self._queries = (store, threading.Lock())
        return found

    # ---- storage -------------------------------------------------------------------------
    @property
    def _meta_path(self) -> str:
        return os.path.join(self.path, "meta.json")

    def _read_meta(self, strict: bool = False) -> dict | None:
        """The committed metadata; None if missing (or unreadable, unless strict)."""
        try:
            with open(self._meta_path, encoding="utf-8") as fh:
                return json.load(fh)
        except FileNotFoundError:
            return None
        except ValueError:
            if strict:
                raise
            return None

    def _load(self, meta: dict) -> _Snapshot:
        files = meta["files"]
        vectors = np.load(os.path.join(self.path, files["vectors"]), mmap_mode="r")
        offsets = np.load(os.path.join(self.path, files["offsets"]), mmap_mode="r")
        blob = os.path.join(self.path, files["excerpts"])
        excerpts = np.memmap(blob, dtype=np.uint8, mode="r") if os.path.getsize(blob) else np.zeros(0, np.uint8)
        n = meta["passages"]
        asked = np.load(os.path.join(self.path, files["asked"]), mmap_mode="r") if "asked" in files else None
        if vectors.shape != (n, meta["dim"]) or vectors.dtype != np.float32 or len(offsets) != n + 1 \
                or int(offsets[-1]) != len(excerpts) or (asked is not None and asked.shape != (n,)):
            raise ValueError(f"vectors shape {vectors.shape} does not match meta.json")
        return _Snapshot(meta, vectors, offsets, excerpts, asked)

    def _snapshot(self) -> _Snapshot | None:
        """The latest committed generation, reloaded only when meta.json changed on disk."""
        for _ in range(3):    # a writer may delete an old vectors file between our two reads
            try:
                st = os.stat(self._meta_path)
            except FileNotFoundError:
                return None
            key = (st.st_ino, st.st_mtime_ns, st.st_size)
            if key == self._snap_key:
                return self._snap
            try:
                meta = self._read_meta()
                if meta is None or not self._compatible(meta, check_model=self._encoder is not None):
                    return None
                snap = self._load(meta)
            except FileNotFoundError:
                continue
            with self._lock:
                self._snap, self._snap_key = snap, key
            return snap
        return None

    def _compatible(self, meta: dict, check_model: bool, formats=(FORMAT,)) -> bool:
        """True if the stored vectors come from this encoder (by spec, and name/dim if loaded)."""
        if meta.get("format") not in formats or meta.get("encoder_spec") != self.encoder_spec:
            return False
        if check_model:
            return meta.get("encoder") == self.encoder.name and meta.get("dim") == self.encoder.dim
        return True

    def _commit(self, docs: dict, vectors: np.ndarray, hashes: np.ndarray, lengths: np.ndarray,
                blob: bytes, asked: np.ndarray, generation: int) -> None:
        """Writes a new generation and makes it current; removes files two generations old."""
        os.makedirs(self.path, exist_ok=True)
        files = {kind: f"{kind}-{generation}.{ext}" for kind, ext in
                 (("vectors", "npy"), ("hashes", "npy"), ("offsets", "npy"), ("excerpts", "bin"), ("asked", "npy"))}
        offsets = np.zeros(len(lengths) + 1, np.int64)
        offsets[1:] = np.cumsum(lengths)
        for kind, write in (("vectors", lambda fh: np.save(fh, vectors)), ("hashes", lambda fh: np.save(fh, hashes)),
                            ("offsets", lambda fh: np.save(fh, offsets)), ("excerpts", lambda fh: fh.write(blob)),
                            ("asked", lambda fh: np.save(fh, np.asarray(asked, bool)))):
            _atomic_write(os.path.join(self.path, files[kind]), write)
        meta = {"format": FORMAT, "encoder_spec": self.encoder_spec, "encoder": self.encoder.name,
                "dim": int(self.encoder.dim), "generation": generation, "files": files,
                "docs": docs, "passages": len(hashes)}
        data = json.dumps(meta, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        _atomic_write(self._meta_path, lambda fh: fh.write(data))
        keep = {str(generation), str(generation - 1)}
        for old in os.listdir(self.path):
            # keep the previous generation: a reader may have read its meta a moment ago
            stem, _, _ = old.partition(".")
            kind, _, gen = stem.rpartition("-")
            if kind in files and gen.isdigit() and gen not in keep:
                try:
                    os.remove(os.path.join(self.path, old))
                except FileNotFoundError:
                    pass

    def _current(self):
        """The committed state: (docs, vectors, hashes, offsets, excerpt bytes, asked, generation).

        A store of an older format gives no documents, only its vectors to reuse by key.
        """
        meta = self._read_meta()
        try:
            if meta and self._compatible(meta, check_model=True, formats=REUSABLE_FORMATS):
                snap = self._load(meta)
                hashes = np.load(os.path.join(self.path, meta["files"]["hashes"]))
                asked = np.zeros(len(hashes), bool)
                asked[snap.asked_rows] = True
                if meta["format"] != FORMAT:
                    return {}, snap.vectors, hashes, np.asarray(snap.offsets), snap.excerpts, asked, meta["generation"]
                return (dict(meta["docs"]), snap.vectors, hashes, np.asarray(snap.offsets),
                        snap.excerpts, asked, meta["generation"])
        except (OSError, ValueError, KeyError):
            pass
        # an unreadable store starts over above every generation number still on disk
        gens = [int(n.partition(".")[0].rpartition("-")[2]) for n in os.listdir(self.path)
                if n.partition(".")[0].rpartition("-")[2].isdigit()]
        gen = max(gens + [meta.get("generation", 0) if isinstance(meta, dict) else 0])
        empty = np.zeros(0, np.uint8)
        return ({}, np.zeros((0, self.encoder.dim), np.float32), np.zeros(0, "S20"), np.zeros(1, np.int64), empty,
                np.zeros(0, bool), gen)

    def _embed(self, texts: list[str], known, progress=None, asked: list[bool] | None = None) -> np.ndarray:
        """Vectors for texts: reused from the store or the cache when the text is unchanged.

        asked[i] embeds texts[i] as a query (a way of asking, matched against queries).
        """
        asked = asked or [False] * len(texts)
        hashes = [passage_key(t, a) for t, a in zip(texts, asked)]
        found = {h: known[h] for h in set(hashes) if h in known}
        cache = EmbeddingCache(self.cache_dir, self.encoder.name, self.encoder.dim) if self.cache_dir else None
        missing = [h for h in dict.fromkeys(hashes) if h not in found]
        if cache and missing:
            found.update(cache.get(missing))
        todo = {}
        for h, t, a in zip(hashes, texts, asked):
            if h not in found:
                todo.setdefault(h, (t, a))
        if todo:
            keys, new = sorted(todo, key=lambda k: todo[k][1]), []     # passages first, then queries
            step = max(self.batch_size * 8, 64)
            for i in range(0, len(keys), step):
                batch = keys[i:i + step]
                plain = [todo[k][0] for k in batch if not todo[k][1]]
                queries = [todo[k][0] for k in batch if todo[k][1]]
                new += [self.encoder.encode_passages(plain, batch_size=self.batch_size)] if plain else []
                new += [self.encoder.encode_queries(queries)] if queries else []
                if progress:
                    progress(min(i + step, len(keys)), len(keys))
            vecs = np.vstack(new)
            fresh = dict(zip(keys, vecs))
            found.update(fresh)
            if cache:
                cache.put(fresh)
        if not texts:
            return np.zeros((0, self.encoder.dim), np.float32)
        return np.ascontiguousarray(np.stack([found[h] for h in hashes]), dtype=np.float32)

    def _apply(self, upserts: list[Document], removals: set[str], reset: bool = False, progress=None) -> None:
        """Rewrites the store with documents upserted and removed, under the write lock.

        Kept documents are copied as array slices (vectors, hashes, excerpt bytes), so one
        publish costs a few array copies, not a Python loop over every passage.
        """
        os.makedirs(self.path, exist_ok=True)
        with write_lock(os.path.join(self.path, ".write.lock"), self.lock_timeout):
            docs, vectors, hashes, offsets, blob, old_asked, gen = self._current()
            old_hashes = hashes
            if reset:
                docs = {}
            drop = removals | {d.slug for d in upserts}
            keep_docs, ranges, n = {}, [], 0
            for slug, info in docs.items():
                if slug not in drop:
                    start, end = info["rows"]
                    keep_docs[slug] = dict(info, rows=[n, n + end - start])
                    ranges.append((start, end))
                    n += end - start
            texts, asked = [], []
            for doc in upserts:
                parts = passages_of(doc, self.max_words) if self.max_words else passages_of(doc)
                keep_docs[doc.slug] = {"locale": doc.locale, "category": doc.category, "concept": doc.concept,
                                       "title": doc.title, "stamp": doc.stamp, "rows": [n, n + len(parts)]}
                n += len(parts)
                texts += [p.text for p in parts]
                asked += [p.asked for p in parts]
            # vectors of unchanged passages (same text) are reused, also across a rebuild
            row_of = {h.decode(): i for i, h in enumerate(old_hashes.tolist())} if texts else {}
            known = _RowLookup(row_of, vectors)
            new_vecs = self._embed(texts, known, progress, asked)
            keep_rows = (np.concatenate([np.arange(a, b) for a, b in ranges]) if ranges
                         else np.zeros(0, np.int64))
            excerpts = [t[:EXCERPT_CHARS].encode("utf-8") for t in texts]
            kept_bytes = b"".join(bytes(blob[int(offsets[a]):int(offsets[b])]) for a, b in ranges)
            self._commit(
                keep_docs,
                np.vstack([np.asarray(vectors[keep_rows], np.float32), new_vecs]).astype(np.float32),
                np.concatenate([hashes[keep_rows],
                                np.array([passage_key(t, a) for t, a in zip(texts, asked)], dtype="S20")]),
                np.concatenate([np.diff(offsets)[keep_rows], np.array([len(e) for e in excerpts], np.int64)]),
                kept_bytes + b"".join(excerpts), np.concatenate([old_asked[keep_rows], np.array(asked, bool)]),
                gen + 1)

    # ---- SearchBackend -------------------------------------------------------------------
    def index(self, docs) -> None:
        """Embeds and stores documents (replacing earlier versions by slug)."""
        docs = list(docs)
        if docs:
            self._apply(docs, set())

    def remove(self, slugs) -> None:
        """Drops documents by slug."""
        slugs = {s for s in slugs if s}
        if slugs:
            self._apply([], slugs)

    def clear(self) -> None:
        """Commits an empty generation (this also discards vectors of another encoder)."""
        self._apply([], set(), reset=True)

    def rebuild(self, docs, progress=None) -> None:
        """Replaces the store in one commit; unchanged passages reuse their stored vectors."""
        self._apply(list(docs), set(), reset=True, progress=progress)
        if progress and not docs:
            progress(0, 0)

    def health(self) -> Health:
        """Checks the store matches the configured encoder and its files are consistent."""
        try:
            meta = self._read_meta(strict=True)
            if meta is None:
                return Health(False, reason="missing")
            if meta.get("format") != FORMAT:
                return Health(False, reason=f"store format changed ({meta.get('format')} -> {FORMAT})")
            if not self._compatible(meta, check_model=self._encoder is not None):
                return Health(False, reason=f"encoder changed ({meta.get('encoder_spec')} -> {self.encoder_spec})")
            snap = self._load(meta)
            stamps = {s: snap.meta["docs"][s].get("stamp", "") for s in snap.slugs}
            return Health(True, count=len(stamps), stamps=stamps)
        except Exception as exc:  # noqa: BLE001 - truncated JSON or npy, wrong shapes...
            return Health(False, reason=f"unreadable: {type(exc).__name__}: {exc}")

    def close(self) -> None:
        """Forgets the loaded snapshot (memory maps are released when unreferenced)."""
        with self._lock:
            self._snap = self._snap_key = None

    def scored(self, query: str, locale=None, category=None) -> tuple:
        """(snapshot, candidate doc indexes, their scores, every passage's score, every doc's score)."""
        snap = self._snapshot()
        if snap is None or not snap.slugs:
            empty = np.zeros(0, np.float32)
            return snap, np.zeros(0, np.int64), empty, empty, empty
        best, rows = snap.doc_scores(self.encode_query(query))
        idx = snap.selection(locale, category)
        return snap, idx, best[idx], rows, best

    def ranked(self, text: str, locale=None, category=None, want: int = CONFIDENCE_POOL) -> "Ranked":
        """The best `want` (at least CONFIDENCE_POOL) articles of a cleaned query, with evidence."""
        snap, idx, scores, rows, every = self.scored(text, locale, category)
        want = min(max(CONFIDENCE_POOL, want), len(scores))
        top = np.argpartition(-scores, want - 1)[:want] if 0 < want < len(scores) else np.arange(len(scores))
        order = top[np.argsort(-scores[top], kind="stable")]
        docs = [int(idx[i]) for i in order]
        info = [snap.meta["docs"][snap.slugs[d]] for d in docs] if docs else []
        evidence = Evidence(
            slugs=[snap.slugs[d] for d in docs], cos=np.asarray(scores[order], np.float64),
            sparse=np.zeros(len(docs)), words=None, concepts=[i.get("concept", "") for i in info],
            locales=[i["locale"] for i in info], dense_mean=float(every.mean()) if len(every) else 0.0,
            dense_std=float(every.std()) if len(every) > 1 else 1.0,
            query_language=locale or analysis.guess_language(text), faq=snap.faq[docs] if docs else None)
        return Ranked(snap, docs, evidence, rows, len(idx))

    def search(self, query, locale=None, category=None, limit=10, page=1, plausible_only=True) -> Results:
        """Nearest articles by their best passage; total counts the plausible ones (or, with
        plausible_only=False, every article that passes the filters)."""
        limit, page = clamp_paging(limit, page)
        text, note = clean_query(query)
        if not text or not analysis.words(text):
            return Results(query=text, total=0, page=page, limit=limit, mode=self.name, note=note or "empty")
        r = self.ranked(text, locale, category, page * limit)
        calibration = calibration_for(self.encoder.name, self.name)
        conf = confidences(r.evidence, calibration)
        keep = np.flatnonzero(conf >= calibration.plausible) if plausible_only else np.arange(len(r.docs))
        hits = tuple(replace(self.hit(r.snap, r.docs[i], float(r.evidence.cos[i]), r.rows, text),
                             confidence=round(float(conf[i]), 4))
                     for i in keep[(page - 1) * limit: page * limit])
        return Results(query=text, total=len(keep) if plausible_only else r.pool, hits=hits, page=page,
                       limit=limit, mode=self.name, note=note,
                       answered=answered(conf, r.evidence, calibration))

    def hit(self, snap: _Snapshot, doc: int, score: float, rows: np.ndarray, query: str) -> Hit:
        """A Hit for document number `doc`, its snippet taken from its best passage."""
        slug = snap.slugs[doc]
        passage = snap.best_row(doc, rows)
        info = snap.meta["docs"][slug]
        loc = info["locale"] if info["locale"] in analysis.LOCALES else None
        excerpt = snap.excerpt(passage) if passage >= 0 else ""
        return Hit(slug=slug, score=score, title=info["title"], locale=info["locale"],
                   category=info["category"], concept=info.get("concept", ""),
                   snippet=analysis.snippet(excerpt, set(analysis.terms(query, loc)), loc))
