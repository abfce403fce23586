"""Admin pages for staff accounts: list, create, change role, disable and enable."""
from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for

from portal import accounts
from portal.auth import role_required
from portal.db import get_session
from portal.i18n import gettext as _
from portal.models import User
from portal.writing.forms import NewUserForm, RoleForm

bp = Blueprint("users", __name__, url_prefix="/admin/users")


def _user(user_id):
    user = get_session().get(User, user_id)
    if user is None:
        abort(404)
    return user


def _page(form, status=200, shown=None):
    """Render the users page; shown=(email, password) displays a generated password once."""
    users = accounts.list_users(get_session())
    response = make_response(render_template(
        "admin/users.html", users=users, form=form, shown=shown,
        role_forms={u.id: RoleForm(formdata=None, data={"role": u.role}) for u in users}), status)
    if shown:  # a password in the page: no cache, no back button, may keep it
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/", methods=["GET", "POST"])
@role_required("admin")
def index():
    """List the accounts and create a new one."""
    form = NewUserForm()
    if request.method == "GET":
        return _page(form)
    if not form.validate_on_submit():
        return _page(form, 400)
    password = form.password.data or accounts.generate_password()
    try:
        user = accounts.create_user(get_session(), accounts.NewUser(
            email=form.email.data, role=form.role.data, password=password, name=form.name.data or ""))
    except accounts.AccountError as exc:
        getattr(form, exc.field or "email").errors.append(_(str(exc)))
        return _page(form, 400)
    if not form.password.data:
        # Shown in this response only: a flash would keep the password in the session cookie.
        return _page(NewUserForm(formdata=None), shown=(user.email, password))
    flash(_("Account {email} created.", email=user.email))
    return redirect(url_for("users.index"))


@bp.post("/<int:user_id>/role")
@role_required("admin")
def change_role(user_id):
    """Give an account another role."""
    user, form = _user(user_id), RoleForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        accounts.set_role(get_session(), user, form.role.data)
    except accounts.AccountError as exc:
        flash(_(str(exc)))
    else:
        flash(_("{email} is now {role}.", email=user.email, role=user.role))
    return redirect(url_for("users.index"))


@bp.post("/<int:user_id>/active")
@role_required("admin")
def set_active(user_id):
    """Disable an account (it can no longer log in, its tokens stop working) or enable it again."""
    user = _user(user_id)
    active = request.form.get("active") == "1"
    try:
        accounts.set_active(get_session(), user, active)
    except accounts.AccountError as exc:
        flash(_(str(exc)))
    else:
        flash(_("{email} enabled.", email=user.email) if active else _("{email} disabled.", email=user.email))
    return redirect(url_for("users.index"))


@bp.post("/<int:user_id>/password")
@role_required("admin")
def reset_password(user_id):
    """Give an account a new generated password, shown once to the admin."""
    user = _user(user_id)
    password = accounts.generate_password()
    accounts.set_password(get_session(), user, password)
    return _page(NewUserForm(formdata=None), shown=(user.email, password))
