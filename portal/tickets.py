"""The portal's side of ticketing: settings, clock, visit context, tracking and blueprints.

Views call these helpers and the services in ticketing/; nothing about tickets' rules lives here."""
import json
import re
from datetime import datetime, timezone
from pathlib import Path

from flask import current_app, g, has_request_context, request, url_for
from sqlalchemy import select

from portal.lru import ExpiringLRU
from ticketing import routing, service, sla
from ticketing.service import CONTEXT_ITEMS, Actor, Settings

ARTICLE_LINK = re.compile(r"/articles/([A-Za-z0-9][A-Za-z0-9_-]{0,159})")


def init_app(app):
    """Load ticket settings; register the ticket, API, agent and KPI blueprints, nav and CLI."""
    import ticketing.models  # noqa: F401  (the ticket tables, for Alembic's metadata)
    from portal import tickets_cli
    from portal.views import agents, ticket_kpis, tickets, tickets_api

    app.extensions["sportello.tickets"] = load_settings(app.config.get("TICKET_RULES"))
    app.extensions.setdefault("sportello.clock", None)
    for blueprint in (tickets.bp, tickets_api.bp, agents.bp, ticket_kpis.bp):
        app.register_blueprint(blueprint)
    csrf = app.extensions.get("csrf")
    if csrf is not None:  # JSON bodies only, which a cross-site form cannot send
        csrf.exempt(tickets_api.bp)
    app.extensions["sportello.nav"].append(("agents.queue", "Tickets", ("agent", "lead")))
    app.extensions["sportello.nav"].append(("ticket_kpis.dashboard", "Ticket KPIs", ("lead",)))
    app.cli.add_command(tickets_cli.tickets_group)
    app.jinja_env.filters["message_html"] = message_html
    app.jinja_env.filters["duration"] = duration
    app.extensions["sportello.message_html"] = ExpiringLRU(3600, size=2000)


def render_reply(text):
    """An agent's reply (markdown) as sanitized HTML, to store with it; content.RenderTooSlow
    (an ArticleFormatError) when it takes too long."""
    from portal.content import render_bounded

    return render_bounded(text or "")[0]


def message_html(message):
    """An agent's message for display: the HTML stored when it was written. A message from before
    that was stored gets rendered once per process (bounded), or shown as text when it will not."""
    from markupsafe import Markup, escape

    from portal.content import ArticleFormatError

    if message.html:
        return Markup(message.html)
    cache = current_app.extensions["sportello.message_html"]
    html = cache.get(message.id)
    if html is None:
        try:
            html = render_reply(message.body)
        except ArticleFormatError:
            html = f"<p>{escape(message.body)}</p>"
        cache.put(message.id, html)
    return Markup(html)


