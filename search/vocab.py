"""Words of the index near a misspelled one: the candidates for typo expansion.

Whoosh's terms_within() builds a Levenshtein automaton in Python and walks the on-disk term
list with it: 5-10 ms per unknown word on a 10k-article index. The same set is found here
from memory: the index's words sharing the first letters, grouped per segment and prefix,
are narrowed with numpy by length and by a letter-count bound (the bag distance never
exceeds the edit distance), and only the few left are compared exactly.
"""
from __future__ import annotations

import numpy as np

BUCKETS = 32            # letters are counted modulo this: collisions only loosen the bound
MAX_GROUPS = 4000       # (segment, prefix) groups kept in memory


def levenshtein(a: str, b: str, cap: int) -> int:
    """Plain Levenshtein distance (no swaps), stopping early past cap."""
    if abs(len(a) - len(b)) > cap:
        return cap + 1
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
        if min(cur) > cap:
            return cap + 1
        prev = cur
    return prev[-1]


def _counts(words: list[str]) -> np.ndarray:
    """(len(words), BUCKETS) letter counts, modulo BUCKETS."""
    out = np.zeros((len(words), BUCKETS), np.int16)
    if words:
        codes = np.frombuffer("".join(words).encode("utf-32-le"), np.uint32) % BUCKETS
        rows = np.repeat(np.arange(len(words)), [len(w) for w in words])
        np.add.at(out, (rows, codes), 1)
    return out


class _Group:
    """The words of one segment that start with one prefix, with their lengths and counts."""

    __slots__ = ("words", "lengths", "counts")

    def __init__(self, words: list[str]):
        self.words = words
        self.lengths = np.array([len(w) for w in words], np.int32)
        self.counts = _counts(words)

    def within(self, word: str, maxdist: int) -> list[str]:
        """The group's words at Levenshtein distance <= maxdist from word."""
        near = np.flatnonzero(np.abs(self.lengths - len(word)) <= maxdist)
        if not len(near):
            return []
        diff = self.counts[near] - _counts([word])[0]
        bag = np.maximum(np.clip(diff, 0, None).sum(axis=1), np.clip(-diff, 0, None).sum(axis=1))
        return [self.words[i] for i in near[bag <= maxdist]
                if levenshtein(word, self.words[i], maxdist) <= maxdist]


class Vocabulary:
    """Words of a field near a given word; groups are kept per segment across generations."""

    def __init__(self, field: str = "words"):
        self.field = field
        self._groups: dict[tuple, _Group] = {}

    def _group(self, reader, prefix: str) -> _Group:
        try:
            key = (reader.segment().segment_id(), prefix)
        except Exception:  # noqa: BLE001 - no segment (empty index): nothing worth keeping
            key = None
        group = self._groups.get(key) if key else None
        if group is None:
            words = [t.decode("utf-8") if isinstance(t, bytes) else t
                     for t in reader.expand_prefix(self.field, prefix)]
            group = _Group(words)
            if key:
                if len(self._groups) >= MAX_GROUPS:
                    self._groups.clear()
                self._groups[key] = group
        return group

    def within(self, reader, word: str, maxdist: int, prefix: int = 2) -> list[str]:
        """Words of the index within maxdist edits of word and sharing its first letters:
        the same set as Whoosh's reader.terms_within(field, word, maxdist, prefix)."""
        found: dict[str, None] = {}
        for leaf, _ in reader.leaf_readers():
            for cand in self._group(leaf, word[:prefix]).within(word, maxdist):
                found[cand] = None
        return list(found)

    def forget_except(self, segments: set) -> None:
        """Drops the groups of segments not in `segments`."""
        for key in [k for k in self._groups if k[0] not in segments]:
            self._groups.pop(key, None)
