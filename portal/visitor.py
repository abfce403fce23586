"""The anonymous visitor cookie, sportello_visitor: a random id that the server issues and signs.

The value is `<id>.<state>.<signature>` (HMAC-SHA256 under the app's secret key, itsdangerous).
A value the server did not sign is replaced by a fresh id, and nothing is ever recorded under the
forged one. State `n` marks an id just issued; the first request that sends it back proves the
client keeps cookies (a browser does, most scripts do not) and gets the same id as `c`.

g.visitor_id: the id to record under; g.visitor_new: it was issued by this response;
g.visitor_returned: the client sent back a signed id (its events are confirmed);
g.visitor_first_return: ... for the first time (tracking's beacon then confirms the visit)."""
import hashlib
import secrets

from flask import current_app, g, request
from itsdangerous import BadSignature, Signer

COOKIE = "sportello_visitor"
ISSUED, RETURNED = "n", "c"
MAX_AGE = 2 * 365 * 86400


def init_app(app):
    """Read and check the visitor id from the cookie, or issue one and set it on the response."""
    keys = [*(app.config.get("SECRET_KEY_FALLBACKS") or ()), app.secret_key]  # the last one signs
    app.extensions["sportello.visitor_signer"] = Signer(keys, salt="sportello.visitor",
                                                        digest_method=hashlib.sha256)

    @app.before_request
    def _identify():
        found = read(request.cookies.get(COOKIE, ""))
        g.visitor_returned = found is not None
        g.visitor_first_return = found is not None and found[1] == ISSUED
        g.visitor_new = found is None
        g.visitor_id = found[0] if found else secrets.token_urlsafe(18)

    @app.after_request
    def _set_cookie(response):
        if g.get("visitor_new") or g.get("visitor_first_return"):
            state = ISSUED if g.get("visitor_new") else RETURNED
            response.set_cookie(COOKIE, sign(g.visitor_id, state), max_age=MAX_AGE, httponly=True,
                                samesite="Lax", secure=request.is_secure)
        return response


def sign(visitor_id, state=ISSUED):
    """The cookie value for this id and state."""
    return current_app.extensions["sportello.visitor_signer"].sign(f"{visitor_id}.{state}").decode()


def read(value):
    """(id, state) from a cookie value the server signed, else None."""
    if not value or len(value) > 200:
        return None
    try:
        raw = current_app.extensions["sportello.visitor_signer"].unsign(value).decode()
    except (BadSignature, UnicodeDecodeError):
        return None
    visitor_id, _, state = raw.rpartition(".")
    if state not in (ISSUED, RETURNED) or not 16 <= len(visitor_id) <= 64:
        return None
    return visitor_id, state
