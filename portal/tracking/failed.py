"""Failed queries: the searches of a period that the knowledge base failed, per normalized query.

A search failed when the portal found no answer for it (answered false, or no results; searches
recorded before answers were judged count only when they found nothing), or when the same visit
went on to open a ticket or to vote an article not helpful (helpful or solved false) after it.
Only the searches of visits that count do (portal.tracking.integrity: no scripts, no bursts).
A search with results that nobody clicked did not fail on that alone: the snippet may have been
the answer, or the customer may have left for any reason."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import aliased

from portal.tracking.models import Event, Visit

SOURCES = ("no_answer", "ticket", "not_helpful")


@dataclass
class FailedQuery:
    """A normalized query with its failed searches of the period and why they failed."""

    query: str  # normalized (lower case, single spaces): what the reports group by
    text: str  # one of the texts customers typed for it: what search embedded
    searches: int
    sources: set[str] = field(default_factory=set)


def _last(kind_filter, lo):
    """Per visit, the time of its last event matching kind_filter at or after lo."""
    later = aliased(Event)
    return (select(later.visit_id.label("visit_id"), func.max(later.ts).label("at"))
            .where(kind_filter(later), later.ts >= lo).group_by(later.visit_id).subquery())


def failed_queries(session, start: date, end: date) -> list[FailedQuery]:
    """Every failed query of [start, end] (UTC days of the searches), most searched first."""
    lo = datetime.combine(start, datetime.min.time())
    hi = datetime.combine(end + timedelta(days=1), datetime.min.time())
    tickets = _last(lambda e: e.kind == "ticket_opened", lo)
    negative = _last(lambda e: and_(e.kind == "feedback", or_(e.helpful.is_(False), e.solved.is_(False))), lo)
    no_answer = or_(Event.answered.is_(False), Event.results == 0)
    ticket_after, negative_after = Event.ts <= tickets.c.at, Event.ts <= negative.c.at
    count = lambda condition: func.sum(case((condition, 1), else_=0))  # noqa: E731
    rows = session.execute(
        select(Event.query_norm, func.min(Event.query), func.count(), count(no_answer), count(ticket_after),
               count(negative_after))
        .join(Visit, Visit.id == Event.visit_id)
        .outerjoin(tickets, tickets.c.visit_id == Event.visit_id)
        .outerjoin(negative, negative.c.visit_id == Event.visit_id)
        .where(Event.kind == "search", Event.ts >= lo, Event.ts < hi, Event.query_norm.is_not(None),
               Event.query_norm != "", Visit.flags == 0, or_(no_answer, ticket_after, negative_after))
        .group_by(Event.query_norm)).all()
    out = []
    for norm, text, n, *reasons in rows:
        sources = {name for name, k in zip(SOURCES, reasons) if k}
        out.append(FailedQuery(norm, text or norm, int(n), sources))
    return sorted(out, key=lambda q: (-q.searches, q.query))
