"""The one place where visits, deflection and the self-service ratio are computed.

Definitions (CONTRACT.md, "The self-service ratio"); a visit belongs to the UTC day it started:
- visits: every visit of a non-bot visitor, whatever its outcome;
- self_served: viewed an article, gave a positive signal (helpful or solved), opened no ticket;
- self_served_inferred: viewed an article, gave no positive and no negative signal, opened no
  ticket, and the visitor opened no ticket within 24 h after the visit (a younger visit counts
  until such a ticket turns it off);
- escalated: opened a ticket (even after voting helpful);
- tickets: tickets opened in those visits;
- excluded_visits: visits judged automated or suspicious (portal.tracking.integrity), left out
  of every figure above and counted apart, by their first reason;
- self_service_ratio = self_served / tickets; ..._with_inferred = (self_served + inferred) /
  tickets; deflection_rate = self_served / (self_served + escalated); None on a zero denominator.

classify() is the rule, applied on write to keep per-day pre-aggregates exact (portal.tracking
moves a visit between outcomes as its events arrive); outcome_columns() is the same rule in SQL,
used to recount from the visit rows (tests check that the two always agree) and to rebuild the
pre-aggregates. So a 90-day range reads 90 rows, not a million events."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, func, select

from portal.tracking.integrity import AUTOMATED, BURST, EXCLUDED_OUTCOMES, NO_COOKIE, VOTE_WITHOUT_VIEW
from portal.tracking.integrity import excluded_outcome
from portal.tracking.models import ArticleDay, DayTotals, Event, QueryDay, Visit, Vote

INFERENCE_WINDOW = timedelta(hours=24)
OUTCOMES = ("self_served", "self_served_inferred", "escalated", "other")

GRAINS = ("day", "week", "month")

DEFINITIONS = {
    "visits": "One visitor's activity with no gap over 30 minutes, not counting the excluded visits. "
              "A visit belongs to the UTC day it started.",
    "excluded_visits": "Visits left out of every other figure: scripted clients (crawlers, HTTP libraries, "
                       "headless browsers), clients that never sent the visitor cookie back, bursts of visits "
                       "from one address, and votes on an article the visitor had not read.",
    "self_served": "Visits that read at least one article, said it helped or solved the problem, "
                   "and opened no ticket.",
    "self_served_inferred": "Visits that read at least one article, gave no vote either way and "
                            "opened no ticket, with no ticket from the same visitor in the next 24 hours. "
                            "Visits younger than 24 hours count until such a ticket arrives.",
    "escalated": "Visits in which a ticket was opened (even after a helpful vote).",
    "tickets": "Tickets opened in those visits.",
    "self_service_ratio": "Self-served visits per ticket: self_served / tickets.",
    "self_service_ratio_with_inferred": "(self_served + self_served_inferred) / tickets.",
    "deflection_rate": "Share of decided visits that ended without a ticket: "
                       "self_served / (self_served + escalated).",
    "searches": "Searches run in the range.",
    "no_result": "Searches that found nothing.",
    "no_click": "Searches with results where no result was opened in the same visit.",
    "ctr": "Click-through rate: searches followed by a result click / searches.",
    "helpful_pct": "Share of 'Yes' among the standing 'Was this helpful?' votes.",
    "before_ticket": "Escalated visits whose last article read before the ticket was this one.",
    "answer_article": "Self-served visits credited to the article of their latest positive vote.",
}


def ratio(numerator, denominator):
    """Return numerator / denominator, or None when the denominator is zero."""
    return numerator / denominator if denominator else None


@dataclass
class Counts:
    """Visit outcome counts for a day or a range."""

    visits: int = 0
    self_served: int = 0
    self_served_inferred: int = 0
    escalated: int = 0
    tickets: int = 0
    inferred_pending: int = 0  # inferred visits still inside their 24-hour window
    excluded_automated: int = 0  # left out, by first reason (portal.tracking.integrity)
    excluded_burst: int = 0
    excluded_vote_without_view: int = 0
    excluded_no_cookie: int = 0

    @property
    def excluded_visits(self):
        """Visits left out of every other figure."""
        return sum(getattr(self, name) for name in EXCLUDED_OUTCOMES)

    def add(self, other: "Counts") -> "Counts":
        """Add another set of counts into this one and return self."""
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        return self


@dataclass
class SelfService:
    """The self-service figures of one date range (inclusive, UTC)."""

    start: date
    end: date
    counts: Counts = field(default_factory=Counts)

    @property
    def self_service_ratio(self):
        """self_served / tickets, or None."""
        return ratio(self.counts.self_served, self.counts.tickets)

    @property
    def self_service_ratio_with_inferred(self):
        """(self_served + self_served_inferred) / tickets, or None."""
        return ratio(self.counts.self_served + self.counts.self_served_inferred, self.counts.tickets)

    @property
    def deflection_rate(self):
        """self_served / (self_served + escalated), or None."""
        return ratio(self.counts.self_served, self.counts.self_served + self.counts.escalated)

    def as_dict(self):
        """Return the contract's JSON shape (plus inferred_pending)."""
        c = self.counts
        return {
            "from": self.start.isoformat(), "to": self.end.isoformat(),
            "visits": c.visits, "self_served": c.self_served,
            "self_served_inferred": c.self_served_inferred, "escalated": c.escalated,
            "tickets": c.tickets, "self_service_ratio": self.self_service_ratio,
            "self_service_ratio_with_inferred": self.self_service_ratio_with_inferred,
            "deflection_rate": self.deflection_rate, "self_served_inferred_pending": c.inferred_pending,
            "excluded_visits": c.excluded_visits,
            "excluded_by_reason": {name[len("excluded_"):]: getattr(c, name) for name in EXCLUDED_OUTCOMES},
        }


