"""Who is asking: the logged-in staff member (session) or a Bearer token, and role checks."""
from functools import wraps

from flask import abort, g, jsonify, redirect, request, session, url_for

from portal.db import get_session
from portal.models import User


def load_user():
    """Load the logged-in user into g.user (None for customers)."""
    g.user = None
    user_id = session.get("user_id")
    if user_id is not None:
        user = get_session().get(User, user_id)
        if user is not None and user.active:
            g.user = user
        else:
            session.pop("user_id", None)


def login_user(user):
    """Start a fresh session for this user."""
    session.clear()
    session["user_id"] = user.id
    session.permanent = True


def logout_user():
    """End the staff session."""
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
