"""Who is asking: the logged-in staff member (session) or a Bearer token, and role checks.

A staff session holds the account's session version (portal.accounts.end_sessions raises it at
logout, a password change or reset, a role change and when the account is disabled) and the
time of its last request. A session from "remember me" lasts REMEMBER_DAYS from its last
request and survives closing the browser; any other ends with the browser, or after
SESSION_IDLE_MINUTES without a request."""
import time
from functools import wraps

from flask import abort, current_app, g, jsonify, redirect, request, session, url_for

from portal.db import get_session
from portal.models import User

_SEEN_EVERY = 60  # seconds: how stale the last-request time may get before the cookie is rewritten


def load_user():
    """Load the logged-in user into g.user (None for customers); end a session that is over."""
    g.user = None
    user_id = session.get("user_id")
    if user_id is None:
        return
    user = get_session().get(User, user_id) if isinstance(user_id, int) else None
    now = int(time.time())
    seen = session.get("seen") if isinstance(session.get("seen"), int) else 0
    idle = int(current_app.config["SESSION_IDLE_MINUTES"]) * 60
    if (user is None or not user.active or session.get("uv") != (user.session_version or 0)
            or (not session.permanent and now - seen > idle)):
        session.clear()
        return
    if now - seen > _SEEN_EVERY:
        session["seen"] = now
    g.user = user


def login_user(user, remember=False):
    """Start a fresh session for this user; remember: it outlives the browser (REMEMBER_DAYS)."""
    session.clear()
    session["user_id"] = user.id
    session["uv"] = user.session_version or 0
    session["seen"] = int(time.time())
    session.permanent = bool(remember)


def logout_user():
    """End the staff session, and every other session of the same account."""
    from portal.accounts import end_sessions

    user = g.get("user")
    if user is not None:
        end_sessions(user)
        get_session().commit()
    session.clear()


def role_required(*roles):
    """Decorate a page that needs a logged-in user with one of these roles (admin passes all)."""
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if g.get("user") is None:
                return redirect(url_for("auth.login", next=request.full_path))
            if g.user.role != "admin" and g.user.role not in roles:
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorator


def token_required(*roles):
    """Decorate a JSON endpoint that needs a Bearer token (or a staff session) of these roles."""
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            from portal.accounts import user_for_token

            user = g.get("user")
            header = request.headers.get("Authorization", "")
            if header.lower().startswith("bearer "):
                user = user_for_token(get_session(), header[7:].strip())
                if user is None:
                    return jsonify(error="invalid or revoked token", fields={}), 401
            if user is None:
                resp = jsonify(error="authentication required: send 'Authorization: Bearer <token>'", fields={})
                resp.headers["WWW-Authenticate"] = "Bearer"
                return resp, 401
            if user.role != "admin" and user.role not in roles:
                return jsonify(error=f"this endpoint needs the role {' or '.join(roles)}", fields={}), 403
            g.api_user = user
            return view(*args, **kwargs)
        return wrapped
    return decorator
