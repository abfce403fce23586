"""Recording a visit's events: plain values in, rows out. No request objects here.

Each event is assigned to its visit on write and the visit's summary row is updated in the
same transaction, so the metrics never have to rebuild visits from a million events."""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import asdict, dataclass, field, fields, replace
from functools import lru_cache
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import bindparam, case, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from portal.tracking import integrity
from portal.tracking.integrity import TRUSTED, BurstRule, Origin, included
from portal.tracking.models import KINDS, ArticleDay, DayTotals, Event, QueryDay, Visit, Vote

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
    answered: bool | None = None  # on a search: whether the portal believed it found the answer

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
    if query == data.query and reason == data.reason:
        return data  # the usual case; copying the event cost more than recording it
    return replace(data, query=query, reason=reason)


def record_events(session, visitor_id: str, events: list[EventData], at: datetime, origin: Origin = TRUSTED,
                  burst: BurstRule | None = None) -> int:
    """Record events of one visitor at one moment, in one transaction; return the visit id.

    origin says how far the request can be trusted and burst is the rule for addresses
    (portal.tracking.integrity); without them the events count as a trusted caller's."""
    at, events = naive_utc(at), [_clean(e) for e in events]
    return _committed(session, lambda: _write_events(session, visitor_id, events, at, origin, burst))


def add_events(session, visitor_id: str, events: list[EventData], at: datetime, origin: Origin = TRUSTED,
               burst: BurstRule | None = None) -> int:
    """Record events as record_events does, inside the caller's transaction, which commits them.

    They go in a savepoint, retried when another writer created a row first, so that such a
    race never costs the caller's own work (a ticket records its ticket_opened this way). On
    SQLite call it after the transaction's first write: pysqlite opens a transaction only at a
    write, and a savepoint outside one commits when it is released."""
    at, events = naive_utc(at), [_clean(e) for e in events]
    for attempt in range(_RETRIES):
        try:
            with session.begin_nested():
                return _write_events(session, visitor_id, events, at, origin, burst)
        except IntegrityError:
            if attempt == _RETRIES - 1:
                raise
    raise AssertionError("unreachable")


def _write_events(session, visitor_id, events, at, origin, burst):
    """One request's events: the search figures and view counters take them only while the visit
    counts (live), and take the visit's earlier events along when it starts or stops counting."""
    visit_id, before, flags = _visit_for(session, visitor_id, at, events[0].locale if events else None,
                                         origin, burst)
    counted = before is None or included(before.flags)
    if before is not None and counted != included(flags):
        integrity.move_events(session, [visit_id], 1 if included(flags) else -1, _bump)
    live = included(flags)
    for data in events:
        _apply(session, visitor_id, visit_id, data, at, live)
    after = _state(session, visit_id)
    if live and not included(after.flags):  # a vote without a view flagged it just now
        integrity.move_events(session, [visit_id], -1, _bump)
    _roll(session, before, after)
    return visit_id


def _committed(session, write):
    """Run write() and commit, starting over when another writer created a row first."""
    for attempt in range(_RETRIES):
        try:
            result = write()
            session.commit()
            return result
        except IntegrityError:
            # Another request opened the same visit, cast the same vote or bumped a query's
            # first row meanwhile: start over, and this time find its row.
            session.rollback()
            if attempt == _RETRIES - 1:
                raise
    raise AssertionError("unreachable")


# The kinds a batch may hold: they only add to a visit's counters and to the query figures,
# so a batch can fold them per visit. Votes and tickets move outcomes and stay one at a time.
BATCHED_KINDS = frozenset({"search", "click", "view"})


@dataclass(frozen=True)
class Step:
    """One request's events of one visitor at one moment, as queued for a batch; no events: the
    visitor only proved it keeps its cookie (the beacon), which confirms its visit."""

    visitor_id: str
    events: tuple[EventData, ...]
    at: datetime
    origin: Origin = TRUSTED