def _bounds(start: date, end: date):
    """Return [start 00:00, end+1 00:00) as naive UTC datetimes."""
    return datetime.combine(start, datetime.min.time()), datetime.combine(end + timedelta(days=1), datetime.min.time())


def classify(views: int, positive: int, negative: int, tickets: int, ticket_after: bool, flags: int = 0) -> str:
    """Return a visit's outcome: self_served, self_served_inferred, escalated, other, or
    excluded_<reason> for a visit left out of the figures."""
    if flags:
        return excluded_outcome(flags)
    if tickets > 0:
        return "escalated"  # even after a helpful vote
    if views > 0 and positive > 0:
        return "self_served"
    if views > 0 and negative == 0 and not ticket_after:
        return "self_served_inferred"  # until a ticket within 24 h sets ticket_after
    return "other"


def _bit(flag):
    return Visit.flags.op("&")(flag) != 0


def _outcome_columns(now: datetime):
    """The same rule as classify(), as SQL aggregates over visit rows (for recounts), in the
    order of Counts' fields."""
    counts = Visit.flags == 0
    no_ticket = Visit.tickets == 0
    self_served = and_(counts, Visit.views > 0, Visit.positive > 0, no_ticket)
    inferred = and_(counts, Visit.views > 0, Visit.positive == 0, Visit.negative == 0, no_ticket,
                    Visit.ticket_after.is_(False))
    pending = and_(inferred, Visit.last_at > now - INFERENCE_WINDOW)
    one = lambda cond: func.coalesce(func.sum(case((cond, 1), else_=0)), 0)  # noqa: E731
    # Each left-out visit under its first reason, in the order of integrity.REASONS.
    reasons = [_bit(AUTOMATED), and_(~_bit(AUTOMATED), _bit(BURST)),
               and_(~_bit(AUTOMATED), ~_bit(BURST), _bit(VOTE_WITHOUT_VIEW)),
               and_(~_bit(AUTOMATED), ~_bit(BURST), ~_bit(VOTE_WITHOUT_VIEW), _bit(NO_COOKIE))]
    return [one(counts), one(self_served), one(inferred), one(and_(counts, Visit.tickets > 0)),
            func.coalesce(func.sum(case((counts, Visit.tickets), else_=0)), 0), one(pending),
            *(one(reason) for reason in reasons)]


