"""The anonymous visitor cookie, sportello_visitor: random, no personal data."""
import re
import secrets

from flask import g, request

COOKIE = "sportello_visitor"
_VALID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def init_app(app):
    """Read the visitor id from the cookie, or make one and set it on the response."""

    @app.before_request
    def _identify():
        value = request.cookies.get(COOKIE, "")
        g.visitor_new = not _VALID.match(value)
        g.visitor_id = secrets.token_urlsafe(18) if g.visitor_new else value

    @app.after_request
    def _set_cookie(response):
        if g.get("visitor_new"):
            response.set_cookie(COOKIE, g.visitor_id, max_age=2 * 365 * 86400, httponly=True,
                                samesite="Lax", secure=request.is_secure)
        return response
