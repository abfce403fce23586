"""Sportello's Flask application factory."""
from datetime import timedelta
from pathlib import Path

from flask import Flask, g, jsonify, render_template, request

ROOT = Path(__file__).resolve().parent.parent

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def create_app(config=None):
    """Build the portal: config layers, database, search, blueprints and CLI."""
    from portal.config import ensure_secret_key, load_config

    app = Flask(__name__, template_folder=str(ROOT / "templates"), static_folder="static")
    cfg = load_config(config)
    Path(cfg["HOME"]).mkdir(parents=True, exist_ok=True, mode=0o700)  # keys, database, sessions: the owner only
    cfg["SECRET_KEY"] = ensure_secret_key(cfg)
    app.config.update(cfg)
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", int(float(cfg["CSRF_HOURS"]) * 3600) or None)
    if "PERMANENT_SESSION_LIFETIME" not in cfg:  # Flask's own default is 31 days
        app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(days=float(cfg["REMEMBER_DAYS"]))
    # Staff menu entries: each area appends (endpoint, label, roles) in its init.
    app.extensions["sportello.nav"] = []

    from portal import auth, cli, db, i18n, pagecache, visitor

    db.init_app(app)
    pagecache.init_app(app)
    i18n.init_app(app)
    visitor.init_app(app)
    app.before_request(auth.load_user)
    from portal import security

    security.init_app(app)

    from flask_wtf.csrf import CSRFProtect

    csrf = CSRFProtect(app)

    from portal.views import api, auth as auth_views, kb

    app.register_blueprint(kb.bp)
    app.register_blueprint(auth_views.bp)
    app.register_blueprint(api.bp)
    # JSON endpoints take JSON bodies only, which a cross-site form cannot send.
    csrf.exempt(api.bp)

    from portal import writing

    writing.init_app(app)

    from portal import tracking

    tracking.init_app(app)

    from portal import tickets

    tickets.init_app(app)

    from portal import search_service

    search_service.init_app(app)

    from portal import limits, openapi, storage_errors

    openapi.init_app(app)
    storage_errors.init_app(app)
    # After the blueprints: limits are applied by endpoint name (later ones bind on first request).
    limits.init_app(app)
    app.jinja_env.globals["has_endpoint"] = lambda endpoint: endpoint in app.view_functions
    app.jinja_env.globals["nav_items"] = lambda: app.extensions["sportello.nav"]
    cli.init_app(app)
    _register_error_pages(app)
    _register_headers(app)
    return app


def _wants_json():
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def _register_error_pages(app):
    from werkzeug.exceptions import HTTPException

    @app.errorhandler(HTTPException)
    def _http_error(exc):
        if _wants_json():
            return jsonify(error=exc.description or exc.name, fields={}), exc.code
        template = "errors/404.html" if exc.code == 404 else "errors/error.html"
        return render_template(template, error=exc), exc.code

    @app.errorhandler(Exception)
    def _server_error(exc):
        app.logger.exception("unhandled error on %s", request.path)
        if _wants_json():
            return jsonify(error="internal error; it has been logged", fields={}), 500
        return render_template("errors/500.html"), 500


def _register_headers(app):
    @app.after_request
    def _security_headers(response):
        # One pass over the headers: setdefault() raised and caught a KeyError per missing header.
        present = {name.lower() for name, _ in response.headers.items()}
        for name, value in SECURITY_HEADERS.items():
            if name.lower() not in present:
                response.headers.add(name, value)
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if g.get("user") is not None and "cache-control" not in present and request.endpoint != "static":
            # A staff page holds a session's forms and whatever the account may see: never kept.
            response.headers["Cache-Control"] = "no-store"
        return response
