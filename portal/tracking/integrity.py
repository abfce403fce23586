"""Which visits the figures can trust, and what moves when that changes.

A visit is left out of every figure (and counted apart, by its first reason) when:
- automated: its client announced itself as a crawler, a link previewer, a monitor, an HTTP
  library or a headless browser (portal.tracking.bots), or sent no user agent;
- burst: its address started more visits than one of BurstRule's limits allows within that
  limit's window (5 per minute and 60 per hour by default; bench/burst_rule.py): the visit and
  every visit of that address inside the window, so that a script cannot keep the first few;
- vote_without_view: it voted on an article its visitor had not viewed in the 24 hours before;
- no_cookie: its visitor has not yet sent back the visitor cookie it was given. A browser does
  with its next request, or the page's beacon (tracking.beacon); a script that drops cookies never.

The search report and the article view counters count only the events of visits that count:
when a visit moves in or out (a beacon confirms it, a burst flags it), its searches and views
move with it (move_events)."""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, select, update

from portal.tracking.models import Event, QueryDay, Visit

AUTOMATED, NO_COOKIE, BURST, VOTE_WITHOUT_VIEW = 1, 2, 4, 8
# First reason wins, in this order: the outcome a left-out visit is counted under.
REASONS = ((AUTOMATED, "automated"), (BURST, "burst"), (VOTE_WITHOUT_VIEW, "vote_without_view"),
           (NO_COOKIE, "no_cookie"))
EXCLUDED_OUTCOMES = tuple(f"excluded_{name}" for _, name in REASONS)


def included(flags: int | None) -> bool:
    """True when a visit with these flags counts in the figures."""
    return not flags


def excluded_outcome(flags: int) -> str:
    """The outcome (a DayTotals column) a left-out visit is counted under."""
    for bit, name in REASONS:
        if flags & bit:
            return f"excluded_{name}"
    raise ValueError("a visit without flags is not excluded")


@dataclass(frozen=True)
class Origin:
    """Where a request's events come from, as the request layer judged it."""

    confirmed: bool = True   # the client sent back a visitor cookie the server had signed
    automated: bool = False  # the user agent is a crawler, a library or a headless browser
    address: str | None = None  # address_key() of the client, for the burst rule

    def initial_flags(self) -> int:
        """The flags of a visit this request opens."""
        return (AUTOMATED if self.automated else 0) | (0 if self.confirmed else NO_COOKIE)


TRUSTED = Origin()  # service callers without a request: tests, imports, tools


@dataclass(frozen=True)
class BurstRule:
    """Limits (visits, window): more than `visits` visits started from one address within
    `window`, for any of them, is a burst."""

    limits: tuple[tuple[int, timedelta], ...]

    @classmethod
    def parse(cls, text: str) -> "BurstRule | None":
        """The rule from the limiter's notation ("5 per minute; 60 per hour"); None for "off" or ""."""
        from limits import parse_many

        text = (text or "").strip()
        if text.lower() in ("", "off"):
            return None
        return cls(tuple((item.amount, timedelta(seconds=item.get_expiry())) for item in parse_many(text)))


def address_key(secret: str, remote_addr: str | None) -> str | None:
    """A keyed hash of the client's address: IPv4 whole, IPv6 by its /64 (one subscriber's
    share, which a script could otherwise walk through). None when there is no address."""
    if not remote_addr:
        return None
    try:
        ip = ipaddress.ip_address(remote_addr)
    except ValueError:
        text = remote_addr
    else:
        mapped = getattr(ip, "ipv4_mapped", None)
        if ip.version == 6 and mapped is None:
            text = str(ipaddress.ip_network(f"{ip}/64", strict=False))
        else:
            text = str(mapped or ip)
    return hmac.new(str(secret).encode(), text.encode(), hashlib.sha256).hexdigest()[:32]


_VISITS = Visit.__table__
_RECENT_FROM = (select(func.count()).select_from(_VISITS)
                .where(_VISITS.c.address == bindparam("address"), _VISITS.c.started_at > bindparam("since"),
                       _VISITS.c.started_at <= bindparam("at")))
