"""Search-as-you-type over article titles: the typed words anywhere in a title, the last one
being typed (a prefix), the visitor's language first.

It runs on every (debounced) keystroke, so it works on what the keyword side already keeps in
memory (search/bm25.py's decoded postings per segment) instead of running a scored Whoosh
query: a title matches when it has every earlier word and a word starting with the last one;
the matches are put in a cheap order (the preferred language, then shorter titles), and only
the first few have their stored fields read to be ranked finely (a title that starts with
what was typed first, then one that holds it as a phrase) and shown.
"""
from __future__ import annotations

import numpy as np

from . import analysis
from .base import Hit, clean_query

FIELD = "title_prefix"       # folded, unstemmed title words (search/keyword.py's schema)
SHORTLIST = 4                # candidates read per suggestion asked for


def _docs_with(scorer, terms) -> np.ndarray:
    """Bool per document: it has at least one of the terms in its title."""
    found = np.zeros(scorer.size, bool)
    for leaf, offset in scorer.leaves:
        for term in terms:
            ids, _ = scorer.arrays.postings(leaf, FIELD, term)
            if len(ids):
                found[ids + offset] = True
    return found


def _expand(scorer, prefix: str) -> list[str]:
    """The title words starting with prefix, over all segments."""
    words = scorer.reader.expand_prefix(FIELD, prefix)
    return list(dict.fromkeys(w.decode("utf-8") if isinstance(w, bytes) else w for w in words))


def matching(scorer, typed: list[str], locale: str | None = None) -> np.ndarray:
    """Document numbers (live) whose title has every earlier word and a word starting with
    the last one."""
    match = scorer.live.copy()
    if locale:
        match &= scorer.mask("locale", locale)
    for word in dict.fromkeys(typed[:-1]):
        match &= _docs_with(scorer, [word])
        if not match.any():
            return np.zeros(0, np.int64)
    match &= _docs_with(scorer, _expand(scorer, typed[-1]))
    return np.flatnonzero(match)


def _lengths(scorer) -> np.ndarray:
    """Every document's title length in words (as the index quantizes it)."""
    return np.concatenate([scorer.arrays.lengths(leaf, FIELD) for leaf, _ in scorer.leaves]) \
        if scorer.leaves else np.zeros(0)


def _fine_key(title_words: list[str], typed: list[str]) -> tuple[int, int, int]:
    """(0 if the title starts with what was typed, 0 if it holds it as a phrase, length)."""
    n = len(typed)

    def at(i):
        window = title_words[i:i + n]
        return len(window) == n and window[:-1] == typed[:-1] and window[-1].startswith(typed[-1])

    phrase = any(at(i) for i in range(len(title_words)))
    return (0 if at(0) else 1, 0 if phrase else 1, len(title_words))


def suggest(searcher, scorer, prefix: str, locale: str | None = None, limit: int = 8,
            prefer: str | None = None) -> list[Hit]:
    """Up to `limit` titles for what was typed, titles in `prefer` first (all languages are
    searched; `locale` filters to one). A single word needs two letters."""
    text, _ = clean_query(prefix)
    typed = analysis.words(text)
    if not typed or (len(typed) == 1 and len(typed[0]) < 2):
        return []
    docs = matching(scorer, typed, locale)
    if not len(docs):
        return []
    other = ~scorer.mask("locale", prefer)[docs] if prefer else np.zeros(len(docs), bool)
    order = np.lexsort((docs, _lengths(scorer)[docs], other))[:limit * SHORTLIST]
    rows = []
    for i in order:
        fields = searcher.stored_fields(int(docs[i]))
        title = fields.get("title_raw", "")
        rows.append(((bool(other[i]),) + _fine_key(analysis.words(title), typed), int(docs[i]), fields, title))
    rows.sort(key=lambda r: (r[0], r[1]))
    return [Hit(slug=f["slug"], score=float(len(rows) - n), title=title, locale=f.get("locale", ""),
                category=f.get("category", ""), concept=f.get("concept", ""))
            for n, (_, _, f, title) in enumerate(rows[:limit])]
