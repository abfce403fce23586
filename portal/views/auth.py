"""Staff login and logout."""
from urllib.parse import urlsplit

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from portal import accounts, auth
from portal.db import get_session
from portal.forms import LoginForm
from portal.i18n import gettext as _

bp = Blueprint("auth", __name__, url_prefix="/auth")


def _safe_next(target):
    """Only follow a local path after login, never another site."""
    if not target:
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc and target.startswith("/") else None


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the login form and start a session on good credentials."""
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(get_session(), form.email.data, form.password.data)
        if user is None:
            form.password.errors.append(_("Wrong email or password, or the account is disabled."))
        else:
            auth.login_user(user)
            return redirect(_safe_next(request.args.get("next")) or url_for("kb.home"))
    return render_template("auth/login.html", form=form), (200 if not form.errors else 400)


@bp.route("/logout", methods=["POST"])
def logout():
    """End the staff session."""
    auth.logout_user()
    flash(_("You are logged out."))
    return redirect(url_for("kb.home"))
