"""Deflection tracking for the portal: what other areas call to record a customer's steps.

    from portal import tracking
    tracking.record("ticket_opened", ticket_ref="SP-2026-000123", query="...", article="slug")
    tracking.record("escalation_started", query="...", article="slug")
    hook = tracking.recorder("ticket_opened", query="...")  # then hook(session, ticket_ref=...)
    context = tracking.visit_context()      # dict or None: queries, articles, votes, locale

Recording never breaks a page: errors are logged and swallowed. record() uses a session of its
own, so call it after committing your own work (on SQLite an open write transaction in the
same request would make it wait for the lock); a recorder's hook writes in your transaction
instead, so that the event commits with your work or not at all (a ticket and its event).
Views, clicks and searches are written behind, in batches (portal.tracking.buffer); call
flush() before reading figures in the same process.

Every request's events carry its origin (portal.tracking.integrity): whether the client sent back
its signed visitor cookie, whether it is a scripted client, and a keyed hash of its address, from
which the service leaves automated and suspicious visits out of the figures."""
from datetime import datetime, timezone
from itertools import chain

from flask import current_app, g, has_request_context, request
from sqlalchemy import bindparam, select

from portal import changes
from portal.tracking.bots import is_automated, trusted_pattern
from portal.tracking.buffer import EventBuffer
from portal.tracking.integrity import BurstRule, Origin, address_key
from portal.tracking.models import Vote
from portal.tracking.service import (BATCHED_KINDS, FIELD_NAMES, EventData, Step, add_events, naive_utc,
                                     record_events)
from portal.tracking.service import visit_context as _visit_context

__all__ = ["init_app", "record", "recorder", "record_article_view", "record_search", "visit_context", "now",
           "flush", "has_voted", "origin", "confirm_visit"]
# Pages that record an event carry the beacon (templates/base.html): a browser fetching it sends the
# visitor cookie back at once, so that a one-page visit is confirmed too.
BEACON_ENDPOINTS = {"kb.article", "search.search_page", "tickets.new"}


def init_app(app):
    """Register the tracking tables, the feedback routes, the metrics API and the dashboard."""
    import portal.tracking.models  # noqa: F401  (tables on Base.metadata)
    from portal.views import leads, tracking as views

    app.extensions.setdefault("sportello.clock", None)
    stamps = changes.for_app(app)
    changes.watch(app.extensions["sportello.db"], stamps, changes.VOTES,
                  lambda session: any(isinstance(obj, Vote) for obj in chain(session.new, session.deleted)))
    # The articles each recent visitor voted on: article pages ask on every view.
    app.extensions["sportello.votes"] = changes.Memo(stamps, changes.VOTES, size=10_000)
    app.extensions["sportello.burst_rule"] = burst_rule(app.config)
    app.extensions["sportello.tracking"] = EventBuffer(
        app.extensions["sportello.db"], app.config.get("TRACKING_FLUSH_SECONDS", 1.0), app.logger,
        burst=app.extensions["sportello.burst_rule"])
    app.register_blueprint(views.bp)
    app.register_blueprint(views.api_bp)
    app.register_blueprint(leads.bp)
    csrf = app.extensions.get("csrf")
    if csrf is not None:  # JSON bodies only, which a cross-site form cannot send
        csrf.exempt(views.api_bp)
    app.extensions["sportello.nav"].append(("leads.dashboard", "Self-service", ("lead",)))
    app.jinja_env.globals["feedback_vote"] = views.vote_state
    app.jinja_env.globals["tracking_beacon"] = lambda: request.endpoint in BEACON_ENDPOINTS


def burst_rule(config):
    """The burst rule from BURST_LIMITS (the limiter's notation), or None when it is "off"."""
    try:
        return BurstRule.parse(config.get("BURST_LIMITS", ""))
    except ValueError as exc:
        raise ValueError(f"SPORTELLO_BURST_LIMITS: {exc}") from None


def now():
    """Return the current time as naive UTC; tests inject app.extensions["sportello.clock"]."""
    clock = current_app.extensions.get("sportello.clock")
    return naive_utc(clock()) if clock else datetime.now(timezone.utc).replace(tzinfo=None)


def article_titles(session, slugs):
    """Return {slug: title} for the articles that still exist."""
    from portal.models import Article

    if not slugs:
        return {}
    rows = session.execute(select(Article.slug, Article.title).where(Article.slug.in_(list(slugs))))
    return dict(rows.all())


def _visitor_id():
    return g.get("visitor_id") if has_request_context() else None


def origin() -> Origin:
    """How far this request's events can be trusted (portal.tracking.integrity)."""
    cached = g.get("tracking_origin")
    if cached is None:
        trusted = trusted_pattern(current_app.config.get("TRUSTED_AGENTS"))
        cached = g.tracking_origin = Origin(
            confirmed=bool(g.get("visitor_returned")),
            automated=is_automated(request.headers.get("User-Agent", ""), trusted),
            address=address_key(current_app.secret_key, request.remote_addr))
    return cached


def flush():
    """Write this process's pending views, clicks and searches now (before reading figures)."""
    current_app.extensions["sportello.tracking"].flush()


def record(kind, **fields):
    """Record one event for the current visitor; return the visit id, or None (failure, queued)."""
    return record_many([(kind, fields)])


