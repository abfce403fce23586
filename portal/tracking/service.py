"""Recording a visit's events: plain values in, rows out. No request objects here.

Each event is assigned to its visit on write and the visit's summary row is updated in the
same transaction, so the metrics never have to rebuild visits from a million events."""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import case, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from portal.tracking.models import KINDS, ArticleDay, BotHit, DayTotals, Event, QueryDay, Visit, Vote

VISIT_GAP = timedelta(minutes=30)
INFERENCE_WINDOW = timedelta(hours=24)  # also read by portal.metrics
QUERY_MAX = 200
REASON_MAX = 500
_RETRIES = 3


@dataclass(frozen=True)
class EventData:
    """One event as the portal reports it; every field but kind is optional."""

    kind: str
    locale: str | None = None
    query: str | None = None
    mode: str | None = None
    results: int | None = None
    article: str | None = None
    position: int | None = None
    helpful: bool | None = None
    solved: bool | None = None
    reason: str | None = None
    ticket_ref: str | None = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown event kind {self.kind!r}; expected one of {', '.join(KINDS)}")
        if self.kind in ("click", "view", "feedback") and not self.article:
            raise ValueError(f"a {self.kind} event needs an article")


FIELD_NAMES = frozenset(f.name for f in fields(EventData)) - {"kind"}


@dataclass
class VisitContext:
    """What a visit already tried, for a ticket's "already tried" section."""

    visit_id: int
    started_at: datetime
    locale: str | None
    queries: list[str] = field(default_factory=list)
    articles: list[str] = field(default_factory=list)
    votes: list[dict] = field(default_factory=list)

    def as_dict(self):
        """Return the context as JSON-ready values."""
        out = asdict(self)
        out["started_at"] = self.started_at.isoformat() + "Z"
        return out


def naive_utc(moment: datetime) -> datetime:
    """Return the moment as a naive UTC datetime (how the tracking tables store time)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment


def normalize_query(text: str | None) -> str | None:
    """Fold a query for grouping: lower case, single spaces, trimmed."""
    if not text:
        return None
    folded = re.sub(r"\s+", " ", text).strip().casefold()[:QUERY_MAX]
    return folded or None


def _clean(data: EventData) -> EventData:
    """Trim free text to the column sizes."""
    query = (data.query or "").strip()[:QUERY_MAX] or None
    reason = (data.reason or "").strip()[:REASON_MAX] or None
    return EventData(**{**asdict(data), "query": query, "reason": reason})


def record_events(session, visitor_id: str, events: list[EventData], at: datetime) -> int:
    """Record events of one visitor at one moment, in one transaction; return the visit id."""
    at = naive_utc(at)
    events = [_clean(e) for e in events]
    for attempt in range(_RETRIES):
        try:
            visit_id, before = _visit_for(session, visitor_id, at, events[0].locale)
            for data in events:
                _apply(session, visitor_id, visit_id, data, at)
            _roll(session, before, _state(session, visit_id))
            session.commit()
            return visit_id
        except IntegrityError:
            # Another request opened the same visit or cast the same vote first: start over,
            # and this time find its row.
            session.rollback()
            if attempt == _RETRIES - 1:
                raise
    raise AssertionError("unreachable")


def record_bot_hit(session, user_agent: str, data: EventData, at: datetime) -> None:
    """Keep a bot's request apart from the visits."""
    session.add(BotHit(ts=naive_utc(at), kind=data.kind, user_agent=(user_agent or "")[:300],
                       article=data.article, query=(data.query or "")[:QUERY_MAX] or None))
    session.commit()


def current_visit(session, visitor_id: str, at: datetime) -> Visit | None:
    """Return the visitor's visit still open at this moment (last activity ≤ 30 minutes ago)."""
    at = naive_utc(at)
    visit = session.scalar(select(Visit).where(Visit.visitor_id == visitor_id)
                           .order_by(Visit.seq.desc()).limit(1))
    if visit is None or at - visit.last_at > VISIT_GAP:
        return None
    return visit


