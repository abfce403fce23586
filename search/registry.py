"""The search backends by name, and the one place that builds them from options.

    backend = create_backend("hybrid", path="instance/search", encoder="minilm")

A registry rather than if/else chains: adding a backend is one entry, and the portal's
configuration (SEARCH_BACKEND) names it.
"""
from __future__ import annotations

import os
from typing import Callable

from .base import SearchBackend
from .hybrid import HybridBackend
from .keyword import KeywordBackend
from .semantic import SemanticBackend


def _keyword(path: str, **opts) -> KeywordBackend:
    return KeywordBackend(os.path.join(path, "keyword"), **opts)


def _semantic(path: str, **opts) -> SemanticBackend:
    return SemanticBackend(os.path.join(path, "vectors"), **opts)


def _hybrid(path: str, **opts) -> HybridBackend:
    weight = opts.pop("weight", None)
    return HybridBackend(_keyword(path, **opts), _semantic(path, **opts), weight=weight)


# Every backend keeps its files in a subfolder of `path`, so all three can share one folder
# and switching mode never rebuilds what is already there.
BACKENDS: dict[str, Callable[..., SearchBackend]] = {
    "keyword": _keyword,
    "semantic": _semantic,
    "hybrid": _hybrid,
}


def create_backend(name: str, path: str, **opts) -> SearchBackend:
    """Builds the backend `name` storing its files under `path` (opts go to the backend)."""
    try:
        factory = BACKENDS[name]
    except KeyError:
        raise ValueError(f"unknown search backend {name!r}; choose one of {', '.join(BACKENDS)}") from None
    return factory(os.fspath(path), **opts)