def record_many(items):
    """Record several (kind, fields) events of this request in one transaction; never raises.

    Views, clicks and searches are queued (portal.tracking.buffer); any other kind is written
    now, after what this process has queued, to keep the visit's order."""
    buffer = current_app.extensions["sportello.tracking"]
    try:
        visitor = _visitor_id()
        if not visitor:
            return None
        events = _event_data(items)
        if all(e.kind in BATCHED_KINDS for e in events):
            ids = buffer.add(Step(visitor, tuple(events), now(), origin()))
            return ids[0] if ids else None
        buffer.flush(visitor)  # the visit's queued steps go first, to keep its order
        session = current_app.extensions["sportello.db"]()
        try:
            return record_events(session, visitor, events, now(), origin(),
                                 current_app.extensions["sportello.burst_rule"])
        finally:
            session.close()
    except Exception:  # recording must never break the page it is recorded from
        current_app.logger.exception("tracking: could not record %s", [k for k, _ in items])
        return None


def confirm_visit():
    """The beacon: a client sending its new visitor cookie back for the first time confirms its
    visit (the step has no events); any other request costs nothing here. Never raises."""
    if not g.get("visitor_first_return"):
        return
    try:
        current_app.extensions["sportello.tracking"].add(Step(_visitor_id(), (), now(), origin()))
    except Exception:  # the beacon must never fail
        current_app.logger.exception("tracking: could not confirm a visit")


def _event_data(items) -> list[EventData]:
    from portal.i18n import get_locale

    events = []
    for kind, fields in items:
        unknown = set(fields) - FIELD_NAMES
        if unknown:  # a caller's extra key must not cost the event
            current_app.logger.warning("tracking: ignoring fields %s on %s", sorted(unknown), kind)
        values = {k: v for k, v in fields.items() if k in FIELD_NAMES}
        values.setdefault("locale", get_locale())
        events.append(EventData(kind=kind, **values))
    return events


def recorder(kind, **fields):
    """Return hook(session, **more), which records one event of the current visitor inside the
    caller's transaction (service.add_events), so that it commits with the caller's work; or
    None for a request without a visitor (call record() after committing instead).

    The visit's steps still queued in this process are written now, before the caller opens
    its transaction (on SQLite that write would wait for it), to keep the visit's order. The
    hook never raises: a failure is logged, its savepoint rolled back, the caller's work kept."""
    visitor = _visitor_id()
    if not visitor:
        return None
    current_app.extensions["sportello.tracking"].flush(visitor)
    where, burst = origin(), current_app.extensions["sportello.burst_rule"]

    def hook(session, **more):
        try:
            return add_events(session, visitor, _event_data([(kind, {**fields, **more})]), now(), where, burst)
        except Exception:  # recording must never cost the caller's work
            current_app.logger.exception("tracking: could not record %s", kind)
            return None

    return hook


def has_voted(slug) -> bool:
    """True when the current visitor has a standing vote on the article (its page then shows it)."""
    visitor = _visitor_id()
    if not visitor or g.get("visitor_new"):
        return False
    from portal.db import read_all

    engine = current_app.extensions["sportello.engine"]
    voted = current_app.extensions["sportello.votes"].get(
        visitor, lambda: frozenset(row[0] for row in read_all(engine, _VOTED, {"visitor": visitor})))
    return slug in voted


# Built once: asked on every article page, where building the expression cost more than the query.
_VOTED = select(Vote.article).where(Vote.visitor_id == bindparam("visitor"))


def _position(raw):
    if raw is None:
        return None
    try:
        value = int(raw)
    except (TypeError, ValueError):
        return None
    return value if 0 < value < 10_000 else None


def record_article_view(slug, query=None, position=None):
    """Record a view of an article (its counter moves with the visit); ?q= and ?pos= say it came
    from a search."""
    if request.args.get("voted"):
        return None  # the page reloaded after a vote: not a new view
    query = query if query is not None else request.args.get("q", "")
    position = position if position is not None else _position(request.args.get("pos"))
    query = query.strip() or None
    items = []
    if position is not None:
        items.append(("click", {"article": slug, "position": position, "query": query}))
    items.append(("view", {"article": slug, "query": query}))
    return record_many(items)


def record_search(query, results, mode=None, locale=None, answered=None):
    """Record a search with its result count and whether it found an answer (from /search and
    GET /api/search)."""
    fields = {"query": query, "results": int(results), "mode": mode}
    if answered is not None:
        fields["answered"] = bool(answered)
    if locale:
        fields["locale"] = locale
    return record("search", **fields)


def visit_context(visitor_id=None, limit=None):
    """Return the current visit's queries, articles read and votes (the first `limit` of each) and
    locale as a dict, or None."""
    try:
        visitor = visitor_id or _visitor_id()
        if not visitor:
            return None
        # The visit's latest views and searches may still wait in this process.
        current_app.extensions["sportello.tracking"].flush(visitor)
        from portal.db import get_session

        session = get_session()
        context = _visit_context(session, visitor, now(), limit)
        if context is None:
            return None
        out = context.as_dict()
        out["article_titles"] = article_titles(session, context.articles)
        return out
    except Exception:
        current_app.logger.exception("tracking: could not read the visit context")
        return None