@dataclass
class _OpenVisit:
    """A visit as a batch leaves it: its row (id None until inserted) and what the batch adds."""

    id: int | None
    seq: int
    started_at: datetime
    last_at: datetime
    locale: str | None
    flags: int = 0  # as read before the batch
    counts: Counter = field(default_factory=Counter)
    automated: bool = False  # a step of the batch came from a scripted client
    confirmed: bool = False  # a step of the batch came with the signed cookie
    address: str | None = None

    def take(self, origin: Origin):
        """Fold in how one more step of the visit was judged."""
        self.automated |= origin.automated
        self.confirmed |= origin.confirmed
        self.address = self.address or origin.address


def record_batch(session, steps: list[Step], burst: BurstRule | None = None) -> list[int]:
    """Record steps of search, click and view events in one transaction; return each step's visit id.

    The rows and figures are those of record_events called once per step in this order, with far
    fewer statements: per visitor one visit lookup and one update, the events in one multi-row
    insert, each day and query pre-aggregate bumped once, the article view counters once."""
    steps = [Step(s.visitor_id, tuple(_clean(e) for e in s.events), naive_utc(s.at), s.origin) for s in steps]
    for step in steps:
        if any(e.kind not in BATCHED_KINDS for e in step.events):
            raise ValueError(f"a batch holds only {', '.join(sorted(BATCHED_KINDS))} events")
    return _committed(session, lambda: _write_batch(session, steps, burst))


def _open_visits(conn, steps, numbers, visitor_id, visit_of) -> list[_OpenVisit]:
    """Assign one visitor's steps to visits (the rule of _visit_for); return the visits touched."""
    last = conn.execute(_LAST_VISIT, {"visitor": visitor_id}).first()
    current = (_OpenVisit(last.id, last.seq, last.last_at, last.last_at, None, flags=last.flags)
               if last is not None else None)
    touched = []
    for n in numbers:
        step = steps[n]
        # Join the latest visit unless the gap is over 30 minutes.
        if current is None or step.at - current.last_at > VISIT_GAP:
            current = _OpenVisit(None, current.seq + 1 if current else 1, step.at, step.at,
                                 step.events[0].locale if step.events else None)
        if not touched or touched[-1] is not current:
            touched.append(current)
        current.last_at = max(current.last_at, step.at)
        current.counts.update(_COUNTERS[e.kind] for e in step.events)
        current.take(step.origin)
        visit_of[n] = current
    return touched


def _write_batch(session, steps: list[Step], burst: BurstRule | None) -> list[int]:
    conn = session.connection()
    by_visitor: dict[str, list[int]] = {}
    for n, step in enumerate(steps):
        by_visitor.setdefault(step.visitor_id, []).append(n)
    visit_of: list[_OpenVisit | None] = [None] * len(steps)
    # Whether each visit's earlier events counted in the search figures and view counters.
    counted: dict[int, bool] = {}
    new: set[int] = set()
    days, articles = {}, Counter()
    plan = [(visitor_id, visit) for visitor_id, numbers in by_visitor.items()
            for visit in _open_visits(conn, steps, numbers, visitor_id, visit_of)]
    # New visits open in time order, so that the burst rule sees what one-at-a-time recording does.
    plan.sort(key=lambda item: (item[1].id is not None, item[1].started_at))
    for visitor_id, visit in plan:
        before, after = _save_visit(session, visitor_id, visit, burst, counted)
        if before is None:
            new.add(visit.id)
        counted.setdefault(visit.id, before is None or included(before.flags))
        totals, moved = _moves(before, after)
        days.setdefault(after.day, Counter()).update(totals)
        articles.update({(after.day, article, column): d for (article, column), d in moved.items()})
    for day, totals in days.items():
        _bump(conn, DayTotals, {"day": day}, totals)
    for (day, article, column), delta in articles.items():
        _bump(conn, ArticleDay, {"day": day, "article": article}, {column: delta})
    final = dict(conn.execute(_FLAGS_OF, {"ids": list(counted)}).all()) if counted else {}
    # Visits that stopped counting take their earlier events out, before the batch's go in.
    integrity.move_events(session, [v for v, c in counted.items() if c and final[v] and v not in new], -1, _bump)
    live = {v for v, c in counted.items() if c and not final[v]}
    _insert_events(session, conn, steps, visit_of, live)
    integrity.move_events(session, [v for v, c in counted.items() if not c and not final[v]], 1, _bump)
    return [visit.id for visit in visit_of]


