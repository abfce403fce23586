"""Feedback on articles (form and JSON), the visit beacon and the self-service metrics API."""
import base64

from flask import Blueprint, abort, g, jsonify, make_response, redirect, request, url_for

from portal import kb, metrics, tracking
from portal.auth import token_required
from portal.db import get_session
from portal.tracking.models import Vote
from portal.tracking.service import QUERY_MAX, REASON_MAX

bp = Blueprint("tracking", __name__)
api_bp = Blueprint("tracking_api", __name__, url_prefix="/api")
_PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")  # 1x1 transparent GIF


@bp.get("/v.gif")
def beacon():
    """The image every tracked page loads: a browser sends its visitor cookie back with it, which
    confirms a visit that is still one page long (portal.tracking.integrity)."""
    tracking.confirm_visit()
    response = make_response(_PIXEL)
    response.headers["Content-Type"] = "image/gif"
    response.headers["Cache-Control"] = "no-store"
    return response

_YES_NO = {"yes": True, "true": True, "1": True, "no": False, "false": False, "0": False}


def _form_bool(name):
    return _YES_NO.get((request.form.get(name) or "").strip().lower())


@bp.post("/articles/<slug>/feedback")
def feedback(slug):
    """Record a vote from the article page's form, then go back to the article."""
    if kb.public_article(get_session(), slug) is None:
        abort(404)
    helpful, solved = _form_bool("helpful"), _form_bool("solved")
    query = (request.form.get("q") or "").strip()[:QUERY_MAX]
    reason = (request.form.get("reason") or "").strip()[:REASON_MAX]
    if helpful is None and solved is None and not reason:
        abort(400, description="choose Yes or No")
    tracking.record("feedback", article=slug, helpful=helpful, solved=solved, query=query or None,
                    reason=reason or None)
    if request.accept_mimetypes.best == "application/json":
        return jsonify(vote_state(slug) or {}), 200
    return redirect(url_for("kb.article", slug=slug, q=query or None, voted=1) + "#feedback")


def vote_state(slug):
    """Return the current visitor's standing vote on the article as a dict, or None."""
    visitor = g.get("visitor_id")
    if not visitor:
        return None
    from sqlalchemy import select

    vote = get_session().scalar(select(Vote).where(Vote.visitor_id == visitor, Vote.article == slug))
    if vote is None:
        return None
    return {"helpful": vote.helpful, "solved": vote.solved, "reason": vote.reason,
            "negative": vote.helpful is False or vote.solved is False}


def _error(message, status=400, **fields):
    return jsonify(error=message, fields=fields), status


@api_bp.post("/articles/<slug>/feedback", endpoint="feedback")
def api_feedback(slug):
    """Record {"helpful", "solved"?, "query"?, "reason"?} on a published article; 201."""
    if kb.public_article(get_session(), slug) is None:
        return _error(f"no published article with slug {slug!r}", 404, slug="not found")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return _error("send a JSON object", 415 if not request.is_json else 400,
                      body="expected a JSON object such as {\"helpful\": true}")
    fields = {}
    for name in ("helpful", "solved"):
        if body.get(name) is not None and not isinstance(body[name], bool):
            fields[name] = "must be true or false"
    for name, limit in (("query", QUERY_MAX), ("reason", REASON_MAX)):
        value = body.get(name)
        if value is not None and (not isinstance(value, str) or len(value) > limit):
            fields[name] = f"must be a string of at most {limit} characters"
    if body.get("helpful") is None and body.get("solved") is None and "helpful" not in fields:
        fields["helpful"] = "required: true or false"
    if fields:
        return _error("invalid feedback", 400, **fields)
    values = {"helpful": body.get("helpful"), "solved": body.get("solved"),
              "query": (body.get("query") or "").strip() or None, "reason": body.get("reason")}
    visit_id = tracking.record("feedback", article=slug, **values)
    if visit_id is None:
        return _error("the feedback could not be recorded; please try again", 503)
    return jsonify(article=slug, helpful=values["helpful"], solved=values["solved"], recorded=True), 201


@api_bp.get("/metrics/self-service")
@token_required("lead")
def self_service():
    """The self-service figures of [from, to] (inclusive, UTC); ?grain= adds a series."""
    now = tracking.now()
    try:
        start, end = metrics.parse_range(request.args.get("from"), request.args.get("to"), now.date())
    except metrics.RangeError as exc:
        return _error(str(exc), 400, **{exc.field: str(exc)})
    grain = request.args.get("grain")
    if grain is not None and grain not in metrics.GRAINS:
        return _error("unknown grain", 400, grain=f"one of {', '.join(metrics.GRAINS)}")
    tracking.flush()  # include the events this process still holds
    session = get_session()
    out = metrics.self_service(session, start, end, now).as_dict()
    if grain:
        out["series"] = [item.as_dict() for item in metrics.series(session, start, end, grain, now)]
    out["definitions"] = {k: metrics.DEFINITIONS[k] for k in (
        "visits", "self_served", "self_served_inferred", "escalated", "tickets",
        "self_service_ratio", "self_service_ratio_with_inferred", "deflection_rate", "excluded_visits")}
    return jsonify(out)
