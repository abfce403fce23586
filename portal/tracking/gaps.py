"""Content gaps: failed queries grouped by meaning (no Flask here: vectors in, groups out).

Grouping is scipy's agglomerative clustering, average linkage on cosine distance, cut where the
average similarity between two groups falls below the encoder's cut (CUTS). Each group is
named by its medoid: the query closest, on average over the group's searches, to all the others.

Average linkage needs every pair's distance, which a 10,000-query period cannot afford in a
page's time (3 to 7.5 s and 400 MB here), so above EXACT_MAX queries the most searched EXACT_MAX are
clustered and every other query joins the group it would join under average linkage, the one
whose average similarity to it is highest (for unit vectors, the dot product with the group's
mean vector), when that reaches the cut; the rest go through the same steps, and at the end
the groups go on merging by average linkage among themselves. bench/gaps_bench.py measures the
time and how closely this agrees with one clustering of every query."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform

MAX_EXAMPLES = 5
METHOD = "average"  # scipy's linkage method; bench/gaps_protocol.py --method compares the others
EXACT_MAX = 2000  # queries clustered with every pair's distance; the others join their groups
_BLOCK = 1024  # queries compared with the groups at a time

# The cut per encoder family (matched in the encoder's name, first match wins): two groups merge
# while the average cosine similarity of their queries is at least this. Fitted on the gaps dev
# protocol (python -m bench.gaps_protocol --fit, seeds 1-3; docs/gaps.md): each encoder has its
# own scale (e5 puts unrelated questions at 0.76-0.86, MiniLM near 0.1).
CUTS: list[tuple[str, float]] = [
    ("e5", 0.89),
    ("minilm", 0.525),  # the middle of a plateau: 0.475-0.55 all within 0.013 of the best ARI
    ("fake", 0.25),  # the hashing encoder of the tests
]

# An encoder nobody calibrated gets a cut this far from the mean similarity of the unrelated
# REFERENCE questions towards 1: where the fitted cuts of e5 (0.459) and MiniLM (0.480) sit.
RELATIVE_CUT = 0.47
REFERENCE = (
    "how do I reset my password", "when will my order arrive", "cancel my subscription",
    "the invoice shows the wrong amount", "change the delivery address", "delete my account and my data",
    "the app crashes when I open it", "how long does a refund take", "add a second user to the account",
    "which payment methods do you accept", "my card was declined", "export the report to a spreadsheet",
    "a che ora chiude il negozio sabato", "posso portare il cane in ufficio", "come si prenota una sala riunioni",
    "unde găsesc manualul de utilizare", "cât costă un abonament pentru studenți", "cine semnează contractul",
    "what is the capital of Australia", "how long should I boil an egg",
)


def cut_for(encoder_name: str) -> float | None:
    """The calibrated cut of an encoder family, or None when the encoder is not in CUTS."""
    lowered = (encoder_name or "").lower()
    return next((cut for key, cut in CUTS if key in lowered), None)


def relative_cut(reference_vectors: np.ndarray) -> float:
    """The cut for an uncalibrated encoder, from its vectors of the REFERENCE questions."""
    v = np.asarray(reference_vectors, np.float64)
    sim = v @ v.T
    mean = float(sim[np.triu_indices(len(v), 1)].mean())
    return mean + RELATIVE_CUT * (1.0 - mean)


def _linkage(vectors: np.ndarray, cut: float, method: str) -> list[np.ndarray]:
    """Agglomerative clustering of all rows on cosine distance, cut at distance 1 - cut."""
    if len(vectors) == 1:
        return [np.zeros(1, np.int64)]
    distance = 1.0 - vectors @ vectors.T
    np.fill_diagonal(distance, 0.0)
    condensed = np.clip(squareform(distance, checks=False), 0.0, 2.0).astype(np.float64)
    flat = fcluster(linkage(condensed, method), 1.0 - cut, criterion="distance")
    order = np.argsort(flat, kind="stable")
    return np.split(order, np.flatnonzero(np.diff(flat[order])) + 1)


def cluster(vectors: np.ndarray, cut: float, method: str | None = None) -> list[list[int]]:
    """Row indexes grouped by meaning (module docstring); rows first in order are clustered first."""
    vectors, method = np.asarray(vectors, np.float32), method or METHOD
    todo, groups = np.arange(len(vectors)), []
    while len(todo):
        head, tail = todo[:EXACT_MAX], todo[EXACT_MAX:]
        found = [list(head[g]) for g in _linkage(vectors[head], cut, method)]
        if len(tail):
            best, score = _nearest(vectors[tail], np.stack([vectors[g].mean(axis=0) for g in found]))
            joined = score >= cut
            for row, g in zip(tail[joined], best[joined]):
                found[g].append(row)
            tail = tail[~joined]
        groups += found
        todo = tail
    if len(vectors) > EXACT_MAX:
        groups = _merge(vectors, groups, cut)
    return [[int(i) for i in g] for g in groups]


def _nearest(rows: np.ndarray, means: np.ndarray, exclude_self: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """For each row, the group mean it is most similar to and that similarity (blocks of _BLOCK)."""
    best, score = np.empty(len(rows), np.int64), np.empty(len(rows), np.float32)
    for start in range(0, len(rows), _BLOCK):
        sim = rows[start:start + _BLOCK] @ means.T
        if exclude_self:
            sim[np.arange(len(sim)), start + np.arange(len(sim))] = -np.inf
        top = sim.argmax(axis=1)
        best[start:start + _BLOCK], score[start:start + _BLOCK] = top, sim[np.arange(len(sim)), top]
    return best, score


def _merge(vectors: np.ndarray, groups: list[list], cut: float) -> list[list]:
    """Go on with average linkage over the groups themselves, so that a group formed in a later
    round can still join an earlier one: the average similarity of two groups is the dot
    product of their mean vectors, and merging two averages the rows of their sizes. Only the
    groups with a partner above the cut take part: a merge never lifts another pair above it."""
    means = np.stack([vectors[g].mean(axis=0) for g in groups])
    partners = np.flatnonzero(_nearest(means, means, exclude_self=True)[1] >= cut)
    if len(partners) < 2:
        return groups
    sim = means[partners].astype(np.float64) @ means[partners].T.astype(np.float64)
    np.fill_diagonal(sim, -np.inf)
    sizes = np.array([len(groups[k]) for k in partners], np.float64)
    members = [list(groups[k]) for k in partners]
    while True:
        i, j = divmod(int(np.argmax(sim)), len(partners))
        if sim[i, j] < cut:
            break
        row = (sizes[i] * sim[i] + sizes[j] * sim[j]) / (sizes[i] + sizes[j])
        sim[i, :], sim[:, i] = row, row
        sim[j, :], sim[:, j], sim[i, i] = -np.inf, -np.inf, -np.inf
        sizes[i] += sizes[j]
        members[i] += members[j]
        members[j] = []
    chosen = set(partners.tolist())
    return [g for k, g in enumerate(groups) if k not in chosen] + [m for m in members if m]


def medoid(vectors: np.ndarray, weights: np.ndarray) -> int:
    """Index of the row with the highest weighted mean similarity to the rows (weights: searches)."""
    vectors = np.asarray(vectors, np.float32)
    return int(np.argmax((vectors @ (vectors.T @ np.asarray(weights, np.float32)))))


@dataclass
class Gap:
    """A group of failed queries with one meaning."""

    label: str  # the medoid: the most central query, a starting title for an article
    size: int  # searches of the group's queries
    queries: list[tuple[str, int]] = field(default_factory=list)  # (query, searches), most searched first
    sources: set[str] = field(default_factory=set)  # why they failed: no_answer, ticket, not_helpful

    @property
    def examples(self) -> list[str]:
        """The group's most searched queries."""
        return [q for q, _ in self.queries[:MAX_EXAMPLES]]

    def as_dict(self) -> dict:
        """The contract's JSON shape of a group."""
        return {"label": self.label, "size": self.size, "sources": sorted(self.sources),
                "queries": [{"query": q, "searches": n} for q, n in self.queries]}


def group(items, vectors: np.ndarray, cut: float) -> list[Gap]:
    """Group FailedQuery-like items (query, searches, sources) with their vectors, largest first."""
    items = list(items)
    if not items:
        return []
    vectors = np.asarray(vectors, np.float32)
    gaps = []
    for members in cluster(vectors, cut):
        searches = np.array([items[k].searches for k in members], np.float32)
        centre = items[members[medoid(vectors[members], searches)]]
        ranked = sorted((items[k] for k in members), key=lambda it: (-it.searches, len(it.query), it.query))
        gaps.append(Gap(label=centre.query, size=int(searches.sum()),
                        queries=[(it.query, it.searches) for it in ranked],
                        sources=set().union(*(set(it.sources) for it in ranked))))
    return sorted(gaps, key=lambda g: (-g.size, -len(g.queries), g.label))