def _save_visit(session, visitor_id, visit: _OpenVisit, burst, counted) -> tuple[VisitState | None, VisitState]:
    """Write a batch's visit; return its state before the batch (None when new) and after."""
    conn = session.connection()
    counts = {column: n for column, n in visit.counts.items() if n}
    if visit.id is None:
        flags = Origin(visit.confirmed, visit.automated).initial_flags()
        flags |= _burst_flag(session, burst, visit.address, visit.started_at, counted)
        values = dict(visitor_id=visitor_id, seq=visit.seq, started_at=visit.started_at, last_at=visit.last_at,
                      day=visit.started_at.date(), locale=visit.locale, searches=0, views=0, clicks=0,
                      positive=0, negative=0, escalations=0, tickets=0, ticket_after=False, flags=flags,
                      address=visit.address)
        values.update(counts)
        visit.id = conn.execute(_NEW_VISIT, values).inserted_primary_key[0]
        return None, VisitState(values["day"], values["views"], 0, 0, 0, False, None, None, flags)
    old = _flags_change(conn, visit.id, visit.flags, visit.automated, visit.confirmed)
    after = _state_of(conn.execute(_ADD_TO_VISIT, {
        "visit_id": visit.id, "at": visit.last_at, "d_views": counts.get("views", 0),
        "d_searches": counts.get("searches", 0), "d_clicks": counts.get("clicks", 0)}).one())
    # Of the state's columns a batch changes only views, and flags.
    return replace(after, views=after.views - counts.get("views", 0),
                   flags=after.flags if old is None else old), after


def _flags_change(conn, visit_id, flags, automated, confirmed) -> int | None:
    """Flag an open visit automated, or clear its no_cookie flag; return the old flags, or None
    when nothing changes (the usual case, decided from the flags read before: no lock taken)."""
    add = integrity.AUTOMATED if automated and not flags & integrity.AUTOMATED else 0
    clear = integrity.NO_COOKIE if confirmed and flags & integrity.NO_COOKIE else 0
    if not add and not clear:
        return None
    return integrity.change_flags(conn, visit_id, add, clear)[0]


def _burst_flag(session, burst, address, at, counted) -> int:
    """BURST when a visit opening now from this address is part of a burst; the address's other
    visits in the window are flagged too, their figures moved (their events: by the caller)."""
    others = integrity.in_burst(session.connection(), burst, address, at)
    if others is None:
        return 0
    for visit_id in others:
        before = _state(session, visit_id)
        integrity.change_flags(session.connection(), visit_id, add=integrity.BURST)
        counted.setdefault(visit_id, included(before.flags))
        _roll(session, before, replace(before, flags=before.flags | integrity.BURST))
    return integrity.BURST


def _insert_events(session, conn, steps, visit_of, live) -> None:
    """Insert the batch's events in order; fold the searches, clicks and views of visits that
    count (live) into the query figures and the article view counters."""
    from portal.kb import add_views

    rows, queries, views = [], {}, Counter()
    for step, visit in zip(steps, visit_of):
        counts = visit.id in live
        for data in step.events:
            norm = normalize_query(data.query)
            if data.kind == "click" and norm:
                # A click marks the visit's earlier searches: those queued before it go in first.
                _flush_rows(conn, rows)
                _click(session, visit.id, norm, counts)
            rows.append(dict(ts=step.at, visit_id=visit.id, kind=data.kind, locale=data.locale, query=data.query,
                             query_norm=norm, mode=data.mode, results=data.results, article=data.article,
                             position=data.position, helpful=None, solved=None, reason=None, ticket_ref=None,
                             clicked=False))
            if data.kind == "search" and counts:
                day_counts = queries.setdefault((step.at.date(), norm or ""), Counter())
                day_counts["searches"] += 1
                day_counts["no_result"] += int(data.results == 0)
            elif data.kind == "view" and counts:
                views[data.article] += 1
    _flush_rows(conn, rows)
    add_views(session, views)
    for (day, norm), counts in queries.items():
        done = conn.execute(_ADD_TO_QUERY_DAY, {"k_day": day, "k_norm": norm, "d_searches": counts["searches"],
                                                "d_no_result": counts["no_result"]})
        if done.rowcount == 0:  # a concurrent first insert raises IntegrityError: the batch starts over
            conn.execute(insert(_QUERY_DAYS).values(day=day, query_norm=norm, searches=counts["searches"],
                                                    no_result=counts["no_result"], clicked=0))


