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


def _units(text: str) -> list[str]:
    """Paragraphs and list items, each as plain text, in order."""
    units = []
    for block in re.split(r"\n\s*\n", text):
        items = _ITEM.split(block) if _ITEM.search(block) else [block]
        units += [plain_text(i) for i in items if plain_text(i)]
    return units


def _chunks(units: list[str], max_words: int) -> list[str]:
    """Packs units into chunks of at most max_words words, splitting long units by sentence."""
    pieces = []
    for unit in units:
        if len(unit.split()) <= max_words:
            pieces.append(unit)
        else:
            pieces += [s for s in _SENTENCE.split(unit) if s]
    chunks, cur, size = [], [], 0
    for piece in pieces:
        n = len(piece.split())
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


def split_passages(doc: Document, max_words: int = MAX_WORDS) -> list[str]:
    """The passages of a document: its title with summary and tags, then its body in chunks."""
    head = doc.title.strip()
    first = " ".join(p for p in (head + ".", doc.summary.strip(),
                                 ", ".join(t.replace("_", " ") for t in doc.tags)) if p and p != ".")
    out = [first]
    for heading, text in _sections(doc.body or ""):
        prefix = head if not heading or heading == head else f"{head} — {heading}"
        out += [f"{prefix}. {chunk}" for chunk in _chunks(_units(text), max_words)]
    return out
