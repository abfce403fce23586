"""Content gaps: unanswered queries grouped by meaning.

Average-linkage agglomerative clustering on cosine similarity, in numpy: merge the two most
similar groups while their average similarity stays above a threshold. A few hundred queries
take milliseconds; the encoder call dominates."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

DEFAULT_THRESHOLD = 0.6
MAX_EXAMPLES = 5


@dataclass
class Gap:
    """A group of similar unanswered queries."""

    label: str  # the most frequent query of the group: a starting title for an article
    size: int  # how many times its queries were asked
    queries: list[str] = field(default_factory=list)  # most frequent first
    sources: set[str] = field(default_factory=set)

    @property
    def examples(self):
        """The group's most frequent queries."""
        return self.queries[:MAX_EXAMPLES]


def cluster(vectors: np.ndarray, threshold: float = DEFAULT_THRESHOLD) -> list[list[int]]:
    """Group row indexes whose average pairwise cosine similarity stays ≥ threshold."""
    n = len(vectors)
    if n == 0:
        return []
    sim = np.asarray(vectors, dtype=np.float64) @ np.asarray(vectors, dtype=np.float64).T
    groups = [[i] for i in range(n)]
    sizes = np.ones(n)
    # link[i, j]: sum of similarities between groups i and j; average = sum / (|i| |j|)
    link = sim.copy()
    alive = np.ones(n, dtype=bool)
    while True:
        avg = link / np.outer(sizes, sizes)
        mask = np.outer(alive, alive)
        np.fill_diagonal(mask, False)
        avg = np.where(mask, avg, -np.inf)
        flat = int(np.argmax(avg))
        i, j = divmod(flat, n)
        if avg[i, j] < threshold:
            break
        # merge j into i
        groups[i].extend(groups[j])
        groups[j] = []
        link[i, :] += link[j, :]
        link[:, i] += link[:, j]
        sizes[i] += sizes[j]
        alive[j] = False
        link[j, :] = 0
        link[:, j] = 0
    return [g for g in groups if g]


def group_queries(items, encoder, threshold: float = DEFAULT_THRESHOLD) -> list[Gap]:
    """Group GapQuery-like items (query, count, sources) by meaning, biggest group first."""
    items = list(items)
    if not items:
        return []
    vectors = encoder.encode_queries([item.query for item in items])
    gaps = []
    for members in cluster(vectors, threshold):
        # The most asked query names the group; on a tie the shortest, as the plainest title.
        ranked = sorted((items[k] for k in members), key=lambda it: (-it.count, len(it.query), it.query))
        sources = set().union(*(set(it.sources) for it in ranked))
        gaps.append(Gap(label=ranked[0].query, size=sum(it.count for it in ranked),
                        queries=[it.query for it in ranked], sources=sources))
    return sorted(gaps, key=lambda g: (-g.size, g.label))