def _flush_rows(conn, rows: list) -> None:
    if rows:
        conn.execute(insert(Event.__table__), rows)
        rows.clear()


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
    flags: int = 0

    @property
    def outcome(self):
        """self_served, self_served_inferred, escalated, other, or excluded_<reason> when the
        visit is left out (portal.metrics.classify)."""
        from portal.metrics import classify  # the rule lives with the figures; imported late (cycle)

        return classify(self.views, self.positive, self.negative, self.tickets, self.ticket_after, self.flags)


_STATE = (Visit.day, Visit.views, Visit.positive, Visit.negative, Visit.tickets, Visit.ticket_after,
          Visit.answer_article, Visit.ticket_article, Visit.flags)


def _state_of(row) -> VisitState:
    day, views, pos, neg, tickets, after, answer, failed, flags = row
    return VisitState(day, views, pos, neg, tickets, bool(after), answer, failed, flags or 0)


def _state(session, visit_id) -> VisitState:
    return _state_of(session.connection().execute(_STATE_OF, {"visit_id": visit_id}).one())


# Built once (a batch runs them per visitor and query): building a statement cost more than running it.
_VISITS = Visit.__table__
_LAST_VISIT = (select(_VISITS.c.id, _VISITS.c.seq, _VISITS.c.last_at, _VISITS.c.flags)
               .where(_VISITS.c.visitor_id == bindparam("visitor")).order_by(_VISITS.c.seq.desc()).limit(1))
# The state comes back from the update itself, so no other writer can change it in between.
_ADD_TO_VISIT = (update(_VISITS).where(_VISITS.c.id == bindparam("visit_id")).values(
    last_at=case((_VISITS.c.last_at < bindparam("at"), bindparam("at")), else_=_VISITS.c.last_at),
    views=_VISITS.c.views + bindparam("d_views"), searches=_VISITS.c.searches + bindparam("d_searches"),
    clicks=_VISITS.c.clicks + bindparam("d_clicks")).returning(*(_VISITS.c[c.key] for c in _STATE)))
_QUERY_DAYS = QueryDay.__table__
_ADD_TO_QUERY_DAY = (update(_QUERY_DAYS).where(_QUERY_DAYS.c.day == bindparam("k_day"),
                                               _QUERY_DAYS.c.query_norm == bindparam("k_norm"))
                     .values(searches=_QUERY_DAYS.c.searches + bindparam("d_searches"),
                             no_result=_QUERY_DAYS.c.no_result + bindparam("d_no_result")))
_STATE_OF = select(*_STATE).where(_VISITS.c.id == bindparam("visit_id"))
_FLAGS_OF = select(_VISITS.c.id, _VISITS.c.flags).where(_VISITS.c.id.in_(bindparam("ids", expanding=True)))
_NEW_VISIT = insert(_VISITS)
_EVENTS = Event.__table__
_NEW_EVENT = insert(_EVENTS)
_INCREMENT = {column: update(_VISITS).where(_VISITS.c.id == bindparam("visit_id"))
              .values({column: _VISITS.c[column] + 1})
              for column in ("searches", "views", "clicks", "escalations", "tickets")}
_CLICKABLE = select(_EVENTS.c.id, _EVENTS.c.ts).where(
    _EVENTS.c.visit_id == bindparam("visit_id"), _EVENTS.c.kind == "search", _EVENTS.c.query_norm == bindparam("norm"),
    _EVENTS.c.clicked.is_(False), or_(_EVENTS.c.results.is_(None), _EVENTS.c.results != 0))
