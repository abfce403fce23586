"""Per-locale text analysis (tokens, accent folding, stop words, stemming) and snippets.

Folding runs before stemming so that a query typed without diacritics (`cunostinte`,
`perche`) reduces to the same term as the accented text; Romanian s/t with comma below and
with cedilla (ș ş ț ţ) fold alike, since both spellings are common in real text.
"""
from __future__ import annotations

import functools
import html
import re
import unicodedata

from whoosh.analysis import (CharsetFilter, LowercaseFilter, RegexTokenizer, StemFilter,
                             StopFilter)
from whoosh.lang import stopwords_for_language
from whoosh.support.charset import accent_map

LOCALES = ("it", "ro", "en")
# Words: letters/digits; apostrophes split ("dell'azienda" -> "dell", "azienda").
WORD = r"\w+"

# Whoosh ships no Romanian stop list; these are the function words that dominate queries.
_RO_STOP = """a acea aceasta această acel acest acesta ai al ale am ar are as asa atat au avea
bine ca care cat cât ce cei cel cele cine cu cum da dacă daca de decat decât deci din dintre
după dupa e ea ei el este eu fi fie fost iar il îl in în îmi imi ii îi la le lor lui mai mult
ne nici nu o ori pe pentru poate prin sa să se si și sunt sau spre sub tot toti toți un una unei
unui unor va vă voi vom""".split()
_EXTRA_STOP = {
    "it": "cos cosa come quale quali quanto quando dove".split(),
    "en": "what how which when where why does do is are the".split(),
    "ro": "ce cum cand când unde".split(),
}


def fold(text: str) -> str:
    """Lower-cases and strips diacritics (ș/ş -> s, é -> e); used for vocabulary checks."""
    text = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in text if not unicodedata.combining(c))


@functools.lru_cache(maxsize=None)      # hybrid's language guess asks on every query
def _stop_words(locale: str) -> frozenset[str]:
    """The folded stop list of a locale (folded because folding runs before the stop filter)."""
    words = list(_RO_STOP) if locale == "ro" else list(stopwords_for_language(locale) or ())
    words += _EXTRA_STOP.get(locale, [])
    return frozenset(fold(w) for w in words)


@functools.lru_cache(maxsize=None)
def analyzer_for(locale: str | None):
    """The Whoosh analyzer of a locale: tokenize, lower-case, fold, drop stop words, stem."""
    chain = RegexTokenizer(WORD) | LowercaseFilter() | CharsetFilter(accent_map)
    if locale in LOCALES:
        chain = chain | StopFilter(stoplist=_stop_words(locale), minsize=1) | StemFilter(lang=locale, cachesize=50000)
    return chain


@functools.lru_cache(maxsize=None)
def plain_analyzer():
    """Folded words without stemming or stop words: suggestions, prefixes, language guess."""
    return RegexTokenizer(WORD) | LowercaseFilter() | CharsetFilter(accent_map)


def terms(text: str, locale: str | None, keep_stops: bool = False) -> list[str]:
    """The index terms a text produces in a locale's fields, in order, duplicates kept."""
    return [t.text for t in analyzer_for(locale)(text or "", removestops=not keep_stops)]


# one character for one character (so offsets survive): accented letters to their base
_FOLD_1TO1 = {code: out for code, out in accent_map.items() if isinstance(out, str) and len(out) == 1}
SNIPPET_SCAN = 4000          # characters of an article searched for the snippet window
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def _fold_scan(text: str) -> str:
    """text.lower().translate(_FOLD_1TO1), looking up only the non-ASCII characters.

    translate() asks the table about every character; a text has a few accented letters
    in thousands, and a regex finds those at C speed (a third of a snippet's time).
    """
    low = text.lower()
    if low.isascii():
        return low
    return _NON_ASCII.sub(lambda m: _FOLD_1TO1.get(ord(m.group()), m.group()), low)


@functools.lru_cache(maxsize=200_000)
def _fold_word(word: str) -> str:
    """fold() for one word, cached (snippets fold the same words over and over)."""
    return fold(word)