def _pending_by_day(session, start: date, end: date, now: datetime) -> dict[date, int]:
    """Return {day: inferred visits still inside their 24-hour window}, read live from visits.

    Only visits that started in the last two days are looked at: a visit lasting longer than
    a day without a 30-minute pause is not a person."""
    first = max(start, (now - INFERENCE_WINDOW).date() - timedelta(days=1))
    if first > end:
        return {}
    inferred = and_(Visit.flags == 0, Visit.views > 0, Visit.positive == 0, Visit.negative == 0,
                    Visit.tickets == 0, Visit.ticket_after.is_(False), Visit.last_at > now - INFERENCE_WINDOW)
    rows = session.execute(select(Visit.day, func.count()).where(Visit.day >= first, Visit.day <= end, inferred)
                           .group_by(Visit.day)).all()
    return {_as_date(day): int(n) for day, n in rows}


def daily_counts(session, start: date, end: date, now: datetime) -> dict[date, Counts]:
    """Return {day: Counts} for the days in [start, end] that have visits (pre-aggregates)."""
    rows = session.execute(select(DayTotals).where(DayTotals.day >= start, DayTotals.day <= end)).scalars()
    out = {_as_date(r.day): Counts(r.visits, r.self_served, r.self_served_inferred, r.escalated, r.tickets,
                                   **{name: getattr(r, name) or 0 for name in EXCLUDED_OUTCOMES})
           for r in rows}
    for day, n in _pending_by_day(session, start, end, now).items():
        out.setdefault(day, Counts()).inferred_pending = n
    return out


def recount_daily(session, start: date, end: date, now: datetime) -> dict[date, Counts]:
    """Return {day: Counts} recounted from the visit rows (slow; checks the pre-aggregates)."""
    rows = session.execute(select(Visit.day, *_outcome_columns(now))
                           .where(Visit.day >= start, Visit.day <= end).group_by(Visit.day))
    return {_as_date(day): Counts(*map(int, values)) for day, *values in rows}


def _as_date(value):
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def self_service(session, start: date, end: date, now: datetime) -> SelfService:
    """Return the self-service figures of [start, end]."""
    out = SelfService(start, end)
    for counts in daily_counts(session, start, end, now).values():
        out.counts.add(counts)
    return out


def bucket_start(day: date, grain: str) -> date:
    """Return the first day of the day/week (ISO, Monday)/month bucket holding this day."""
    if grain == "day":
        return day
    if grain == "week":
        return day - timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    raise ValueError(f"grain must be one of {', '.join(GRAINS)}")


def _bucket_end(first: date, grain: str) -> date:
    if grain == "day":
        return first
    if grain == "week":
        return first + timedelta(days=6)
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


def total(items: list[SelfService]) -> SelfService:
    """Return the sum of consecutive buckets as one SelfService."""
    out = SelfService(items[0].start, items[-1].end)
    for item in items:
        out.counts.add(item.counts)
    return out


def series(session, start: date, end: date, grain: str, now: datetime) -> list[SelfService]:
    """Return one SelfService per day, week or month of [start, end], empty buckets included.

    The first and last buckets are clipped to the range, so they add up to the range total."""
    per_day = daily_counts(session, start, end, now)
    buckets, day = [], start
    while day <= end:
        first = bucket_start(day, grain)
        last = min(_bucket_end(first, grain), end)
        item = SelfService(day, last)
        for d, counts in per_day.items():
            if day <= d <= last:
                item.counts.add(counts)
        buckets.append(item)
        day = last + timedelta(days=1)
    return buckets


def previous_period(start: date, end: date) -> tuple[date, date]:
    """Return the range of the same length just before [start, end]."""
    length = (end - start).days + 1
    return start - timedelta(days=length), start - timedelta(days=1)


def change(current, previous):
    """Return current - previous, or None when either is None."""
    if current is None or previous is None:
        return None
    return current - previous


# --- searches ------------------------------------------------------------------------------

@dataclass
class QueryRow:
    """One normalized query's figures."""

    query: str
    searches: int
    no_result: int
    clicked: int

    @property
    def ctr(self):
        """Clicked searches / searches."""
        return ratio(self.clicked, self.searches)

    @property
    def no_click(self):
        """Searches with results and no click."""
        return self.searches - self.no_result - self.clicked