_MARK_CLICKED = update(_EVENTS).where(_EVENTS.c.id.in_(bindparam("ids", expanding=True))).values(clicked=True)
_LAST_READ = (select(_EVENTS.c.article).where(_EVENTS.c.visit_id == bindparam("visit_id"), _EVENTS.c.kind == "view")
              .order_by(_EVENTS.c.ts.desc(), _EVENTS.c.id.desc()).limit(1).scalar_subquery())
_FIRST_TICKET = (update(_VISITS).where(_VISITS.c.id == bindparam("visit_id"), _VISITS.c.first_ticket_at.is_(None))
                 .values(first_ticket_at=bindparam("at"), ticket_article=_LAST_READ))
_EARLIER = select(_VISITS.c.id, *_STATE).where(
    _VISITS.c.visitor_id == bindparam("visitor"), _VISITS.c.id != bindparam("visit_id"),
    _VISITS.c.last_at < bindparam("at"), _VISITS.c.last_at >= bindparam("since"),
    _VISITS.c.ticket_after.is_(False)).with_for_update()
_SET_TICKET_AFTER = update(_VISITS).where(_VISITS.c.id.in_(bindparam("ids", expanding=True))).values(ticket_after=True)


@lru_cache(maxsize=64)
def _bump_statements(table, keys: tuple, columns: tuple):
    return (update(table).where(*(table.c[k] == bindparam("k_" + k) for k in keys))
            .values({c: table.c[c] + bindparam("d_" + c) for c in columns}), insert(table))


def _bump(session, model, keys: dict, deltas: dict):
    """Add deltas to the counters of the pre-aggregate row with these keys, creating it."""
    deltas = {k: v for k, v in deltas.items() if v}
    if not deltas:
        return
    add, first = _bump_statements(model.__table__, tuple(keys), tuple(sorted(deltas)))
    done = session.execute(add, {**{"k_" + k: v for k, v in keys.items()}, **{"d_" + c: v for c, v in deltas.items()}})
    if done.rowcount == 0:
        # A concurrent first insert raises IntegrityError: record_events retries the whole event.
        session.execute(first, {**keys, **deltas})


def _roll(session, before: VisitState | None, after: VisitState):
    """Move a visit's contribution in the day and article pre-aggregates from before to after."""
    totals, articles = _moves(before, after)
    _bump(session, DayTotals, {"day": after.day}, totals)
    for (article, column), delta in articles.items():
        _bump(session, ArticleDay, {"day": after.day, "article": article}, {column: delta})


def _moves(before: VisitState | None, after: VisitState) -> tuple[Counter, Counter]:
    """The deltas of moving a visit from before to after: day totals, and (article, column).

    A left-out visit counts only in its excluded_<reason> column: not in visits, not in tickets."""
    totals = Counter()
    for state, sign in ((before, -1), (after, 1)):
        if state is None:
            continue
        totals[state.outcome] += sign
        if included(state.flags):
            totals["visits"] += sign
            totals["tickets"] += sign * state.tickets
    totals.pop("other", None)
    articles = Counter()
    for state, sign in ((before, -1), (after, 1)):
        if state is None:
            continue
        if state.outcome == "self_served" and state.answer_article:
            articles[(state.answer_article, "answered")] += sign
        if state.outcome == "escalated" and state.ticket_article:
            articles[(state.ticket_article, "failed")] += sign
    return totals, articles


