"""Ticket JSON API: POST /api/tickets (customers, integrations) and the ticket KPIs for leads."""
from datetime import date, datetime, time, timedelta, timezone

from flask import Blueprint, current_app, g, jsonify, request

from portal import tickets as desk
from portal.auth import token_required
from portal.metrics import FIRST_DAY, LAST_DAY
from portal.db import get_session
from portal.i18n import get_locale
from ticketing import kpis, service
from ticketing.errors import InvalidTicket, TicketError, TicketNotFound

bp = Blueprint("tickets_api", __name__, url_prefix="/api")
DEFAULT_RANGE_DAYS = 30
MAX_RANGE_DAYS = 3 * 366


def _error(message, fields=None, code=400):
    return jsonify(error=message, fields=fields or {}), code


def _text(payload, key):
    value = payload.get(key)
    return value if isinstance(value, str) else ("" if value is None else None)


@bp.post("/tickets")
def create():
    """Open a ticket from JSON {"email","subject","body","query"?,"article"?,"name"?,"category"?}."""
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        return _error("send a JSON object: {\"email\", \"subject\", \"body\"}")
    values = {key: _text(payload, key) for key in ("email", "subject", "body", "query", "article", "name",
                                                   "category", "locale")}
    wrong = {k: "must be a string" for k, v in values.items() if v is None}
    if wrong:
        return _error("some fields have the wrong type", wrong)
    locale = values["locale"] if values["locale"] in current_app.config["LOCALES"] else get_locale()
    data = service.NewTicket(
        email=values["email"], subject=values["subject"], body=values["body"], name=values["name"],
        category=values["category"] or "general", locale=locale, visitor_id=g.get("visitor_id") or "",
        context=desk.visit_context(values["query"][:200], values["article"][:160]), source="api")
    try:
        ticket = desk.open_ticket(data, values["query"][:200], values["article"][:160])
    except InvalidTicket as exc:
        return _error("the ticket has errors", exc.fields, 422)
    return jsonify(id=ticket.id, reference=ticket.reference, status=ticket.status,
                   url=desk.status_url(ticket, external=True)), 201


@bp.get("/tickets/suggest")
def suggest():
    """Articles that may answer the ticket being written: ?subject=&body=&locale= (CONTRACT.md).
    Not a search the customer ran, so no search event is recorded."""
    from portal import contact_suggest

    locale = request.args.get("locale") or None
    if locale and locale not in current_app.config["LOCALES"]:
        return _error("invalid parameters", {"locale": f"must be one of {', '.join(current_app.config['LOCALES'])}"})
    # over-long text is cut to what search reads, never refused: the form sends what was typed
    found = contact_suggest.suggest(current_app.extensions["sportello.search"],
                                    request.args.get("subject", "")[:service.SUBJECT_MAX],
                                    request.args.get("body", "")[:service.BODY_MAX], locale or get_locale())
    return jsonify(answered=found.answered, suggestions=[
        {"slug": r.slug, "title": r.title, "url": r.url, "snippet": r.snippet, "confidence": r.confidence,
         "locale": r.locale} for r in found.rows])


@bp.get("/tickets/status/<token>")
def status(token):
    """Return a ticket's public view (thread without internal notes) by its status-page token."""
    try:
        ticket = service.get_by_token(get_session(), token)
    except TicketNotFound:
        return _error("no ticket for this link", code=404)
    resp = jsonify(
        reference=ticket.reference, status=ticket.status, subject=ticket.subject,
        created_at=ticket.created_at.isoformat(), csat=ticket.csat, nps=ticket.nps,
        messages=[{"from": "customer" if m.kind == "customer" else "agent", "author": m.author_name,
                   "body": m.body, "at": m.created_at.isoformat()} for m in ticket.messages if m.is_public])
    resp.headers["Cache-Control"] = "no-store"
    return resp


def parse_range(args):
    """Return (start, end) aware datetimes, end exclusive, from ?from= and ?to= (inclusive days, UTC)."""
    fields = {}
    today = desk.now().date()
    parsed = {}
    for key, default in (("from", today - timedelta(days=DEFAULT_RANGE_DAYS - 1)), ("to", today)):
        raw = (args.get(key) or "").strip()
        try:
            parsed[key] = date.fromisoformat(raw) if raw else default
        except ValueError:
            fields[key] = "use YYYY-MM-DD"
            continue
        if not FIRST_DAY <= parsed[key] <= LAST_DAY:
            fields[key] = f"use a date between {FIRST_DAY} and {LAST_DAY}"
    if fields:
        raise InvalidTicket("invalid date range", fields)
    if parsed["from"] > parsed["to"]:
        raise InvalidTicket("invalid date range", {"from": "must not be after 'to'"})
    if (parsed["to"] - parsed["from"]).days > MAX_RANGE_DAYS:
        raise InvalidTicket("invalid date range", {"to": f"the range can span at most {MAX_RANGE_DAYS} days"})
    start = datetime.combine(parsed["from"], time(0), timezone.utc)
    end = datetime.combine(parsed["to"] + timedelta(days=1), time(0), timezone.utc)
    return start, end


@bp.get("/metrics/tickets")
@token_required("lead")
def metrics():
    """The ticket KPIs for ?from=&to= (YYYY-MM-DD, inclusive, UTC); ?interval=day|week|month adds over_time."""
    try:
        start, end = parse_range(request.args)
    except TicketError as exc:
        return _error(exc.message, exc.fields)
    interval = request.args.get("interval") or None
    if interval not in (None, "day", "week", "month"):
        return _error("invalid interval", {"interval": "day, week or month"})
    session = get_session()
    result = kpis.report(session, start, end, now=desk.now(), interval=interval)
    names = desk.user_names(session, [row["key"] for row in result.get("by_agent", [])])
    for row in result.get("by_agent", []):
        row["name"] = names.get(row["key"], "unassigned" if row["key"] is None else f"#{row['key']}")
    body = {"from": start.date().isoformat(), "to": (end - timedelta(days=1)).date().isoformat(), **result,
            "definitions": kpis.DEFINITIONS}
    return jsonify(body)