@functools.lru_cache(maxsize=100_000)
def _term(word: str, locale: str | None) -> str:
    """The index term of one folded word in a locale ('' for a stop word)."""
    found = terms(word, locale)
    return found[0] if found else ""


def words(text: str) -> list[str]:
    """The folded words of a text (no stemming), in order."""
    return [t.text for t in plain_analyzer()(text or "")]


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
# Markdown that would only be noise in a plain-text snippet.
_MD_NOISE = re.compile(r"^#+\s*|^\s*[-*+>]\s+|[*_`]+|!?\[([^\]]*)\]\([^)]*\)", re.M)


def plain_text(markdown: str) -> str:
    """Markdown reduced to readable text (headings, list bullets, emphasis and links dropped)."""
    text = _MD_NOISE.sub(lambda m: m.group(1) or "", markdown or "")
    return " ".join(text.split())


def snippet(text: str, query_terms: set[str], locale: str | None, maxchars: int = 220,
            plain: bool = False) -> str:
    """An HTML-safe excerpt of text around the query terms (or its start if none match).

    The window is the stretch of maxchars with the most matched words; only the matched
    words are wrapped in <mark>, everything else is escaped. plain=True says the text is
    already plain_text() output (the keyword index stores it so): it is then only cut past
    the farthest point a window can reach, instead of cleaning a whole article per hit.
    """
    text = text[:SNIPPET_SCAN + maxchars + 1] if plain else plain_text(text)
    if not text:
        return ""
    spans = []
    if query_terms:
        # stemming every word of a long text is the slow part: only words sharing a 3-letter
        # prefix with a query term can match (stemmers cut suffixes), so only those are stemmed;
        # a plain regex and a cached fold keep the scan itself cheap
        heads = sorted({t[:3] for t in query_terms if t}, key=len, reverse=True)
        scan = _fold_scan(text[:SNIPPET_SCAN])     # same offsets as text
        pattern = re.compile(r"\b(?:%s)\w*" % "|".join(map(re.escape, heads)))
        for m in pattern.finditer(scan):
            word = _fold_word(m.group())
            if word in query_terms or _term(word, locale) in query_terms:
                spans.append((m.start(), m.end()))
    if not spans:
        cut = text if len(text) <= maxchars else text[:maxchars].rsplit(" ", 1)[0] + " …"
        return html.escape(cut, quote=False)
    # the densest window: for each span as a window start, count spans that fit after it
    best, best_n, j = 0, 0, 0
    for i, (start, _) in enumerate(spans):
        while j < len(spans) and spans[j][1] - start <= maxchars:
            j += 1
        if j - i > best_n:
            best, best_n = i, j - i
    start = max(0, spans[best][0] - 40)
    if start:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < spans[best][0] else start
    end = min(len(text), start + maxchars)
    if end < len(text):
        space = text.rfind(" ", spans[best][1], end)
        end = space if space > 0 else end
    out, pos = [], start
    for s, e in spans:
        if s >= pos and e <= end:
            out.append(html.escape(text[pos:s], quote=False))
            out.append("<mark>" + html.escape(text[s:e], quote=False) + "</mark>")
            pos = e
    out.append(html.escape(text[pos:end], quote=False))
    return ("… " if start > 0 else "") + "".join(out) + (" …" if end < len(text) else "")


_RO_MARKS = re.compile("[ăâîșşțţ]", re.I)
_IT_MARKS = re.compile("[àèéìòù]", re.I)


def guess_language(text: str) -> str | None:
    """it/ro/en from stop words and diacritics, or None when there is no evidence."""
    folded = words(text)
    votes = {loc: sum(w in _stop_words(loc) for w in folded) for loc in LOCALES}
    if _RO_MARKS.search(text):
        votes["ro"] += 2
    if _IT_MARKS.search(text):
        votes["it"] += 1
    best = max(votes, key=votes.get)
    ranked = sorted(votes.values(), reverse=True)
    return best if ranked[0] > ranked[1] else None
