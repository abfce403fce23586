"""Answer confidence: how likely each result is to answer the query, calibrated per encoder.

A ranking says which article fits best, never whether any fits: fused scores are normalized
per query, so the first hit scores about 1.0 for gibberish too. Confidence is a logistic model
over evidence that does not depend on the query's own scale (docs/search.md has the method and
the measured tables):

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

  confidence = sigmoid(bias + sum(coef[f] * f))

The coefficients are fitted per encoder family and mode on the dev protocols
(bench/calibrate.py writes the table below). A result is "plausible" (counted in `total`)
above PLAUSIBLE of its mode, and the query is "answered" when the first result reaches
ANSWERED: the operating point, also fitted there.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

FEATURES = ("cos", "z", "spread", "margin", "cover", "words", "agree", "lang", "unknown")


@dataclass(frozen=True)
class Calibration:
    """Logistic models over FEATURES (one for prose articles, one for FAQ articles that list
    ways of asking, whose scores compare question with question and run higher) and the two
    thresholds."""

    coef: dict[str, float]
    bias: float
    answered: float = 0.5      # the first result's confidence from which the query counts as answered
    plausible: float = 0.1     # results below this confidence are cut from the list and from total
    faq_coef: dict[str, float] | None = None    # None: FAQ articles use coef and bias
    faq_bias: float = 0.0
    faq_answered: float | None = None           # None: the same threshold as prose articles

    def weights(self) -> tuple[np.ndarray, float, np.ndarray, float]:
        """(prose coefficients, prose bias, FAQ coefficients, FAQ bias) as arrays over FEATURES."""
        prose = np.array([self.coef.get(name, 0.0) for name in FEATURES], np.float64)
        if self.faq_coef is None:
            return prose, self.bias, prose, self.bias
        faq = np.array([self.faq_coef.get(name, 0.0) for name in FEATURES], np.float64)
        return prose, self.bias, faq, self.faq_bias


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
    prose, bias, faq, faq_bias = calibration.weights()
    logits = X @ prose + bias
    if evidence.faq is not None and evidence.faq.any():
        logits = np.where(evidence.faq, X @ faq + faq_bias, logits)
    return 1.0 / (1.0 + np.exp(-np.clip(logits, -40, 40)))


def answered(conf: np.ndarray, evidence: Evidence, calibration: Calibration) -> bool:
    """Whether the first candidate's confidence reaches the threshold for its kind of article."""
    if not len(conf):
        return False
    faq = evidence.faq is not None and bool(evidence.faq[0]) and calibration.faq_answered is not None
    return float(conf[0]) >= (calibration.faq_answered if faq else calibration.answered)


# Fitted by bench/calibrate.py on the dev protocols; keyed by encoder family (matched in the
# encoder's name, first match wins) and mode. "" is any other encoder.
_KEYWORD = Calibration({"margin": 7.241, "cover": -1.371, "words": 3.775, "unknown": -2.544}, -2.152, 0.072, 0.017)

CALIBRATIONS: list[tuple[str, dict[str, Calibration]]] = [
    ("e5", {
        "keyword": _KEYWORD,
        "semantic": Calibration(
            {"cos": 67.103, "z": 0.736, "spread": 6.735, "margin": 70.629, "lang": 0.473}, -60.578, 0.286, 0.017,
            faq_coef={"cos": 33.064, "z": 0.254, "spread": 23.650, "margin": 30.585, "lang": 0.692},
            faq_bias=-33.071, faq_answered=0.169),
        "hybrid": Calibration(
            {"cos": 22.698, "z": -0.400, "spread": 2.415, "margin": 47.249, "cover": 2.706, "words": 4.380,
             "agree": 2.067, "lang": -1.816, "unknown": -2.710}, -20.330, 0.371, 0.011,
            faq_coef={"cos": 25.719, "z": 0.175, "spread": 23.984, "margin": 26.039, "cover": -2.096,
                      "words": 2.785, "agree": 0.626, "lang": 0.664, "unknown": 1.089},
            faq_bias=-27.018, faq_answered=0.168),
    }),
    ("fake", {
        "keyword": _KEYWORD,
        "semantic": Calibration(
            {"cos": 10.191, "z": -0.294, "spread": 6.668, "margin": 12.335, "lang": 0.290}, -5.661, 0.128, 0.009,
            faq_coef={"cos": 4.293, "z": 0.427, "spread": -2.367, "margin": 10.377, "lang": 0.750},
            faq_bias=-4.706, faq_answered=0.225),
        "hybrid": Calibration(
            {"cos": -2.657, "z": -0.038, "spread": -6.422, "margin": 10.275, "cover": 7.757, "words": 4.608,
             "agree": 1.940, "lang": -1.362, "unknown": -6.504}, -1.627, 0.105, 0.022,
            faq_coef={"cos": -0.102, "z": -0.510, "spread": 1.113, "margin": 7.990, "cover": 0.737,
                      "words": 2.993, "agree": 0.928, "lang": 0.952, "unknown": -0.085},
            faq_bias=-2.971, faq_answered=0.123),
    }),
    # MiniLM; also what an encoder nobody calibrated gets (run bench/calibrate.py for it)
    ("", {
        "keyword": _KEYWORD,
        "semantic": Calibration(
            {"cos": 15.335, "z": 1.636, "spread": -6.549, "margin": 18.086, "lang": -0.592}, -12.604, 0.113, 0.005,
            faq_coef={"cos": 12.998, "z": 1.115, "spread": -8.874, "margin": 6.611, "lang": 1.354},
            faq_bias=-12.680, faq_answered=0.168),
        "hybrid": Calibration(
            {"cos": -3.291, "z": 1.094, "spread": -18.924, "margin": 14.844, "cover": 8.053, "words": 4.987,
             "agree": 1.095, "lang": -0.856, "unknown": -6.274}, -3.388, 0.193, 0.014,
            faq_coef={"cos": 10.829, "z": 0.701, "spread": -4.545, "margin": 5.821, "cover": -2.876,
                      "words": 2.742, "agree": 0.558, "lang": 0.688, "unknown": 1.806},
            faq_bias=-10.587, faq_answered=0.155),
    }),
]


def calibration_for(encoder_name: str, mode: str) -> Calibration:
    """The calibration of an encoder family and mode ("keyword" ignores the encoder)."""
    if mode == "keyword":
        return _KEYWORD
    lowered = (encoder_name or "").lower()
    for key, by_mode in CALIBRATIONS:
        if key in lowered and mode in by_mode:
            return by_mode[mode]
    raise KeyError(f"no calibration for mode {mode!r}")