@dataclass
class SearchReport:
    """Searches of a range: totals and the query tables."""

    searches: int = 0
    no_result: int = 0
    clicked: int = 0
    no_click: int = 0
    top: list[QueryRow] = field(default_factory=list)
    no_result_queries: list[QueryRow] = field(default_factory=list)
    no_click_queries: list[QueryRow] = field(default_factory=list)

    @property
    def ctr(self):
        """Clicked searches / searches, or None."""
        return ratio(self.clicked, self.searches)

    def as_dict(self):
        """Return the totals as JSON-ready values."""
        return {"searches": self.searches, "no_result": self.no_result, "no_click": self.no_click,
                "clicked": self.clicked, "ctr": self.ctr}


def search_report(session, start: date, end: date, limit: int = 20) -> SearchReport:
    """Return searches, no-result and no-click searches, CTR and the top query tables."""
    rows = session.execute(
        select(QueryDay.query_norm, func.sum(QueryDay.searches), func.sum(QueryDay.no_result),
               func.sum(QueryDay.clicked))
        .where(QueryDay.day >= start, QueryDay.day <= end).group_by(QueryDay.query_norm)).all()
    report = SearchReport()
    queries = []
    for query, n, zero, hits in rows:
        row = QueryRow(query or "", int(n or 0), int(zero or 0), int(hits or 0))
        report.searches += row.searches
        report.no_result += row.no_result
        report.clicked += row.clicked
        report.no_click += row.no_click
        if query:
            queries.append(row)
    by = lambda key: sorted((q for q in queries if key(q)), key=lambda q: (-key(q), q.query))[:limit]  # noqa: E731
    report.top = by(lambda q: q.searches)
    report.no_result_queries = by(lambda q: q.no_result)
    report.no_click_queries = by(lambda q: q.no_click)
    return report


# --- articles ------------------------------------------------------------------------------

def _visit_range(start, end):
    return and_(Visit.day >= start, Visit.day <= end)


def top_self_served_articles(session, start: date, end: date, limit: int = 20) -> list[tuple[str, int]]:
    """Return [(slug, self-served visits it answered)], most first.

    A self-served visit is credited to the article of its latest positive vote."""
    return _article_ranking(session, ArticleDay.answered, start, end, limit)


def articles_before_ticket(session, start: date, end: date, limit: int = 20) -> list[tuple[str, int]]:
    """Return [(slug, escalated visits whose last article read before the ticket was it)]."""
    return _article_ranking(session, ArticleDay.failed, start, end, limit)


def _article_ranking(session, column, start, end, limit):
    n = func.sum(column)
    rows = session.execute(select(ArticleDay.article, n)
                           .where(ArticleDay.day >= start, ArticleDay.day <= end)
                           .group_by(ArticleDay.article).having(n > 0)
                           .order_by(n.desc(), ArticleDay.article).limit(limit)).all()
    return [(slug, int(count)) for slug, count in rows]


@dataclass
class ArticleVotes:
    """Standing votes on one article."""

    article: str
    yes: int
    no: int

    @property
    def helpful_pct(self):
        """Share of Yes among Yes and No, or None."""
        return ratio(self.yes, self.yes + self.no)


def helpful_by_article(session, start: date, end: date) -> dict[str, ArticleVotes]:
    """Return {slug: ArticleVotes} for the votes last cast in the range."""
    lo, hi = _bounds(start, end)
    rows = session.execute(
        select(Vote.article, func.sum(case((Vote.helpful.is_(True), 1), else_=0)),
               func.sum(case((Vote.helpful.is_(False), 1), else_=0)))
        .join(Visit, Visit.id == Vote.visit_id)
        .where(Vote.updated_at >= lo, Vote.updated_at < hi, Vote.helpful.is_not(None), Visit.flags == 0)
        .group_by(Vote.article)).all()
    return {slug: ArticleVotes(slug, int(yes or 0), int(no or 0)) for slug, yes, no in rows}


