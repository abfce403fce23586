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

from whoosh import highlight
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


def words(text: str) -> list[str]:
    """The folded words of a text (no stemming), in order."""
    return [t.text for t in plain_analyzer()(text or "")]


class _MarkFormatter(highlight.Formatter):
    """Escapes all text and wraps matched words in <mark>, so snippets are safe as HTML."""

    between = " … "

    def _text(self, text):
        return html.escape(text, quote=False)

    def format_token(self, text, token, replace=False):
        return "<mark>%s</mark>" % html.escape(highlight.get_text(text, token, replace), quote=False)


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
# Markdown that would only be noise in a plain-text snippet.
_MD_NOISE = re.compile(r"^#+\s*|^\s*[-*+]\s+|[*_`>]+|!?\[([^\]]*)\]\([^)]*\)", re.M)


def plain_text(markdown: str) -> str:
    """Markdown reduced to readable text (headings, list bullets, emphasis and links dropped)."""
    text = _MD_NOISE.sub(lambda m: m.group(1) or "", markdown or "")
    return " ".join(text.split())


def snippet(text: str, query_terms: set[str], locale: str | None, maxchars: int = 220) -> str:
    """An HTML-safe excerpt of text around the query terms (or its start if none match)."""
    text = plain_text(text)
    if not text:
        return ""
    if query_terms:
        fragmenter = highlight.ContextFragmenter(maxchars=maxchars, surround=60)
        out = highlight.highlight(text, frozenset(query_terms), analyzer_for(locale), fragmenter,
                                  _MarkFormatter(), top=2, order=highlight.FIRST)
        if out:
            return out
    if len(text) > maxchars:
        text = text[:maxchars].rsplit(" ", 1)[0] + " …"
    return html.escape(text, quote=False)
