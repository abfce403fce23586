"""Request hardening: JSON-only API bodies, checked before any view reads them (nesting depth, NUL
characters, lone surrogates: each answered with a 400 naming the field), Secure cookies over
HTTPS, proxies, size limits, and ids that fit the database's integers."""
import time

from flask import current_app, jsonify, request
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature
from werkzeug.exceptions import RequestEntityTooLarge, UnsupportedMediaType
from werkzeug.routing import IntegerConverter

from portal.lru import ExpiringLRU

BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_JSON_DEPTH = 32  # no request of the API nests deeper than 3
MAX_ID = 2**31 - 1  # ids and versions are 32-bit integers in PostgreSQL


class BoundedIntConverter(IntegerConverter):
    """<int:...> in URLs, up to MAX_ID: a larger number matches no route (404), never a database error."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):  # noqa: A002 (werkzeug's names)
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


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
    # Before any blueprint: routes resolve their converters when they are added.
    app.url_map.converters["int"] = BoundedIntConverter
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
    """Refuse a non-JSON body on a writing /api/ request (415), and a JSON body anywhere that is
    malformed or holds what no view should see (400 naming the field)."""
    if request.method not in BODY_METHODS:
        return None
    has_body = bool(request.content_length) or "chunked" in request.headers.get("Transfer-Encoding", "")
    if request.path.startswith("/api/"):
        if not has_body and not request.content_type:
            return None  # an empty POST carries nothing a cross-site form could forge
        if request.mimetype != "application/json" and not request.mimetype.endswith("+json"):
            raise UnsupportedMediaType("this endpoint accepts only JSON: send 'Content-Type: application/json'")
    elif not request.is_json:
        return None
    if not has_body:
        return None
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # the parser recurses: thousands of [ are a stack overflow, not a ValueError
        body, problem = None, ("body", f"is nested deeper than {MAX_JSON_DEPTH} levels")
    else:
        problem = None if body is None else bad_json_value(body)
    if body is None and problem is None:
        return jsonify(error="the body is not valid JSON", fields={"body": "not valid JSON"}), 400
    if problem is not None:
        field, what = problem
        return jsonify(error=f"{field} {what}", fields={field: what}), 400
    return None


def bad_json_value(value):
    """(field, what is wrong) for the first value of a JSON body no view should see: nesting over
    MAX_JSON_DEPTH, a NUL character, a lone surrogate (\\ud800: no encoding can store it). None if
    all is well. Iterative: a deep body must not overflow this check either."""
    stack = [("body", value, 0)]
    while stack:
        path, item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return "body", f"is nested deeper than {MAX_JSON_DEPTH} levels"
        if isinstance(item, str):
            if "\x00" in item:
                return path, "contains a NUL character (\\x00)"
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return path, "contains a lone surrogate (an invalid \\u escape)"
        elif isinstance(item, dict):
            for key, child in item.items():
                name = key if depth == 0 and isinstance(key, str) else f"{path}.{key}"
                stack.append(("body", key, depth + 1))
                stack.append((name[:100], child, depth + 1))
        elif isinstance(item, list):
            stack.extend((f"{path}[{n}]", child, depth + 1) for n, child in enumerate(item))
    return None


def reject_nul_characters():
    """Refuse NUL characters in the path, the query string and form fields (400): no text needs
    them, PostgreSQL cannot store them, and they would otherwise surface as a 500 deep inside a
    save. (JSON bodies: require_json_body.)"""
    found = "\x00" in request.path or any("\x00" in v for v in request.args.values())
    if not found and request.method in BODY_METHODS and \
            request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        found = any("\x00" in v for v in request.form.values())
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
