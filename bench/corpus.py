"""Loads a folder of Markdown articles (YAML front matter) as search Documents, without Flask."""
from __future__ import annotations

import pathlib

import yaml

from search.base import Document


def load_documents(root) -> list[Document]:
    """Every published article under root, as Documents (drafts and unparsable files skipped)."""
    docs = []
    for path in sorted(pathlib.Path(root).rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        if not text.startswith("---"):
            continue
        _, front, body = text.split("---", 2)
        try:
            meta = yaml.safe_load(front) or {}
        except yaml.YAMLError:
            continue        # the portal's importer rejects these too (reported, skipped)
        if meta.get("status", "published") != "published":
            continue
        tags = meta.get("tags") or []
        docs.append(Document(
            slug=str(meta.get("slug") or path.stem), title=str(meta.get("title", path.stem)),
            locale=str(meta.get("locale", "en")), category=str(meta.get("category", "")),
            tags=tuple(str(t) for t in (tags if isinstance(tags, list) else [tags])),
            summary=str(meta.get("summary") or ""), body=body.strip(),
            concept=str(meta.get("concept") or ""), stamp=str(path.stat().st_mtime_ns)))
    return docs
