"""Splits an article into short passages for embedding: by heading, then by size.

Small encoders read ~128 word pieces and blur long inputs, so each passage stays short and
carries the article title (a passage about "how to compute it" is useless without "it").
An article's semantic score is its best passage.
"""
from __future__ import annotations

import re

from .analysis import plain_text
from .base import Document

MAX_WORDS = 90          # ~130-160 word pieces in Italian/Romanian: fits a 128-256 token window
_HEADING = re.compile(r"^#{1,6}\s+(.*)$", re.M)
_SENTENCE = re.compile(r"(?<=[.!?;:])\s+")
_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+", re.M)


def _sections(body: str) -> list[tuple[str, str]]:
    """(heading, text) pairs; text before the first heading has heading ''."""
    parts, last, heading = [], 0, ""
    for m in _HEADING.finditer(body):
        parts.append((heading, body[last:m.start()]))
        heading, last = m.group(1).strip(), m.end()
    parts.append((heading, body[last:]))
    return [(h, t) for h, t in parts if t.strip()]


def _units(text: str) -> list[tuple[str, bool]]:
    """(plain text, is a list item) for each paragraph and list item, in order."""
    units = []
    for block in re.split(r"\n\s*\n", text):
        if _ITEM.search(block):
            head, *items = _ITEM.split(block)
            units += [(plain_text(head), False)] if plain_text(head) else []
            units += [(plain_text(i), True) for i in items if plain_text(i)]
        elif plain_text(block):
            units.append((plain_text(block), False))
    return units


def _chunks(units: list[tuple[str, bool]], max_words: int) -> list[str]:
    """Packs paragraphs into chunks of at most max_words words; list items stand alone.

    A list item is often one self-contained answer or one way of asking ("- I need my
    refund"), and a passage of its own matches a query phrased like it far better than the
    blur of a whole list.
    """
    pieces = []
    for unit, item in units:
        if len(unit.split()) <= max_words:
            pieces.append((unit, item))
        else:
            pieces += [(s, False) for s in _SENTENCE.split(unit) if s]
    chunks, cur, size = [], [], 0
    for piece, item in pieces:
        n = len(piece.split())
        if item:
            if cur:
                chunks.append(" ".join(cur))
                cur, size = [], 0
            chunks.append(piece)
            continue
        if cur and size + n > max_words:
            chunks.append(" ".join(cur))
            cur, size = [], 0
        if n > max_words:               # one sentence longer than a passage: cut by words
            ws = piece.split()
            chunks += [" ".join(ws[i:i + max_words]) for i in range(0, len(ws), max_words)]
            continue
        cur.append(piece)
        size += n
    if cur:
        chunks.append(" ".join(cur))
    return chunks


def _sentence(text: str) -> str:
    """Text ending like a sentence, so a title runs into its passage as a sentence does."""
    return text if not text or text[-1] in ".?!:;" else text + "."


def split_passages(doc: Document, max_words: int = MAX_WORDS) -> list[str]:
    """The passages of a document: its title with summary and tags, then its body in chunks."""
    head = doc.title.strip()
    tags = [t.replace("_", " ") for t in doc.tags if t.replace("_", " ").casefold() != head.casefold()]
    first = " ".join(p for p in (_sentence(head), _sentence(doc.summary.strip()), ", ".join(tags)) if p)
    out = [first]
    for heading, text in _sections(doc.body or ""):
        prefix = head if not heading or heading == head else f"{head} — {heading}"
        out += [f"{_sentence(prefix)} {chunk}" for chunk in _chunks(_units(text), max_words)]
    return out