_UNFLAGGED_FROM = (select(_VISITS.c.id).where(
    _VISITS.c.address == bindparam("address"), _VISITS.c.started_at > bindparam("since"),
    _VISITS.c.started_at <= bindparam("at"), _VISITS.c.flags.op("&")(BURST) == 0).with_for_update())


def in_burst(conn, rule: BurstRule | None, address: str | None, at: datetime) -> list[int] | None:
    """None when a visit opening now from this address is not in a burst; else the ids of the
    address's earlier visits in the window that the burst flags too (often none: flagged already)."""
    if rule is None or not address:
        return None
    others = None
    for visits, window in rule.limits:
        values = {"address": address, "since": at - window, "at": at}
        if conn.execute(_RECENT_FROM, values).scalar() + 1 > visits:
            others = (others or set()) | {row[0] for row in conn.execute(_UNFLAGGED_FROM, values)}
    return None if others is None else sorted(others)


_VISIT_FLAGS = select(_VISITS.c.flags).where(_VISITS.c.id == bindparam("visit_id")).with_for_update()
_SET_FLAGS = update(_VISITS).where(_VISITS.c.id == bindparam("visit_id")).values(flags=bindparam("flags"))


def change_flags(conn, visit_id: int, add: int = 0, clear: int = 0) -> tuple[int, int]:
    """Set and clear flag bits of a visit under its row lock; return (old, new) flags."""
    old = conn.execute(_VISIT_FLAGS, {"visit_id": visit_id}).scalar() or 0
    new = (old | add) & ~clear
    if new != old:
        conn.execute(_SET_FLAGS, {"visit_id": visit_id, "flags": new})
    return old, new


_EVENTS = Event.__table__
_SEARCHES_OF = select(_EVENTS.c.ts, _EVENTS.c.query_norm, _EVENTS.c.results, _EVENTS.c.clicked).where(
    _EVENTS.c.visit_id.in_(bindparam("ids", expanding=True)), _EVENTS.c.kind == "search")
_VIEWS_OF = (select(_EVENTS.c.article, func.count()).where(
    _EVENTS.c.visit_id.in_(bindparam("ids", expanding=True)), _EVENTS.c.kind == "view")
    .group_by(_EVENTS.c.article))
_VIEWED = (select(_EVENTS.c.id).join(_VISITS, _VISITS.c.id == _EVENTS.c.visit_id).where(
    _VISITS.c.visitor_id == bindparam("visitor"), _VISITS.c.last_at >= bindparam("since"),
    _EVENTS.c.kind == "view", _EVENTS.c.article == bindparam("article"), _EVENTS.c.ts <= bindparam("at"))
    .limit(1))
VOTE_NEEDS_VIEW_WITHIN = timedelta(hours=24)


def viewed_before(conn, visitor_id: str, article: str, at: datetime) -> bool:
    """True when the visitor viewed the article at or before `at`, within the last 24 hours."""
    values = {"visitor": visitor_id, "article": article, "at": at, "since": at - VOTE_NEEDS_VIEW_WITHIN}
    return conn.execute(_VIEWED, values).first() is not None


def move_events(session, visit_ids, sign: int, bump) -> None:
    """Add (sign 1) or take away (-1) the searches and views of these visits in the search
    figures and the article view counters; bump(model, keys, deltas) is the service's."""
    from portal.kb import add_views

    ids = sorted(set(visit_ids))
    if not ids:
        return
    conn = session.connection()
    queries: dict[tuple, Counter] = {}
    for ts, norm, results, clicked in conn.execute(_SEARCHES_OF, {"ids": ids}):
        counts = queries.setdefault((ts.date(), norm or ""), Counter())
        counts["searches"] += sign
        counts["no_result"] += sign * int(results == 0)
        counts["clicked"] += sign * int(bool(clicked))
    for (day, norm), deltas in sorted(queries.items()):
        bump(session, QueryDay, {"day": day, "query_norm": norm}, deltas)
    add_views(session, {article: sign * n for article, n in conn.execute(_VIEWS_OF, {"ids": ids}) if article})
