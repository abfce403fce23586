"""Articles that may answer a ticket while it is being written (the contact form's suggestions).

The same search as /api/search (SearchService, the configured mode) runs on the subject, and on
the subject followed by the body once the body has words. Customers write a vague subject
("Help") with the details below it, or a precise subject over a body of greetings; keeping,
for each article, the better confidence of the two searches holds up in both cases, where the
subject alone misses the first and subject + body is diluted by the second
(bench/contact_protocol.py; docs/search-suggestions.md has the figures).

Nothing is shown unless the search believes it has an answer (`answered`, the search page's
operating point) or its best article's confidence reaches MAY_ANSWER; after the first, only
articles whose confidence reaches SHOWN_FLOOR. The search page's point is set to refuse most
near misses; here a customer is about to write to a person, and an article with a fair chance of
answering is worth a glance, while gibberish and everyday questions still get nothing
(bench/contact_protocol.py; chosen on the tuning splits, docs/search-suggestions.md).
"""
from __future__ import annotations

import html
from dataclasses import dataclass, replace

MAX_SUGGESTIONS = 5
FETCH = 10                 # results looked at per search, before the confidence cut
MAY_ANSWER = 0.3           # best confidence that makes a search count although it did not answer
SHOWN_FLOOR = 0.1          # confidence a result after the first needs to be shown
BODY_MIN_WORDS = 2         # a body shorter than this adds nothing to search on


@dataclass(frozen=True)
class Suggestions:
    """What the contact form shows: whether anything may answer, and those articles."""

    answered: bool
    rows: tuple = ()


def _cut(text: str, limit: int) -> str:
    """text cut to `limit` characters at a word boundary."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    return head.rsplit(" ", 1)[0] or head


def queries(subject: str, body: str, limit: int) -> list[str]:
    """The searches a subject and a body make: the subject, then subject + body when the body
    has words (both cut to what search reads)."""
    subject = " ".join((subject or "").split())
    if not subject:
        return []
    found = [_cut(subject, limit)]
    body = " ".join((body or "").split())
    if len(body.split()) >= BODY_MIN_WORDS:
        found.append(_cut(f"{subject} {body}", limit))
    return found


def suggest(service, subject: str, body: str = "", locale: str | None = None,
            limit: int = MAX_SUGGESTIONS) -> Suggestions:
    """Up to `limit` articles that may answer the ticket, best first, the visitor's language
    first; one entry per concept (translations folded to the `locale` version)."""
    answers = [service.search(text, None, None, None, FETCH, 1, prefer=locale)
               for text in queries(subject, body, service.query_max)]
    return select(answers, locale, limit)


def select(answers, locale: str | None = None, limit: int = MAX_SUGGESTIONS) -> Suggestions:
    """The suggestions from the Answers of one or more searches: those that answered (or
    nearly), each concept once with its best confidence, cut at the floor, the visitor's
    language first."""
    best: dict[str, object] = {}
    for answer in answers:
        if not answer.answered and max((r.confidence for r in answer.rows), default=0.0) < MAY_ANSWER:
            continue
        for row in answer.rows:
            key = f"concept:{row.concept}" if row.concept else f"slug:{row.slug}"
            if key not in best or row.confidence > best[key].confidence:
                best[key] = row
    if not best:
        return Suggestions(False)
    ranked = sorted(best.values(), key=lambda r: -r.confidence)
    floor = min(SHOWN_FLOOR, ranked[0].confidence)
    shown = [r for r in ranked if r.confidence >= floor]
    # confident articles in the visitor's language before those that exist only in another
    shown.sort(key=lambda r: bool(locale) and r.locale != locale)
    return Suggestions(True, tuple(_short(r) for r in shown[:limit]))


def _short(row):
    """The row with the snippet the form shows: the article's own summary when it has one
    (written to be read alone), else the search's excerpt (HTML-safe, matches in <mark>)."""
    if row.summary:
        return replace(row, snippet=html.escape(row.summary, quote=False))
    return row