def _visit_for(session, visitor_id, at, locale, origin, burst):
    """Return (visit id, its state before this event or None when new, its flags now), opening one
    after a gap; the origin may flag it automated or confirm it, a burst flag it when it opens."""
    conn = session.connection()
    last = conn.execute(_LAST_VISIT, {"visitor": visitor_id}).first()
    if last is not None and at - last.last_at <= VISIT_GAP:
        old = _flags_change(conn, last.id, last.flags, origin.automated, origin.confirmed)
        # Write first, read after: the update takes the lock (the database's on SQLite, the row's
        # elsewhere), and returns the state, which then cannot change under us before we commit.
        state = _state_of(conn.execute(_ADD_TO_VISIT, {"visit_id": last.id, "at": at, "d_views": 0,
                                                       "d_searches": 0, "d_clicks": 0}).one())
        before = state if old is None else replace(state, flags=old)
        return last.id, before, state.flags
    moved: dict[int, bool] = {}
    flags = origin.initial_flags() | _burst_flag(session, burst, origin.address, at, moved)
    integrity.move_events(session, [v for v, counted in moved.items() if counted], -1, _bump)
    return conn.execute(_NEW_VISIT, dict(
        visitor_id=visitor_id, seq=(last.seq + 1) if last else 1, started_at=at, last_at=at, day=at.date(),
        locale=locale, searches=0, views=0, clicks=0, positive=0, negative=0, escalations=0, tickets=0,
        ticket_after=False, flags=flags, address=origin.address)).inserted_primary_key[0], None, flags


_COUNTERS = {"search": "searches", "view": "views", "click": "clicks",
             "escalation_started": "escalations", "ticket_opened": "tickets"}


def _apply(session, visitor_id, visit_id, data, at, live=True):
    """Store one event and fold it into its visit's summary (and, while the visit counts, into
    the search figures and the article view counter)."""
    norm = normalize_query(data.query)
    conn = session.connection()
    conn.execute(_NEW_EVENT, dict(ts=at, visit_id=visit_id, kind=data.kind, locale=data.locale, query=data.query,
                                  query_norm=norm, mode=data.mode, results=data.results, article=data.article,
                                  position=data.position, helpful=data.helpful, solved=data.solved,
                                  reason=data.reason, ticket_ref=data.ticket_ref, clicked=False))
    counter = _COUNTERS.get(data.kind)
    if counter:
        conn.execute(_INCREMENT[counter], {"visit_id": visit_id})
    if data.kind == "search" and live:
        _bump(session, QueryDay, {"day": at.date(), "query_norm": norm or ""},
              {"searches": 1, "no_result": int(data.results == 0)})
    elif data.kind == "view" and live:
        from portal.kb import add_views

        add_views(session, {data.article: 1})
    elif data.kind == "click" and norm:
        _click(session, visit_id, norm, live)
    elif data.kind == "feedback":
        _vote(session, visitor_id, visit_id, data, at)
    elif data.kind == "ticket_opened":
        _ticket(session, visitor_id, visit_id, at)


def _click(session, visit_id, norm, live=True):
    """Mark the visit's earlier searches for this query as clicked, in the events and (while the
    visit counts) per day."""
    # A search that found nothing has no results to click (a link to a related article is not one).
    conn = session.connection()
    searches = conn.execute(_CLICKABLE, {"visit_id": visit_id, "norm": norm}).all()
    if not searches:
        return
    conn.execute(_MARK_CLICKED, {"ids": [i for i, _ in searches]})
    if not live:
        return
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
    if (data.helpful is not None or data.solved is not None) and not integrity.viewed_before(
            session.connection(), visitor_id, data.article, at):
        # Only a reader can say an article helped: a vote without a view is a script's, and its visit is left out.
        integrity.change_flags(session.connection(), visit_id, add=integrity.VOTE_WITHOUT_VIEW)
        return
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
    conn = session.connection()
    # The last article read before the ticket is the one that failed.
    conn.execute(_FIRST_TICKET, {"visit_id": visit_id, "at": at})
    earlier = conn.execute(_EARLIER, {"visitor": visitor_id, "visit_id": visit_id, "at": at,
                                      "since": at - INFERENCE_WINDOW}).all()
    if earlier:
        conn.execute(_SET_TICKET_AFTER, {"ids": [row[0] for row in earlier]})
        for row in earlier:
            state = _state_of(row[1:])
            _roll(session, state, replace(state, ticket_after=True))


