"""Staff accounts and API tokens: creation, password checks, Bearer tokens."""
import hashlib
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from portal.models import ROLES, ApiToken, User, utcnow

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 8
# A fixed hash to compare against when the email is unknown, so that a login
# for a missing account costs the same time as one for a real account.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


class AccountError(ValueError):
    """A request about accounts that cannot be carried out; field names what is wrong."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class NewUser:
    """The values needed to create an account."""

    email: str
    role: str
    password: str
    name: str = ""


def normalize_email(email):
    """Return the email trimmed and lowercased."""
    return (email or "").strip().lower()


def create_user(session, new: NewUser):
    """Create an account; raise AccountError on a bad email, role, password or duplicate."""
    email = normalize_email(new.email)
    if not EMAIL_RE.match(email):
        raise AccountError(f"{new.email!r} is not a valid email address", "email")
    if new.role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}", "role")
    if len(new.password or "") < MIN_PASSWORD:
        raise AccountError(f"the password needs at least {MIN_PASSWORD} characters", "password")
    if session.scalar(select(User).where(User.email == email)):
        raise AccountError(f"an account for {email} already exists", "email")
    user = User(email=email, role=new.role, name=new.name or email.split("@")[0],
                password_hash=generate_password_hash(new.password), active=True)
    session.add(user)
    session.commit()
    return user


def authenticate(session, email, password):
    """Return the active user with these credentials, or None."""
    user = session.scalar(select(User).where(User.email == normalize_email(email)))
    if user is None:
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    if not check_password_hash(user.password_hash, password or "") or not user.active:
        return None
    user.last_login_at = utcnow()
    session.commit()
    return user


def set_password(session, user, password):
    """Replace a user's password; raise AccountError if it is too short."""
    if len(password or "") < MIN_PASSWORD:
        raise AccountError(f"the password needs at least {MIN_PASSWORD} characters", "password")
    user.password_hash = generate_password_hash(password)
    session.commit()


def _hash_token(token):
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(session, email, name=""):
    """Create an API token for the account and return the token text (shown once)."""
    user = session.scalar(select(User).where(User.email == normalize_email(email)))
    if user is None:
        raise AccountError(f"no account for {email}", "email")
    token = "sp_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_hash=_hash_token(token), name=name))
    session.commit()
    return token


def user_for_token(session, token):
    """Return the active user owning this unrevoked token, or None."""
    if not token:
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash_token(token)))
    if row is None or row.revoked_at is not None or not row.user.active:
        return None
    row.last_used_at = utcnow()
    session.commit()
    return row.user


def revoke_tokens(session, email):
    """Revoke every token of the account; return how many were revoked."""
    user = session.scalar(select(User).where(User.email == normalize_email(email)))
    if user is None:
        raise AccountError(f"no account for {email}", "email")
    rows = session.scalars(select(ApiToken).where(ApiToken.user_id == user.id,
                                                  ApiToken.revoked_at.is_(None))).all()
    for row in rows:
        row.revoked_at = utcnow()
    session.commit()
    return len(rows)


def ensure_first_admin(session, email, password):
    """Create the first admin from configuration when no admin exists yet; return it or None."""
    if not email or session.scalar(select(User).where(User.role == "admin")):
        return None
    if not password:
        password = secrets.token_urlsafe(12)
    user = create_user(session, NewUser(email=email, role="admin", password=password))
    return user, password


def get_user(session, email):
    """Return the account with this email; raise AccountError if there is none."""
    user = session.scalar(select(User).where(User.email == normalize_email(email)))
    if user is None:
        raise AccountError(f"no account for {email}", "email")
    return user


def list_users(session):
    """Return every account, admins first, then by email."""
    return session.scalars(select(User).order_by(User.role != "admin", User.email)).all()


def _is_last_admin(session, user):
    if user.role != "admin" or not user.active:
        return False
    others = session.scalar(select(func.count(User.id)).where(User.role == "admin", User.active.is_(True),
                                                              User.id != user.id))
    return not others


def set_role(session, user, role):
    """Change an account's role; the last active admin keeps theirs."""
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}", "role")
    if role != "admin" and _is_last_admin(session, user):
        raise AccountError("the last active admin cannot lose the admin role", "role")
    user.role = role
    session.commit()


def set_active(session, user, active):
    """Enable or disable an account; a disabled one cannot log in and its tokens stop working."""
    if not active and _is_last_admin(session, user):
        raise AccountError("the last active admin cannot be disabled", "active")
    user.active = bool(active)
    session.commit()


def change_password(session, user, current, new):
    """Replace the user's own password after checking the current one."""
    if not check_password_hash(user.password_hash, current or ""):
        raise AccountError("the current password is wrong", "current")
    set_password(session, user, new)