def duration(seconds):
    """Return seconds as a short human duration: 45 s, 12 min, 3 h 05 min, 2 d 4 h."""
    if seconds is None:
        return "–"
    s = int(round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min"
    if s < 86400:
        return f"{s // 3600} h {s % 3600 // 60:02d} min"
    return f"{s // 86400} d {s % 86400 // 3600} h"


def load_settings(path):
    """Read routing rules and SLA policies from a JSON file, or use the defaults.

    The file: {"rules": [{"name", "group", "priority", "categories", "keywords", "locales"}...],
    "sla": {"policies": {...}, "business_hours": {...}}} (see ticketing/routing.py and sla.py)."""
    if not path:
        return Settings()
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    rules = routing.rules_from_data(data["rules"]) if "rules" in data else routing.DEFAULT_RULES
    policies = sla.config_from_data(data["sla"]) if "sla" in data else sla.DEFAULT
    return Settings(rules=rules, sla=policies)


def settings():
    """Return the app's ticket settings."""
    return current_app.extensions["sportello.tickets"]


def now():
    """Return the current UTC time; tests inject app.extensions["sportello.clock"]."""
    clock = current_app.extensions.get("sportello.clock")
    moment = clock() if clock else datetime.now(timezone.utc)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def actor():
    """Return the logged-in staff member as a ticketing Actor."""
    user = g.user
    return Actor(user.id, user.name or user.email)


def user_names(session, ids):
    """Return {user id: display name} for these ids (agents live in the portal's users table)."""
    from portal.models import User

    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return {u.id: (u.name or u.email) for u in session.scalars(select(User).where(User.id.in_(ids)))}


def agents(session):
    """Return the active staff who can take tickets, by name."""
    from portal.models import User

    return session.scalars(select(User).where(User.active.is_(True), User.role.in_(("agent", "lead", "admin")))
                           .order_by(User.name, User.email)).all()


def visit_context(query="", article=""):
    """Return the "already tried" context: the visit's queries, articles and votes, and locale.

    It comes from the deflection tracking when it is installed; the query and article the
    form was opened with are always added, so a headless client's context is kept too."""
    from portal.i18n import get_locale

    context = {"locale": get_locale(), "queries": [], "articles": [], "votes": []}
    tracked = None
    try:
        from portal import tracking

        # The ticket keeps the first few of each (CONTEXT_ITEMS): a long visit has hundreds.
        tracked = tracking.visit_context(limit=CONTEXT_ITEMS) if _tracking_on() else None
    except ImportError:
        tracked = None
    if tracked:
        titles = tracked.get("article_titles") or {}
        context["queries"] = list(tracked.get("queries") or [])
        context["articles"] = [{"slug": s, "title": titles.get(s, s)} for s in tracked.get("articles") or []]
        context["votes"] = list(tracked.get("votes") or [])
        context["locale"] = tracked.get("locale") or context["locale"]
    query, article = (query or "").strip(), (article or "").strip()
    if query and query not in context["queries"]:
        context["queries"].append(query)
    if article and article not in [a["slug"] for a in context["articles"]]:
        context["articles"].append({"slug": article, "title": _article_title(article)})
    if query:
        context["query"] = query
    if article:
        context["article"] = article
    return context


def _article_title(slug):
    from portal import kb
    from portal.db import get_session

    art = kb.public_article(get_session(), slug)
    return art.title if art is not None else slug


def open_ticket(data, query="", article=""):
    """Create the ticket (ticketing.service; InvalidTicket when the data has errors) and record its
    ticket_opened in the same transaction, so the self-service ratio never misses a stored ticket."""
    from portal.db import get_session

    fields = {"query": query or None, "article": article or None}
    hook = _tracking("recorder", "ticket_opened", **fields)
    also = (lambda session, ticket: hook(session, ticket_ref=ticket.reference)) if hook else None
    ticket = service.create_ticket(get_session(), data, settings(), now=now(), also=also)
    if hook is None:  # a bot, or no visitor: recorded the usual way, after the commit
        record("ticket_opened", ticket_ref=ticket.reference, **fields)
    return ticket


def record(kind, **fields):
    """Record a deflection event when tracking is installed; never raises."""
    return _tracking("record", kind, **fields)


def _tracking(name, kind, **fields):
    """tracking.<name>(kind, **fields) when tracking is installed, else None; never raises."""
    if not has_request_context() or not _tracking_on():
        return None
    try:
        from portal import tracking

        return getattr(tracking, name)(kind, **fields)
    except Exception:  # recording must never break the ticket flow
        current_app.logger.exception("tickets: could not record %s (tracking.%s)", kind, name)
        return None


def status_url(ticket, external=False):
    """Return the customer's private status page URL for a ticket."""
    return url_for("tickets.status", token=ticket.access_token, _external=external)


def link_for_token(token):
    """Return an absolute status page URL, from BASE_URL (or the current request's host)."""
    base = current_app.config.get("BASE_URL") or (request.host_url if has_request_context() else "")
    base = base or "http://localhost:5000"
    with current_app.test_request_context(base_url=base):
        return url_for("tickets.status", token=token, _external=True)


def article_url(slug, external=True):
    """Return the public URL of an article (absolute, for replies read outside the portal)."""
    base = current_app.config.get("BASE_URL")
    if base:
        with current_app.test_request_context(base_url=base):
            return url_for("kb.article", slug=slug, _external=True)
    return url_for("kb.article", slug=slug, _external=external)


def articles_in(text):
    """Return the slugs of knowledge-base article links found in a reply, in order, once each."""
    from portal import kb
    from portal.db import get_session

    found = []
    for slug in ARTICLE_LINK.findall(text or ""):
        if slug not in found and kb.public_article(get_session(), slug) is not None:
            found.append(slug)
    return found


def _tracking_on():
    """True when the deflection tracking is installed in this app (its blueprint is there)."""
    return "tracking" in current_app.blueprints
