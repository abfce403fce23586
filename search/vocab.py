"""Words of the index near a misspelled one: the candidates for typo expansion.

Whoosh's terms_within() builds a Levenshtein automaton in Python and walks the on-disk term
list with it: 5-10 ms per unknown word on a 10k-article index, and an adjacent swap costs it
two edits, so "emial" (5 letters, one edit allowed) never reached "email". Here the index's
words sharing the first letters are kept in memory, grouped per segment and prefix, and
rapidfuzz compares the typed word with a whole group in C, by optimal string alignment
distance (insertions, deletions, substitutions and adjacent swaps each count one).
"""
from __future__ import annotations

from rapidfuzz import process
from rapidfuzz.distance import OSA

MAX_GROUPS = 4000       # (segment, prefix) groups kept in memory


def distance(a: str, b: str) -> int:
    """Optimal string alignment distance (an adjacent swap counts one edit)."""
    return OSA.distance(a, b)


class Vocabulary:
    """Words of a field near a given word; groups are kept per segment across generations."""

    def __init__(self, field: str = "words"):
        self.field = field
        self._groups: dict[tuple, list[str]] = {}

    def _group(self, reader, prefix: str) -> list[str]:
        try:
            key = (reader.segment().segment_id(), prefix)
        except Exception:  # noqa: BLE001 - no segment (empty index): nothing worth keeping
            key = None
        group = self._groups.get(key) if key else None
        if group is None:
            group = [t.decode("utf-8") if isinstance(t, bytes) else t
                     for t in reader.expand_prefix(self.field, prefix)]
            if key:
                if len(self._groups) >= MAX_GROUPS:
                    self._groups.clear()
                self._groups[key] = group
        return group

    def within(self, reader, word: str, maxdist: int, prefix: int = 2) -> list[tuple[str, int]]:
        """(word, distance) of the index's words within maxdist edits of word (adjacent swaps
        count one) and sharing its first `prefix` letters, nearest first."""
        found: dict[str, int] = {}
        for leaf, _ in reader.leaf_readers():
            group = self._group(leaf, word[:prefix])
            for cand, dist, _ in process.extract(word, group, scorer=OSA.distance, score_cutoff=maxdist,
                                                 limit=None):
                found[cand] = min(dist, found.get(cand, dist))
        return sorted(found.items(), key=lambda kv: (kv[1], kv[0]))

    def forget_except(self, segments: set) -> None:
        """Drops the groups of segments not in `segments`."""
        for key in [k for k in self._groups if k[0] not in segments]:
            self._groups.pop(key, None)
