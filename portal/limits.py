"""Rate limits (Flask-Limiter) on the endpoints worth abusing: search, feedback, tickets, login.

Limits are applied by endpoint name from ENDPOINTS, so the views stay free of limiter code. A
group is one budget per client address, shared by every endpoint in it: the search page and
GET /api/search draw on the same 60 a minute. SPORTELLO_RATE_LIMITS overrides them in the
limiter's notation:

    off                                   no limits (load tests, trusted integrations)
    search=120/minute tickets=3/minute;20/hour login_failures=5 per 15 minutes
    100/minute                            one value for every group

Failed logins (login_failures, per account and address) are counted in the database, so that
the limit holds across every worker and host (portal.accounts). The other counters live in
SPORTELLO_RATE_LIMIT_STORAGE (default memory://), which is per process: with N gunicorn workers
a client gets up to N times each limit. In production with more than one worker or host, point
it at a shared store (redis://host:6379/0; README, "Production").
"""
import re
import threading
import time
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app, jsonify, render_template, request
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address
from limits import parse_many

DEFAULT_LIMITS = {
    "search": "60/minute",
    "suggest": "300/minute",  # search-as-you-type: one request per (debounced) keystroke
    "feedback": "30/minute",
    "tickets": "5/minute;30/hour",
    "login": "20/minute",
    # Password guessing: failed logins per account and client address, counted in the database.
    # Keyed on both so that nobody can lock a staff member out from elsewhere.
    "login_failures": "5 per 15 minutes",
}


@dataclass(frozen=True)
class Rule:
    """One limit group applied to an endpoint, and which methods count."""

    group: str
    methods: tuple = ()


POST = ("POST",)
# endpoint -> rules. Endpoints that do not exist (an area not installed) are skipped.
ENDPOINTS = {
    "search.search_page": (Rule("search"),),
    "search.api_search": (Rule("search"),),
    "search.api_suggest": (Rule("suggest"),),
    "tickets_api.suggest": (Rule("search"),),  # a whole search per call, like /api/search
    "tracking.feedback": (Rule("feedback", POST),),
    "tracking_api.feedback": (Rule("feedback", POST),),
    "tickets.new": (Rule("tickets", POST),),
    "tickets_api.create": (Rule("tickets", POST),),
    "auth.login": (Rule("login", POST),),
}

_ENTRY = re.compile(r"([a-z_]+)\s*=\s*(.+?)\s*(?=\b[a-z_]+\s*=|$)")


def parse_setting(raw):
    """Turn SPORTELLO_RATE_LIMITS into {group: limit string}, or None when turned off."""
    raw = (raw or "").strip()
    if raw.lower() == "off":
        return None
    limits = dict(DEFAULT_LIMITS)
    if not raw:
        return limits
    if "=" not in raw:
        parse_many(raw)  # fail early on a typo
        return {group: raw for group in limits}
    for group, value in _ENTRY.findall(raw):
        if group not in limits:
            raise ValueError(f"SPORTELLO_RATE_LIMITS: unknown group {group!r} (known: {', '.join(limits)})")
        value = value.strip().rstrip(";,")
        parse_many(value)
        limits[group] = value
    return limits


def login_failure_rule(app):
    """(failures allowed, window) of the login_failures group, or None when limits are off."""
    groups = app.extensions.get("sportello.limit_groups")
    if not groups:
        return None
    item = parse_many(groups["login_failures"])[0]
    return item.amount, timedelta(seconds=item.get_expiry())


def init_app(app):
    """Create the app's limiter from its config and limit the endpoints of ENDPOINTS."""
    groups = parse_setting(app.config.get("RATE_LIMITS"))
    app.extensions["sportello.limit_groups"] = groups
    app.config["RATELIMIT_ENABLED"] = groups is not None
    limiter = Limiter(get_remote_address, storage_uri=app.config.get("RATE_LIMIT_STORAGE") or "memory://",
                      headers_enabled=True, swallow_errors=True, key_prefix="sportello")
    limiter.init_app(app)
    app.extensions["sportello.limiter"] = limiter
    app.register_error_handler(RateLimitExceeded, _too_many_requests)
    if groups is None:
        return limiter
    bound, lock = set(), threading.Lock()

    def bind():
        # Wrap each listed view once; areas registered after this init are bound on first request.
        with lock:
            for endpoint, rules in ENDPOINTS.items():
                view = app.view_functions.get(endpoint)
                if view is None or endpoint in bound:
                    continue
                for rule in rules:
                    # One scope per group: its endpoints share the budget.
                    view = limiter.shared_limit(groups[rule.group], scope=rule.group,
                                                methods=list(rule.methods) or None,
                                                key_func=get_remote_address)(view)
                app.view_functions[endpoint] = view
                bound.add(endpoint)

    def bind_late_areas():
        if not bound >= ENDPOINTS.keys() & app.view_functions.keys():
            bind()

    bind()
    app.before_request(bind_late_areas)
    return limiter


def _too_many_requests(exc):
    """429 with Retry-After: JSON under /api/, a page otherwise."""
    limiter = current_app.extensions["sportello.limiter"]
    current = limiter.current_limit
    retry = max(1, int(current.reset_at - time.time())) if current else 60
    message = f"Too many requests ({exc.description}). Try again in {retry} seconds."
    if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
        response = jsonify(error=message, fields={}, retry_after=retry)
    else:
        exc.description = message
        response = current_app.make_response(render_template("errors/error.html", error=exc))
    response.status_code = 429
    response.headers["Retry-After"] = str(retry)
    return response