@dataclass(frozen=True)
class VisitState:
    """The columns of a visit that decide its outcome and its articles."""

    day: date
    views: int
    positive: int
    negative: int
    tickets: int
    ticket_after: bool
    answer_article: str | None
    ticket_article: str | None

    @property
    def outcome(self):
        """self_served, self_served_inferred, escalated or other (portal.metrics.classify)."""
        from portal.metrics import classify  # the rule lives with the figures; imported late (cycle)

        return classify(self.views, self.positive, self.negative, self.tickets, self.ticket_after)


_STATE = (Visit.day, Visit.views, Visit.positive, Visit.negative, Visit.tickets, Visit.ticket_after,
          Visit.answer_article, Visit.ticket_article)


def _state_of(row) -> VisitState:
    day, views, pos, neg, tickets, after, answer, failed = row
    return VisitState(day, views, pos, neg, tickets, bool(after), answer, failed)


def _state(session, visit_id) -> VisitState:
    return _state_of(session.execute(select(*_STATE).where(Visit.id == visit_id)).one())


def _bump(session, model, keys: dict, deltas: dict):
    """Add deltas to the counters of the pre-aggregate row with these keys, creating it."""
    deltas = {k: v for k, v in deltas.items() if v}
    if not deltas:
        return
    table = model.__table__
    where = [table.c[k] == v for k, v in keys.items()]
    done = session.execute(update(table).where(*where).values({k: table.c[k] + v for k, v in deltas.items()}))
    if done.rowcount == 0:
        # A concurrent first insert raises IntegrityError: record_events retries the whole event.
        session.execute(insert(table).values({**keys, **deltas}))


def _roll(session, before: VisitState | None, after: VisitState):
    """Move a visit's contribution in the day and article pre-aggregates from before to after."""
    day = after.day
    totals = Counter()
    if before is None:
        totals["visits"] += 1
    else:
        totals[before.outcome] -= 1
        totals["tickets"] -= before.tickets
    totals[after.outcome] += 1
    totals["tickets"] += after.tickets
    totals.pop("other", None)
    _bump(session, DayTotals, {"day": day}, totals)
    articles = Counter()
    for state, sign in ((before, -1), (after, 1)):
        if state is None:
            continue
        if state.outcome == "self_served" and state.answer_article:
            articles[(state.answer_article, "answered")] += sign
        if state.outcome == "escalated" and state.ticket_article:
            articles[(state.ticket_article, "failed")] += sign
    for (article, column), delta in articles.items():
        _bump(session, ArticleDay, {"day": day, "article": article}, {column: delta})


def _visit_for(session, visitor_id, at, locale):
    """Return (visit id, its state before this event or None when new), opening one after a gap."""
    last = session.execute(select(Visit.id, Visit.seq, Visit.last_at).where(Visit.visitor_id == visitor_id)
                           .order_by(Visit.seq.desc()).limit(1)).first()
    if last is not None and at - last.last_at <= VISIT_GAP:
        # Write first, read after: the update takes the lock (the database's on SQLite, the row's
        # elsewhere), so the state read next cannot change under us before we commit.
        session.execute(update(Visit).where(Visit.id == last.id).values(
            last_at=case((Visit.last_at < at, at), else_=Visit.last_at)))
        return last.id, _state(session, last.id)
    visit = Visit(visitor_id=visitor_id, seq=(last.seq + 1) if last else 1, started_at=at, last_at=at,
                  day=at.date(), locale=locale, searches=0, views=0, clicks=0, positive=0,
                  negative=0, escalations=0, tickets=0, ticket_after=False)
    session.add(visit)
    session.flush()
    return visit.id, None


_COUNTERS = {"search": "searches", "view": "views", "click": "clicks",
             "escalation_started": "escalations", "ticket_opened": "tickets"}