@dataclass
class FailingArticle:
    """An article readers left for a ticket, with its votes."""

    article: str
    before_ticket: int
    votes: ArticleVotes


def failing_articles(session, start: date, end: date, limit: int = 20, votes=None) -> list[FailingArticle]:
    """Return the articles most often read just before a ticket, with their helpful votes."""
    votes = helpful_by_article(session, start, end) if votes is None else votes
    return [FailingArticle(slug, n, votes.get(slug, ArticleVotes(slug, 0, 0)))
            for slug, n in articles_before_ticket(session, start, end, limit)]


# --- content gaps --------------------------------------------------------------------------

@dataclass
class GapQuery:
    """A query customers did not get an answer to, with how often and why."""

    query: str
    count: int
    sources: set[str] = field(default_factory=set)  # "no_result", "no_click", "escalated"


def gap_queries(session, start: date, end: date, limit: int = 500) -> list[GapQuery]:
    """Return failed searches (no result or no click) and the queries of escalated visits."""
    found: dict[str, GapQuery] = {}

    def add(query, count, source):
        if not query:
            return
        item = found.setdefault(query, GapQuery(query, 0))
        item.count += int(count)
        item.sources.add(source)

    failed = session.execute(
        select(QueryDay.query_norm, func.sum(QueryDay.searches), func.sum(QueryDay.no_result),
               func.sum(QueryDay.clicked))
        .where(QueryDay.day >= start, QueryDay.day <= end).group_by(QueryDay.query_norm)).all()
    for query, n, zero, clicked in failed:
        row = QueryRow(query, int(n or 0), int(zero or 0), int(clicked or 0))
        if row.no_result:
            add(query, row.no_result, "no_result")
        if row.no_click:
            add(query, row.no_click, "no_click")
    escalated = session.execute(
        select(Event.query_norm, func.count()).join(Visit, Visit.id == Event.visit_id)
        .where(_visit_range(start, end), Visit.tickets > 0, Visit.flags == 0,
               Event.kind.in_(("search", "ticket_opened", "escalation_started")),
               Event.query_norm.is_not(None))
        .group_by(Event.query_norm)).all()
    for query, n in escalated:
        add(query, n, "escalated")
    return sorted(found.values(), key=lambda g: (-g.count, g.query))[:limit]


def visits_by_visitor(session, visitor_id: str):
    """Return a visitor's visits, oldest first (for support and tests)."""
    return session.scalars(select(Visit).where(Visit.visitor_id == visitor_id).order_by(Visit.seq)).all()


# --- ranges --------------------------------------------------------------------------------

MAX_RANGE_DAYS = 3660
# Dates a range may name: the previous period and the day after the end must exist too
# (0001-01-01 and 9999-12-31 overflowed Python's dates).
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(2999, 12, 31)


class RangeError(ValueError):
    """A bad date range, with the field at fault."""

    def __init__(self, field_name, message):
        super().__init__(message)
        self.field = field_name


def _parse_day(name, raw):
    text = raw.strip()
    try:
        day = date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        day = None
    if day is None:
        raise RangeError(name, "expected a date as YYYY-MM-DD")
    if not FIRST_DAY <= day <= LAST_DAY:
        raise RangeError(name, f"expected a date between {FIRST_DAY} and {LAST_DAY}")
    return day


def parse_range(raw_from: str | None, raw_to: str | None, today: date, default_days: int = 30):
    """Return (start, end) from YYYY-MM-DD strings; missing ends default to the last N days."""
    end = _parse_day("to", raw_to) if raw_to else today
    start = _parse_day("from", raw_from) if raw_from else end - timedelta(days=default_days - 1)
    if start > end:
        raise RangeError("to", "must not be before 'from'")
    if (end - start).days >= MAX_RANGE_DAYS:
        raise RangeError("from", f"the range may span at most {MAX_RANGE_DAYS} days")
    return start, end


def default_grain(start: date, end: date) -> str:
    """Pick a readable chart grain for the range: days up to 2 months, then weeks, then months."""
    days = (end - start).days + 1
    return "day" if days <= 62 else "week" if days <= 366 else "month"
