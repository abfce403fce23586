"""Query vectors for the content gaps, read from the search's embedding cache.

Semantic and hybrid search store every query's vector in the embedding cache
(search.semantic.EmbeddingCache, keyed by the cleaned query text embedded as a query), so the
failed queries of a period are usually there already; the others are embedded once, in batches,
and stored the same way for the next report."""
from __future__ import annotations

import logging
import threading

import numpy as np

from search.base import clean_query
from search.semantic import EmbeddingCache, passage_key

log = logging.getLogger(__name__)
_BATCH = 256
_stores: dict[tuple, tuple[EmbeddingCache, threading.Lock]] = {}
_stores_lock = threading.Lock()


def _store(cache_dir: str | None, encoder) -> tuple[EmbeddingCache | None, threading.Lock]:
    """One cache connection per folder and encoder per process, and the lock its calls take."""
    key = (cache_dir, encoder.name, encoder.dim)
    with _stores_lock:
        if key not in _stores:
            try:
                store = EmbeddingCache(cache_dir, encoder.name, encoder.dim) if cache_dir else None
            except Exception:  # noqa: BLE001 - an unusable cache costs encodings, never the report
                log.exception("content gaps: no embedding cache in %s", cache_dir)
                return None, threading.Lock()
            _stores[key] = (store, threading.Lock())
        return _stores[key]


def query_vectors(texts: list[str], encoder, cache_dir: str | None) -> np.ndarray:
    """(len(texts), dim) float32 vectors of queries as search embeds them, cached in cache_dir."""
    cleaned = [clean_query(t)[0] or t for t in texts]
    if not cleaned:
        return np.zeros((0, encoder.dim), np.float32)
    keys = [passage_key(t, asked=True) for t in cleaned]
    store, lock = _store(cache_dir, encoder)
    found = _cached(store, lock, lambda: store.get(list(dict.fromkeys(keys)))) or {}
    missing = list(dict.fromkeys(t for t, k in zip(cleaned, keys) if k not in found))
    for start in range(0, len(missing), _BATCH):
        chunk = missing[start:start + _BATCH]
        fresh = {passage_key(t, asked=True): v for t, v in zip(chunk, encoder.encode_queries(chunk))}
        found.update(fresh)
        _cached(store, lock, lambda: store.put(fresh))
    return np.stack([found[k] for k in keys]).astype(np.float32, copy=False)


def _cached(store, lock, call):
    """call() on the cache under its lock; None without a cache or when it fails (logged)."""
    if store is None:
        return None
    try:
        with lock:
            return call()
    except Exception:  # noqa: BLE001 - a broken cache costs encodings, never the report
        log.exception("content gaps: the embedding cache failed")
        return None