def _apply(session, visitor_id, visit_id, data, at):
    """Store one event and fold it into its visit's summary."""
    norm = normalize_query(data.query)
    session.add(Event(ts=at, visit_id=visit_id, kind=data.kind, locale=data.locale, query=data.query,
                      query_norm=norm, mode=data.mode, results=data.results, article=data.article,
                      position=data.position, helpful=data.helpful, solved=data.solved,
                      reason=data.reason, ticket_ref=data.ticket_ref, clicked=False))
    counter = _COUNTERS.get(data.kind)
    if counter:
        column = getattr(Visit, counter)
        session.execute(update(Visit).where(Visit.id == visit_id).values({counter: column + 1}))
    if data.kind == "search":
        _bump(session, QueryDay, {"day": at.date(), "query_norm": norm or ""},
              {"searches": 1, "no_result": int(data.results == 0)})
    elif data.kind == "click" and norm:
        _click(session, visit_id, norm)
    elif data.kind == "feedback":
        _vote(session, visitor_id, visit_id, data, at)
    elif data.kind == "ticket_opened":
        _ticket(session, visitor_id, visit_id, at)


def _click(session, visit_id, norm):
    """Mark the visit's earlier searches for this query as clicked, in the events and per day."""
    # A search that found nothing has no results to click (a link to a related article is not one).
    searches = session.execute(select(Event.id, Event.ts).where(
        Event.visit_id == visit_id, Event.kind == "search", Event.query_norm == norm,
        Event.clicked.is_(False), or_(Event.results.is_(None), Event.results != 0))).all()
    if not searches:
        return
    session.execute(update(Event).where(Event.id.in_([i for i, _ in searches])).values(clicked=True))
    for day, n in Counter(ts.date() for _, ts in searches).items():
        _bump(session, QueryDay, {"day": day, "query_norm": norm}, {"clicked": n})


def _signals(helpful, solved):
    """Return (positive, negative) for a vote."""
    return (helpful is True or solved is True), (helpful is False or solved is False)


def _vote(session, visitor_id, visit_id, data, at):
    """Replace the visitor's vote on the article and keep the visit's signal counts exact.

    A visit's signal on an article is its latest vote there: a vote cast again in the same
    visit replaces the earlier one; a vote in a later visit leaves the earlier visit's
    history alone (that visit did say what it said)."""
    vote = session.scalar(select(Vote).where(Vote.visitor_id == visitor_id, Vote.article == data.article))
    helpful, solved, reason = data.helpful, data.solved, data.reason
    if helpful is None and solved is None:
        # A reason sent after the vote: it explains the standing vote and changes no signal.
        if vote is not None and reason:
            vote.reason = reason
            session.flush()
        return
    old_pos = old_neg = False
    if vote is not None and vote.visit_id == visit_id:
        old_pos, old_neg = _signals(vote.helpful, vote.solved)
        helpful = vote.helpful if helpful is None else helpful
        solved = vote.solved if solved is None else solved
        reason = reason or (vote.reason if helpful is False else None)
    new_pos, new_neg = _signals(helpful, solved)
    if (new_pos, new_neg) != (old_pos, old_neg):
        session.execute(update(Visit).where(Visit.id == visit_id).values(
            positive=Visit.positive + (int(new_pos) - int(old_pos)),
            negative=Visit.negative + (int(new_neg) - int(old_neg))))
    if new_pos:
        session.execute(update(Visit).where(Visit.id == visit_id).values(answer_article=data.article))
    elif old_pos:
        # The positive vote was taken back: the answer is the visit's latest other positive vote.
        other = session.scalar(
            select(Vote.article).where(Vote.visit_id == visit_id, Vote.article != data.article,
                                       (Vote.helpful.is_(True)) | (Vote.solved.is_(True)))
            .order_by(Vote.updated_at.desc(), Vote.id.desc()).limit(1))
        session.execute(update(Visit).where(Visit.id == visit_id).values(answer_article=other))
    query = data.query or (vote.query if vote is not None and vote.visit_id == visit_id else None)
    if vote is None:
        vote = Vote(visitor_id=visitor_id, article=data.article)
        session.add(vote)
    vote.visit_id, vote.helpful, vote.solved, vote.reason = visit_id, helpful, solved, reason
    vote.query = query
    vote.updated_at = at
    session.flush()


