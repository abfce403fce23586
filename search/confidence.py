"""Answer confidence: how likely each result is to answer the query, calibrated per encoder.

A ranking says which article fits best, never whether any fits: fused scores are normalized
per query, so the first hit scores about 1.0 for gibberish too. Confidence is a model over
evidence that does not depend on the query's own scale (docs/search.md has the method and the
measured tables):

  cos      the article's raw dense score (best passage, or its FAQ phrasings' mean)
  z        that score in standard deviations above the mean score of the whole knowledge base
           for this query (small encoders crowd every cosine into a narrow band; how far one
           article stands out of it says more than the cosine itself)
  spread   the score minus the mean score of the 10 best candidates: how far it stands out of
           its nearest competitors
  margin   the score minus the best score of another concept (translations share one), so a
           clear winner counts more than one of several near-equals
  cover    BM25F score over the best score the query's terms could reach, 0..1
  words    share of the query's words (weighted by IDF) that the article contains, 0..1
  agree    1 when the two sides both rank the article in their top 3
  lang     1 when the query's language (guessed, or the locale filter) is the article's
  unknown  share of the query's words that the index has never seen and that are no typo of
           a word it has (gibberish, another subject's vocabulary)

  confidence = sigmoid(model(features))

Prose articles get a logistic model. FAQ articles that list ways of asking are scored question
against question, on a higher scale, and near misses among them (a neighbouring intent) are
the hard case, so they get a small ensemble of regression trees, which measured clearly better
there (docs/search.md). Both are fitted per encoder family and mode on the dev protocols by
bench/calibrate.py, which writes search/calibrations/<family>.json with the operating points:
a result below `plausible` is cut from the list and from `total`, and a search is `answered`
when its first result reaches `answered` (`faq_answered` for an FAQ article).
"""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

CALIBRATIONS = Path(__file__).with_name("calibrations")
# Encoder families by a part of the encoder's name, first match wins; an encoder nobody has
# calibrated gets MiniLM's (run bench/calibrate.py for it).
FAMILIES = (("e5", "e5"), ("minilm", "minilm"), ("fake", "fake"), ("", "minilm"))

FEATURES = ("cos", "z", "spread", "margin", "cover", "words", "agree", "lang", "unknown")


class Logistic:
    """A linear model over FEATURES: logit = coef . x + bias."""

    def __init__(self, coef: dict[str, float], bias: float):
        self.coef = np.array([coef.get(name, 0.0) for name in FEATURES], np.float64)
        self.bias = float(bias)

    def logits(self, X: np.ndarray) -> np.ndarray:
        return X @ self.coef + self.bias


class Trees:
    """Regression trees of one depth, summed: logit = base + sum of each tree's leaf.

    Every tree is complete (a shallower leaf was padded with always-left nodes), so all trees
    are walked together: depth steps of array lookups for every candidate at once."""

    def __init__(self, depth: int, base: float, features, thresholds, leaves):
        self.depth, self.base = int(depth), float(base)
        self.features = np.asarray(features, np.int64)        # (trees, 2**depth - 1)
        self.thresholds = np.asarray(thresholds, np.float64)  # (trees, 2**depth - 1)
        self.leaves = np.asarray(leaves, np.float64)          # (trees, 2**depth)

    def logits(self, X: np.ndarray) -> np.ndarray:
        n, trees = len(X), np.arange(len(self.features))
        node = np.zeros((n, len(trees)), np.int64)
        rows = np.arange(n)[:, None]
        for _ in range(self.depth):
            values = X[rows, self.features[trees, node]]
            node = 2 * node + 1 + (values > self.thresholds[trees, node])
        leaf = node - (2 ** self.depth - 1)
        return self.base + self.leaves[trees, leaf].sum(axis=1)


def _model(spec: dict):
    if "trees" in spec:
        return Trees(**spec["trees"])
    return Logistic(spec["logistic"]["coef"], spec["logistic"]["bias"])


@dataclass(frozen=True)
class Calibration:
    """The models of one encoder family and mode, and its operating points."""

    prose: Logistic | Trees
    answered: float            # the first result's confidence from which the query is answered
    plausible: float           # results below this confidence are cut from the list and from total
    faq: Logistic | Trees | None = None     # FAQ articles scored by their ways of asking
    faq_answered: float | None = None

    @classmethod
    def from_dict(cls, spec: dict) -> "Calibration":
        return cls(prose=_model(spec["prose"]), answered=spec["answered"], plausible=spec["plausible"],
                   faq=_model(spec["faq"]) if spec.get("faq") else None, faq_answered=spec.get("faq_answered"))


