"""Request hardening: JSON-only API bodies, Secure cookies over HTTPS, proxies, size limits."""
import time

from flask import current_app, jsonify, request
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature
from werkzeug.exceptions import RequestEntityTooLarge, UnsupportedMediaType

from portal.lru import ExpiringLRU

BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class SchemeAwareSessionInterface(SecureCookieSessionInterface):
    """Marks the session cookie Secure whenever the request came over HTTPS, and remembers the
    cookies it has verified lately: checking the signature and decoding the payload again on
    each of a visitor's requests cost a sixth of a cached page."""

    def __init__(self):
        self._serializers = {}
        self._verified = ExpiringLRU(60, size=10_000)

    def open_session(self, app, request):
        """The request's session; a cookie verified in the last minute is not verified again."""
        cookie = request.cookies.get(self.get_cookie_name(app))
        serializer = self.get_signing_serializer(app)
        if not cookie or serializer is None:
            return super().open_session(app, request)
        max_age = int(app.permanent_session_lifetime.total_seconds())
        # The cookie text with the keys that verified it: rotating the secret key forgets it.
        key = (cookie, app.secret_key)
        kept = self._verified.get(key)
        if kept is None:
            try:
                data, signed_at = serializer.loads(cookie, max_age=max_age, return_timestamp=True)
            except BadSignature:
                return self.session_class()
            kept = (data, signed_at.timestamp())
            if all(isinstance(v, (str, int, float, bool, type(None))) for v in data.values()):
                self._verified.put(key, kept)  # a list or dict in it would be shared between requests
        data, signed_at = kept
        if time.time() - signed_at > max_age:
            return self.session_class()
        return self.session_class(data)

    def get_signing_serializer(self, app):
        """Flask's serializer, built once per set of keys instead of twice per request (its
        constructor also test-serializes a value): a tenth of a small page's time."""
        if not app.secret_key:
            return None
        keys = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        serializer = self._serializers.get(keys)
        if serializer is None:
            serializer = self._serializers[keys] = super().get_signing_serializer(app)
        return serializer

    def get_cookie_secure(self, app):
        """Secure when configured so, or when this request is HTTPS (behind ProxyFix too)."""
        return bool(app.config["SESSION_COOKIE_SECURE"] or _is_https())


def _is_https():
    from flask import has_request_context

    return has_request_context() and request.is_secure


def init_app(app):
    """Install the proxy fix, the session interface and the request/response checks."""
    proxies = int(app.config.get("PROXY_FIX") or 0)
    if proxies:
        # Behind N trusted reverse proxies, take scheme, host and client address from their
        # X-Forwarded-* headers, so that Secure cookies and per-IP limits see the real client.
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies,
                                x_port=proxies, x_prefix=proxies)
    app.config["SESSION_COOKIE_SECURE"] = bool(app.config.get("SECURE_COOKIES"))
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.session_interface = SchemeAwareSessionInterface()
    app.before_request(require_json_body)
    app.before_request(reject_nul_characters)
    # after_request hooks run in reverse order: first in the list runs last, after every
    # other hook has set its cookies.
    app.after_request_funcs.setdefault(None, []).insert(0, secure_cookies)
    app.register_error_handler(RequestEntityTooLarge, _too_large)


def require_json_body():
    """Refuse a non-JSON or malformed body on a writing /api/ request (415 / 400)."""
    if not request.path.startswith("/api/") or request.method not in BODY_METHODS:
        return None
    has_body = bool(request.content_length) or "chunked" in request.headers.get("Transfer-Encoding", "")
    if not has_body and not request.content_type:
        return None  # an empty POST carries nothing a cross-site form could forge
    if request.mimetype != "application/json" and not request.mimetype.endswith("+json"):
        raise UnsupportedMediaType("this endpoint accepts only JSON: send 'Content-Type: application/json'")
    if has_body and request.get_json(silent=True) is None:
        return jsonify(error="the body is not valid JSON", fields={}), 400
    return None


def _has_nul(value):
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def reject_nul_characters():
    """Refuse NUL characters anywhere in the request (400): no text needs them, PostgreSQL cannot
    store them, and they would otherwise surface as a 500 deep inside a save."""
    found = "\x00" in request.path or any(_has_nul(v) for v in request.args.values())
    if not found and request.method in BODY_METHODS:
        if request.is_json:
            found = _has_nul(request.get_json(silent=True))
        elif request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            found = any(_has_nul(v) for v in request.form.values())
    if not found:
        return None
    message = "the request contains a NUL character (\\x00), which is not allowed"
    if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
        return jsonify(error=message, fields={}), 400
    from werkzeug.exceptions import BadRequest

    raise BadRequest(message)


def secure_cookies(response):
    """Add Secure to every cookie set on an HTTPS response (or always, when configured)."""
    if not (_is_https() or current_app.config["SESSION_COOKIE_SECURE"]):
        return response
    cookies = response.headers.getlist("Set-Cookie")
    if any("; secure" not in c.lower() for c in cookies):
        response.headers.remove("Set-Cookie")
        for cookie in cookies:
            response.headers.add("Set-Cookie", cookie if "; secure" in cookie.lower() else cookie + "; Secure")
    return response


def _too_large(exc):
    """A clear 413 that says what the limit is."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
    message = f"the request is too large: the limit is {limit // 1024} KiB"
    if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
        return jsonify(error=message, fields={}), 413
    from flask import render_template

    exc.description = message
    return render_template("errors/error.html", error=exc), 413