def _ticket(session, visitor_id, visit_id, at):
    """Mark the visit escalated and turn off inference for the visitor's visits of the last 24 h."""
    last_read = (select(Event.article).where(Event.visit_id == visit_id, Event.kind == "view")
                 .order_by(Event.ts.desc(), Event.id.desc()).limit(1).scalar_subquery())
    session.execute(update(Visit).where(Visit.id == visit_id, Visit.first_ticket_at.is_(None))
                    .values(first_ticket_at=at, ticket_article=last_read))
    window = (Visit.visitor_id == visitor_id, Visit.id != visit_id, Visit.last_at < at,
              Visit.last_at >= at - INFERENCE_WINDOW, Visit.ticket_after.is_(False))
    earlier = session.execute(select(Visit.id, *_STATE).where(*window).with_for_update()).all()
    if earlier:
        session.execute(update(Visit).where(Visit.id.in_([row[0] for row in earlier])).values(ticket_after=True))
        for row in earlier:
            state = _state_of(row[1:])
            _roll(session, state, replace(state, ticket_after=True))


def visit_context(session, visitor_id: str, at: datetime) -> VisitContext | None:
    """Return what the visitor's current visit searched, read and voted, or None."""
    visit = current_visit(session, visitor_id, at)
    if visit is None:
        return None
    rows = session.execute(select(Event.kind, Event.query, Event.article)
                           .where(Event.visit_id == visit.id).order_by(Event.ts, Event.id)).all()
    queries, articles = [], []
    for kind, query, article in rows:
        if kind == "search" and query and query not in queries:
            queries.append(query)
        elif kind == "view" and article not in articles:
            articles.append(article)
    votes = session.scalars(select(Vote).where(Vote.visit_id == visit.id).order_by(Vote.updated_at)).all()
    return VisitContext(
        visit_id=visit.id, started_at=visit.started_at, locale=visit.locale, queries=queries,
        articles=articles,
        votes=[{"article": v.article, "helpful": v.helpful, "solved": v.solved, "reason": v.reason}
               for v in votes],
    )


def rebuild_aggregates(session) -> None:
    """Recompute the day, article and query pre-aggregates from the visits and events.

    For bulk loads and repairs; normal recording keeps them exact one event at a time."""
    days, articles, queries = {}, Counter(), {}
    for row in session.execute(select(*_STATE)).yield_per(20_000):
        state = _state_of(row)
        totals = days.setdefault(state.day, Counter())
        totals["visits"] += 1
        totals[state.outcome] += 1
        totals["tickets"] += state.tickets
        if state.outcome == "self_served" and state.answer_article:
            articles[(state.day, state.answer_article, "answered")] += 1
        if state.outcome == "escalated" and state.ticket_article:
            articles[(state.day, state.ticket_article, "failed")] += 1
    searches = select(Event.ts, Event.query_norm, Event.results, Event.clicked).where(Event.kind == "search")
    for ts, norm, results, clicked in session.execute(searches).yield_per(20_000):
        counts = queries.setdefault((ts.date(), norm or ""), Counter())
        counts["searches"] += 1
        counts["no_result"] += int(results == 0)
        counts["clicked"] += int(bool(clicked))
    for model in (DayTotals, ArticleDay, QueryDay):
        session.execute(model.__table__.delete())
    columns = ("visits", "self_served", "self_served_inferred", "escalated", "tickets")
    rows = [{"day": d, **{c: t[c] for c in columns}} for d, t in days.items()]
    if rows:
        session.execute(insert(DayTotals.__table__), rows)
    merged = {}
    for (day, article, column), n in articles.items():
        merged.setdefault((day, article), {"day": day, "article": article, "answered": 0, "failed": 0})[column] = n
    if merged:
        session.execute(insert(ArticleDay.__table__), list(merged.values()))
    rows = [{"day": d, "query_norm": q, "searches": c["searches"], "no_result": c["no_result"],
             "clicked": c["clicked"]} for (d, q), c in queries.items()]
    if rows:
        session.execute(insert(QueryDay.__table__), rows)
    session.commit()