@dataclass
class Evidence:
    """The candidates of one query, as parallel arrays, plus what is known of the query itself."""

    slugs: list[str]
    cos: np.ndarray                 # raw dense score per candidate (nan: no dense side)
    sparse: np.ndarray              # raw BM25F per candidate (0: not retrieved by keywords)
    words: np.ndarray | None        # share of the query's words in the article, per candidate
    concepts: list[str]
    locales: list[str]
    dense_mean: float = 0.0         # the query's mean and spread of dense scores over the KB
    dense_std: float = 1.0
    sparse_max: float = 0.0         # the best BM25F score the query's terms could reach
    query_language: str | None = None
    unknown: float = 0.0            # share of unknown query words
    top_keyword: list[str] = field(default_factory=list)   # the keyword side's first slugs
    top_dense: list[str] = field(default_factory=list)     # the dense side's first slugs
    faq: np.ndarray | None = None   # per candidate: an FAQ article scored by its ways of asking

    def matrix(self) -> np.ndarray:
        """(candidates, FEATURES) feature matrix."""
        n = len(self.slugs)
        out = np.zeros((n, len(FEATURES)), np.float64)
        if not n:
            return out
        dense = not np.isnan(np.asarray(self.cos, np.float64)).all()
        cos = np.nan_to_num(np.asarray(self.cos, np.float64), nan=self.dense_mean)
        cover = np.clip(np.asarray(self.sparse, np.float64) / self.sparse_max, 0.0, 1.0) \
            if self.sparse_max > 0 else np.zeros(n)
        out[:, 0] = cos
        out[:, 1] = (cos - self.dense_mean) / max(self.dense_std, 1e-6)
        out[:, 2] = cos - np.sort(cos)[::-1][:10].mean()
        # without a dense side (keyword search) the keyword evidence decides who stands out
        out[:, 3] = _margins(cos if dense else cover, self.concepts)
        out[:, 4] = cover
        out[:, 5] = self.words if self.words is not None else 0.0
        both = set(self.top_keyword[:3]) & set(self.top_dense[:3])
        out[:, 6] = [1.0 if s in both else 0.0 for s in self.slugs]
        if self.query_language:
            out[:, 7] = [1.0 if loc == self.query_language else 0.0 for loc in self.locales]
        else:
            out[:, 7] = 0.5
        out[:, 8] = self.unknown
        return out


def _margins(scores: np.ndarray, concepts: list[str]) -> np.ndarray:
    """Each score minus the best score among candidates of another concept (or another slug)."""
    n = len(scores)
    if n < 2:
        return np.zeros(n)
    keys = [c or f"\x00{i}" for i, c in enumerate(concepts)]
    best: dict[str, float] = {}
    for key, score in zip(keys, scores):
        if score > best.get(key, -np.inf):
            best[key] = score
    ranked = sorted(best.items(), key=lambda kv: -kv[1])
    first_key, first = ranked[0]
    second = ranked[1][1] if len(ranked) > 1 else first
    return np.array([s - (second if k == first_key else first) for k, s in zip(keys, scores)])


def confidences(evidence: Evidence, calibration: Calibration) -> np.ndarray:
    """The confidence of every candidate, 0..1."""
    if not evidence.slugs:
        return np.zeros(0)
    X = evidence.matrix()
    logits = calibration.prose.logits(X)
    faq = evidence.faq
    if calibration.faq is not None and faq is not None and faq.any():
        logits[faq] = calibration.faq.logits(X[faq])
    return 1.0 / (1.0 + np.exp(-np.clip(logits, -40, 40)))


def answered(conf: np.ndarray, evidence: Evidence, calibration: Calibration) -> bool:
    """Whether the first candidate's confidence reaches the threshold for its kind of article."""
    if not len(conf):
        return False
    faq = evidence.faq is not None and bool(evidence.faq[0]) and calibration.faq_answered is not None
    return float(conf[0]) >= (calibration.faq_answered if faq else calibration.answered)


def family(encoder_name: str) -> str:
    """The calibrated encoder family an encoder belongs to."""
    lowered = (encoder_name or "").lower()
    return next(name for key, name in FAMILIES if key in lowered)


@functools.lru_cache(maxsize=None)
def _calibrations(name: str) -> dict[str, Calibration]:
    spec = json.loads((CALIBRATIONS / f"{name}.json").read_text(encoding="utf-8"))
    return {mode: Calibration.from_dict(entry) for mode, entry in spec["modes"].items()}


def calibration_for(encoder_name: str, mode: str) -> Calibration:
    """The calibration of an encoder family and mode (read once per process)."""
    return _calibrations(family(encoder_name))[mode]
