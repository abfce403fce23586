"""Folds translations in a ranked list: one result per concept, the visitor's language first.

Articles that share a `concept` are translations of one another. Listing the Italian, Romanian
and English versions of one answer as three results wastes the first page, so each concept is
shown once: by the article in the visitor's locale when the list holds one (even if a
translation ranked higher: the visitor reads that one), else by the best-ranked one, so an
English or Romanian query still reaches an Italian answer when nothing in its language matches.
The other versions ride along as `also_in` ("also in: it, ro").

The folded entry takes the place, and the score, of its concept's best-ranked version: a
concept ranks by how well any of its translations matched. It also takes the best confidence
of its versions: a translation answers the same question, so an English query that clearly
matches the English article is answered as clearly by the Romanian one a Romanian reader sees.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Iterable


@dataclass(frozen=True)
class Folded:
    """One result after folding: the hit to show and its other versions as (locale, slug)."""

    hit: Any
    also_in: tuple[tuple[str, str], ...] = ()


def _with_best(hit: Any, members: list[Any]) -> Any:
    """The hit carrying its concept's best score and confidence (frozen dataclasses are
    copied, not mutated)."""
    changes = {"score": members[0].score}
    if hasattr(hit, "confidence"):
        changes["confidence"] = max(getattr(m, "confidence", 0.0) for m in members)
    changes = {k: v for k, v in changes.items() if getattr(hit, k, v) != v}
    if changes and dataclasses.is_dataclass(hit):
        return dataclasses.replace(hit, **changes)
    return hit


def fold_hits(hits: Iterable[Any], locale: str | None = None) -> list[Folded]:
    """Folds ranked hits (objects with slug, locale, concept, score) into one per concept."""
    groups: dict[str, list[Any]] = {}
    order: list[str] = []
    for hit in hits:
        # an article without a concept is its own group: nothing to fold it with
        key = f"concept:{hit.concept}" if getattr(hit, "concept", "") else f"slug:{hit.slug}"
        if key not in groups:
            groups[key] = []
            order.append(key)
        if all(h.slug != hit.slug for h in groups[key]):   # the same slug twice is one article
            groups[key].append(hit)
    folded = []
    for key in order:
        members = groups[key]            # in rank order: members[0] is the best version
        shown = next((h for h in members if locale and h.locale == locale), members[0])
        others = tuple((h.locale, h.slug) for h in members if h is not shown)
        folded.append(Folded(_with_best(shown, members), others))
    return folded


# the short name callers reach for
fold = fold_hits
