"""Splits an article into short passages for embedding: by heading, then by size.

Small encoders read ~128 word pieces and blur long inputs, so each passage stays short and
carries the article title (a passage about "how to compute it" is useless without "it").
An article's semantic score is its best passage.

A list with a question among its items ("- Can I change my PIN abroad?", "- I need my refund")
is a list of ways of asking: its items are marked `asked`. They are embedded the way queries
are (e5's `query: ` prefix: question against question is the symmetric task such encoders were
trained for) and an article scores by several of them at once (search/semantic.py).
"""
from __future__ import annotations

import re
from typing import NamedTuple

from .analysis import plain_text
from .base import Document

MAX_WORDS = 90          # ~130-160 word pieces in Italian/Romanian: fits a 128-256 token window
_HEADING = re.compile(r"^#{1,6}\s+(.*)$", re.M)
_SENTENCE = re.compile(r"(?<=[.!?;:])\s+")
_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+", re.M)
_QUESTION = re.compile(r"[?？][\s\"'”’»)\]]*$")


class Passage(NamedTuple):
    """One passage: its text, and whether it is one way of asking a question (embedded as a query)."""

    text: str
    asked: bool = False


def _sections(body: str) -> list[tuple[str, str]]:
    """(heading, text) pairs; text before the first heading has heading ''."""
    parts, last, heading = [], 0, ""
    for m in _HEADING.finditer(body):
        parts.append((heading, body[last:m.start()]))
        heading, last = m.group(1).strip(), m.end()
    parts.append((heading, body[last:]))
    return [(h, t) for h, t in parts if t.strip()]


def _units(text: str) -> list[tuple[str, str]]:
    """(plain text, kind) for each paragraph and list item, in order.

    kind is "text", "item", or "asked" for the items of a list that has a question among them
    (items in a row form one list, blank lines between them or not).
    """
    units = []
    for block in re.split(r"\n\s*\n", text):
        if _ITEM.search(block):
            head, *items = _ITEM.split(block)
            units += [(plain_text(head), "text")] if plain_text(head) else []
            units += [(plain_text(i), "item") for i in items if plain_text(i)]
        elif plain_text(block):
            units.append((plain_text(block), "text"))
    start = 0
    for end in range(len(units) + 1):
        if end == len(units) or units[end][1] != "item":
            # the other items of such a list are phrasings too, punctuated or not
            if any(_QUESTION.search(u) for u, _ in units[start:end]):
                units[start:end] = [(u, "asked") for u, _ in units[start:end]]
            start = end + 1
    return units


def _chunks(units: list[tuple[str, str]], max_words: int) -> list[Passage]:
    """Packs paragraphs into chunks of at most max_words words; list items stand alone.

    A list item is often one self-contained answer or one way of asking ("- I need my
    refund"), and a passage of its own matches a query phrased like it far better than the
    blur of a whole list.
    """
    pieces = []
    for unit, kind in units:
        if len(unit.split()) <= max_words:
            pieces.append((unit, kind))
        else:                           # cut into sentences, it is no longer one phrasing
            pieces += [(s, "text") for s in _SENTENCE.split(unit) if s]
    chunks, cur, size = [], [], 0
    for piece, kind in pieces:
        n = len(piece.split())
        if kind != "text":
            if cur:
                chunks.append(Passage(" ".join(cur)))
                cur, size = [], 0
            chunks.append(Passage(piece, kind == "asked"))
            continue
        if cur and size + n > max_words:
            chunks.append(Passage(" ".join(cur)))
            cur, size = [], 0
        if n > max_words:               # one sentence longer than a passage: cut by words
            ws = piece.split()
            chunks += [Passage(" ".join(ws[i:i + max_words])) for i in range(0, len(ws), max_words)]
            continue
        cur.append(piece)
        size += n
    if cur:
        chunks.append(Passage(" ".join(cur)))
    return chunks


def _sentence(text: str) -> str:
    """Text ending like a sentence, so a title runs into its passage as a sentence does."""
    return text if not text or text[-1] in ".?!:;" else text + "."


def passages(doc: Document, max_words: int = MAX_WORDS) -> list[Passage]:
    """The passages of a document: its title with summary and tags, then its body in chunks."""
    head = doc.title.strip()
    tags = [t.replace("_", " ") for t in doc.tags if t.replace("_", " ").casefold() != head.casefold()]
    first = " ".join(p for p in (_sentence(head), _sentence(doc.summary.strip()), ", ".join(tags)) if p)
    out = [Passage(first)]
    for heading, text in _sections(doc.body or ""):
        prefix = head if not heading or heading == head else f"{head} — {heading}"
        out += [Passage(f"{_sentence(prefix)} {c.text}", c.asked) for c in _chunks(_units(text), max_words)]
    return out


def split_passages(doc: Document, max_words: int = MAX_WORDS) -> list[str]:
    """The texts of passages(doc): what gets embedded, in order."""
    return [p.text for p in passages(doc, max_words)]