def visit_context(session, visitor_id: str, at: datetime, limit: int | None = None) -> VisitContext | None:
    """Return what the visitor's current visit searched, read and voted (the first `limit` of each), or None."""
    visit = current_visit(session, visitor_id, at)
    if visit is None:
        return None
    if limit is None:
        # Each distinct query and article once, in the order of its first event: grouped in SQL,
        # since a long visit has thousands of events and a ticket would otherwise read them all.
        queries = [q for q, in session.execute(_FIRST_QUERIES, {"visit_id": visit.id}) if q]
        articles = [a for a, in session.execute(_FIRST_ARTICLES, {"visit_id": visit.id})]
    else:
        queries = _first_distinct(session, _QUERIES_IN_ORDER, _FIRST_QUERIES, visit.id, limit)
        articles = _first_distinct(session, _ARTICLES_IN_ORDER, _FIRST_ARTICLES, visit.id, limit)
    votes = session.scalars(select(Vote).where(Vote.visit_id == visit.id).order_by(Vote.updated_at)
                            .limit(limit)).all()
    return VisitContext(
        visit_id=visit.id, started_at=visit.started_at, locale=visit.locale, queries=queries,
        articles=articles,
        votes=[{"article": v.article, "helpful": v.helpful, "solved": v.solved, "reason": v.reason}
               for v in votes],
    )


def _firsts(column, kind):
    """The distinct values of column among a visit's events of a kind, by their first event."""
    return (select(column).where(Event.visit_id == bindparam("visit_id"), Event.kind == kind).group_by(column)
            .order_by(func.min(Event.ts), func.min(Event.id)))


_FIRST_QUERIES, _FIRST_ARTICLES = _firsts(Event.query, "search"), _firsts(Event.article, "view")


def _in_order(column, kind):
    """A visit's values of column on events of a kind, in event order, the first few only."""
    return (select(column).where(Event.visit_id == bindparam("visit_id"), Event.kind == kind)
            .order_by(Event.ts, Event.id).limit(_SCAN))


_SCAN = 200
_QUERIES_IN_ORDER, _ARTICLES_IN_ORDER = _in_order(Event.query, "search"), _in_order(Event.article, "view")


def _first_distinct(session, first_events, grouped, visit_id: int, limit: int) -> list[str]:
    """The first `limit` distinct non-empty values, in the order of their first event.

    What the grouped query gives, cut to `limit`, from the visit's first events when they hold
    enough: a ticket's context needs the first 20, and grouping a long visit's thousands of
    events cost more than the rest of the ticket."""
    rows = session.execute(first_events, {"visit_id": visit_id}).all()
    seen = dict.fromkeys(value for value, in rows if value)
    if len(seen) < limit and len(rows) == _SCAN:  # a long visit that kept to a few values
        seen = dict.fromkeys(value for value, in session.execute(grouped, {"visit_id": visit_id}) if value)
    return list(seen)[:limit]


def rebuild_aggregates(session) -> None:
    """Recompute the day, article and query pre-aggregates from the visits and events.

    For bulk loads and repairs; normal recording keeps them exact one event at a time."""
    days, articles, queries = {}, Counter(), {}
    for row in session.execute(select(*_STATE)).yield_per(20_000):
        state = _state_of(row)
        totals = days.setdefault(state.day, Counter())
        totals.update(_moves(None, state)[0])
        if state.outcome == "self_served" and state.answer_article:
            articles[(state.day, state.answer_article, "answered")] += 1
        if state.outcome == "escalated" and state.ticket_article:
            articles[(state.day, state.ticket_article, "failed")] += 1
    # The search figures count the searches of visits that count (portal.tracking.integrity).
    searches = (select(Event.ts, Event.query_norm, Event.results, Event.clicked)
                .join(Visit, Visit.id == Event.visit_id).where(Event.kind == "search", Visit.flags == 0))
    for ts, norm, results, clicked in session.execute(searches).yield_per(20_000):
        counts = queries.setdefault((ts.date(), norm or ""), Counter())
        counts["searches"] += 1
        counts["no_result"] += int(results == 0)
        counts["clicked"] += int(bool(clicked))
    for model in (DayTotals, ArticleDay, QueryDay):
        session.execute(model.__table__.delete())
    columns = ("visits", "self_served", "self_served_inferred", "escalated", "tickets",
               *integrity.EXCLUDED_OUTCOMES)
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
