"""The search page, search-as-you-type and the JSON search API (CONTRACT.md)."""
from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, render_template, request, url_for
from sqlalchemy import select

from portal import pagecache, tracking
from portal.i18n import get_locale
from portal.search_service import MODES

bp = Blueprint("search", __name__)

MAX_LIMIT = 50
MAX_PAGE = 100


class BadParams(ValueError):
    """Invalid query parameters, by field."""

    def __init__(self, fields: dict):
        super().__init__("invalid parameters")
        self.fields = fields


def _service():
    return current_app.extensions["sportello.search"]


def _params(args, default_limit=10) -> dict:
    """Validated search parameters from a query string; raises BadParams naming the fields."""
    errors, out = {}, {}
    out["q"] = (args.get("q") or "").strip()
    max_len = current_app.config.get("SEARCH_QUERY_MAX", 200)
    if len(out["q"]) > max_len:
        out["q"] = out["q"][:max_len]          # cut, not refused: a long paste still searches
    mode = args.get("mode") or _service().mode
    if mode not in MODES:
        errors["mode"] = f"must be one of {', '.join(MODES)}"
    out["mode"] = mode
    locale = args.get("locale") or None
    if locale and locale not in current_app.config["LOCALES"]:
        errors["locale"] = f"must be one of {', '.join(current_app.config['LOCALES'])}"
    out["locale"] = locale
    out["category"] = args.get("category") or None
    for name, default, hi in (("limit", default_limit, MAX_LIMIT), ("page", 1, MAX_PAGE)):
        raw = args.get(name)
        try:
            value = int(raw) if raw not in (None, "") else default
            if not 1 <= value <= hi:
                raise ValueError
            out[name] = value
        except ValueError:
            errors[name] = f"must be a whole number from 1 to {hi}"
    if errors:
        raise BadParams(errors)
    return out


@bp.errorhandler(BadParams)
def _bad_params(exc):
    if request.path.startswith("/api/"):
        return jsonify(error="invalid parameters", fields=exc.fields), 400
    return render_template("search/results.html", answer=None, params={}, errors=exc.fields,
                           categories=_categories(), modes=MODES, related=[], ticket_url=None,
                           show_modes=_is_staff()), 400


def _categories():
    from portal import db
    from portal.models import Category

    return list(db.get_session().scalars(select(Category).order_by(Category.position, Category.name)))


def _related(answer, locale):
    """For a search without an answer: up to three articles near it, in the visitor's language."""
    if not answer.query or answer.answered:
        return []
    return list(_service().related(answer.query, locale=locale or get_locale(), limit=3))


def _ticket_url(query):
    if "tickets.new" in current_app.view_functions:
        return url_for("tickets.new", q=query or None)
    return None


@bp.get("/search")
def search_page():
    """The results page: query kept in the box, filters, mode, pagination, suggestion."""
    params = _params(request.args)
    if pagecache.shareable():  # the page depends on the parameters only (and the content)
        key = ("search", *(params[name] for name in ("q", "mode", "locale", "category", "limit", "page")))
        page, total, mode, answered = pagecache.cached(key, lambda: _results_page(params))
    else:
        page, total, mode, answered = _results_page(params)
    if params["q"] and params["page"] == 1:  # a further page is the same search
        tracking.record_search(params["q"], total, mode=mode, locale=params["locale"], answered=answered)
    return page


def _results_page(params):
    """(rendered page, total, mode, answered) of a search; all but the page are None without a query."""
    # Without an explicit language filter, translations fold under the visitor's language.
    prefer = None if params["locale"] else get_locale()
    answer = _service().search(params["q"], params["mode"], params["locale"], params["category"],
                               params["limit"], params["page"], prefer=prefer) if params["q"] else None
    related = _related(answer, params["locale"]) if answer is not None else []
    page = render_template("search/results.html", answer=answer, params=params, errors={},
                           categories=_categories(), modes=MODES, related=related,
                           ticket_url=_ticket_url(params["q"]), show_modes=_is_staff())
    if answer is None:
        return page, None, None, None
    return page, answer.total, answer.mode, answer.answered


def _is_staff():
    """Staff may pick the engine (?mode=); customers never see it."""
    return g.get("user") is not None


@bp.get("/api/search")
def api_search():
    """JSON search exactly as CONTRACT.md describes (plus page, limit and note)."""
    params = _params(request.args)
    prefer = request.args.get("prefer") or None  # opt-in folding for API clients
    if prefer and prefer not in current_app.config["LOCALES"]:
        return jsonify(error="invalid parameters", fields={"prefer": "unknown locale"}), 400
    answer = _service().search(params["q"], params["mode"], params["locale"], params["category"],
                               params["limit"], params["page"], prefer=prefer)
    if params["q"] and params["page"] == 1:  # a further page is the same search
        tracking.record_search(params["q"], answer.total, mode=answer.mode, locale=params["locale"],
                               answered=answer.answered)
    return jsonify({
        "query": answer.query, "mode": answer.mode, "total": answer.total, "took_ms": answer.took_ms,
        "suggestion": answer.suggestion, "answered": answer.answered, "page": answer.page,
        "limit": answer.limit, "note": answer.note,
        "results": [{"slug": r.slug, "title": r.title, "locale": r.locale, "category": r.category,
                     "url": r.url, "snippet": r.snippet, "score": r.score, "confidence": r.confidence,
                     "also_in": [{"locale": loc, "slug": slug} for loc, slug in r.also_in]}
                    for r in answer.rows],
    })


@bp.get("/api/suggest")
def api_suggest():
    """Search-as-you-type: titles holding the typed words, the visitor's language first (?locale=,
    else the UI's); translations fold into one entry."""
    q = (request.args.get("q") or "").strip()
    locale = request.args.get("locale") or None
    if locale and locale not in current_app.config["LOCALES"]:
        return jsonify(error="invalid parameters", fields={"locale": "unknown locale"}), 400
    rows = _service().suggest(q, locale or get_locale()) if q else []
    return jsonify({"suggestions": [{"slug": r.slug, "title": r.title, "url": r.url, "locale": r.locale}
                                    for r in rows]})
