"""Known words of the configured languages and how common they are, for "did you mean".

A word the index has never seen is not always a typo: "clients" in an English query against
a knowledge base written in Italian is a correct English word, and the nearest word the index
has ("clienti") is Italian; "quitting" is no misspelling of "quoting". The suggestion may
only replace a word that is a word of some language with one that is clearly more common in
that same language (a typo that happens to be a rare word, "teh"), never with a word of
another language or a rarer one.

The word lists are wordfreq's "small" lists for it, ro and en (words used about once per
million words or more; the code is Apache-2.0, the data CC-BY-SA 4.0): about 110,000 words
(~12 MB), read once per process on the first suggestion (~0.2 s), folded like the index's
words (no accents), so "perche" is known as "perché" is. Its "large" lists for it and en
(there is none for ro) catch rarer inflections too, at twice the memory and a lower
correction rate; the small ones keep most of the gain (docs/search-suggestions.md).
"""
from __future__ import annotations

import functools
import math
import threading

from . import analysis

# Zipf units: the replacement must be 100x as common in the word's language. A margin of 1
# still let "wish" become "with" and "revive" "receive" (bench/didyoumean.py).
MARGIN = 2.0


class Lexicon:
    """Folded word -> Zipf frequency (log10 of uses per billion words), per language."""

    def __init__(self, languages: tuple[str, ...] = analysis.LOCALES, wordlist: str = "small",
                 margin: float = MARGIN):
        self.languages, self.wordlist, self.margin = tuple(languages), wordlist, margin
        self._tables: dict[str, dict[str, float]] | None = None
        self._lock = threading.Lock()

    def _load(self) -> dict[str, dict[str, float]]:
        if self._tables is None:
            with self._lock:
                if self._tables is None:
                    import wordfreq       # ~0.3 s and ~15 MB: only once a suggestion is made

                    tables = {}
                    for lang in self.languages:
                        try:
                            freqs = wordfreq.get_frequency_dict(lang, wordlist=self.wordlist)
                        except LookupError:     # a language wordfreq has no list for
                            continue
                        table: dict[str, float] = {}
                        for word, freq in freqs.items():
                            key, zipf = analysis.fold(word), math.log10(freq) + 9
                            if zipf > table.get(key, 0.0):
                                table[key] = zipf
                        tables[lang] = table
                    self._tables = tables
        return self._tables

    def zipf(self, word: str) -> dict[str, float]:
        """{language: Zipf frequency} of a folded word, for the languages that know it."""
        return {lang: table[word] for lang, table in self._load().items() if word in table}

    def may_replace(self, word: str, candidate: str) -> bool:
        """Whether "did you mean" may replace word by candidate: always for a word of no
        language; for a known word only by one MARGIN more common in each of its languages."""
        tables = self._load()
        return all(tables[lang].get(candidate, 0.0) >= zipf + self.margin for lang, zipf in self.zipf(word).items())


@functools.lru_cache(maxsize=None)
def default() -> Lexicon:
    """The lexicon of the languages search analyzes (one per process)."""
    return Lexicon()
