"""A staff member's own account: changing the password."""
from flask import Blueprint, flash, g, redirect, render_template, url_for
from flask import session as cookie_session

from portal import accounts, auth
from portal.auth import role_required
from portal.db import get_session
from portal.i18n import gettext as _
from portal.models import ROLES
from portal.writing.forms import PasswordChangeForm

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.route("/password", methods=["GET", "POST"])
@role_required(*ROLES)
def password():
    """Change your own password (the current one is asked again)."""
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(get_session(), g.user, form.current.data, form.new.data)
        except accounts.AccountError as exc:
            getattr(form, exc.field or "new").errors.append(_(str(exc)))
        else:
            # Every session of the account ended with the change; this one goes on.
            auth.login_user(g.user, remember=cookie_session.permanent)
            flash(_("Your password has been changed. Your other sessions have ended."))
            return redirect(url_for("account.password"))
    return render_template("admin/password.html", form=form), (400 if form.errors else 200)
