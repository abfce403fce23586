"""Staff login and logout."""
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for

from portal import accounts, auth, limits
from portal.db import get_session
from portal.forms import LoginForm
from portal.i18n import gettext as _

bp = Blueprint("auth", __name__, url_prefix="/auth")


def _safe_next(target):
    """Only follow a local path after login, never another site; 400 for a path no link has."""
    if not target:
        return None
    if any(ord(c) < 32 or ord(c) == 127 for c in target) or len(target) > 2000:
        # A line break would split the redirect's headers: only a forged link carries one.
        abort(400, description="next: not a path on this site")
    parts = urlsplit(target)
    local = not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith(("//", "/\\"))
    return target if local else None


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the login form and start a session on good credentials; failed logins per account
    and address are limited (counted in the database, so on every worker)."""
    next_url = _safe_next(request.args.get("next"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        session, rule = get_session(), limits.login_failure_rule(current_app)
        key = accounts.failure_key(current_app.secret_key, form.email.data, request.remote_addr)
        if rule and not accounts.failures_left(session, key, *rule):
            form.password.errors.append(_("Too many failed logins for this account from here. Try again later."))
            status = 429
        else:
            user = accounts.authenticate(session, form.email.data, form.password.data)
            if user is not None:
                auth.login_user(user, remember=form.remember.data)
                return redirect(next_url or url_for("kb.home"))
            if rule:
                accounts.record_failure(session, key, rule[1])
            form.password.errors.append(_("Wrong email or password, or the account is disabled."))
    if form.errors and status == 200:
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
def logout():
    """End the staff session (and the account's sessions elsewhere)."""
    auth.logout_user()
    flash(_("You are logged out."))
    return redirect(url_for("kb.home"))
