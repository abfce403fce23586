"""Staff accounts and API tokens: creation, password and email rules, sessions, Bearer tokens,
and the login failures counted per account and address."""
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete, func, select
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn

from portal.models import ROLES, ApiToken, LoginFailure, User, utcnow

MIN_PASSWORD, MAX_PASSWORD = 10, 200
# zxcvbn's score: 3 means about 10^8 guesses or more, far beyond what the login limits let
# anyone try; common passwords, keyboard walks and ones made of the email score lower.
MIN_SCORE = 3
_ZXCVBN_MAX = 72  # zxcvbn refuses longer input; the first 72 characters decide
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


def check_email(email):
    """Return the address normalized, or raise AccountError: the one rule for the command line
    and every form (email-validator's syntax check; no DNS lookup)."""
    text = normalize_email(email)
    try:
        return validate_email(text, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise AccountError(f"{(email or '').strip()[:254]!r} is not a valid email address", "email") from None


def check_password(password, email="", name=""):
    """Raise AccountError when the password is too short, too long, common, or made from the
    account's email or name (zxcvbn)."""
    password = password or ""
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password needs at least {MIN_PASSWORD} characters", "password")
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"the password may have at most {MAX_PASSWORD} characters", "password")
    local, _, domain = normalize_email(email).partition("@")
    hints = [w for w in (email, local, *local.replace("_", ".").replace("-", ".").split("."),
                         *domain.split("."), name, "sportello") if w]
    if zxcvbn(password[:_ZXCVBN_MAX], user_inputs=hints)["score"] < MIN_SCORE:
        raise AccountError("the password is too easy to guess: it is common or made from your email or "
                           "name; try three or four unrelated words", "password")


def create_user(session, new: NewUser):
    """Create an account; raise AccountError on a bad email, role, password or duplicate."""
    email = check_email(new.email)
    if new.role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}", "role")
    check_password(new.password, email, new.name)
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
    """Replace a user's password (it must pass check_password) and end the account's sessions."""
    check_password(password, user.email, user.name)
    user.password_hash = generate_password_hash(password)
    end_sessions(user)
    session.commit()


def end_sessions(user):
    """End every session of the account, on every device, at its next request; the caller commits."""
    user.session_version = (user.session_version or 0) + 1


def _hash_token(token):
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


TOKEN_DAYS = 90


def create_token(session, email, name="", days=TOKEN_DAYS):
    """Create an API token for the account and return the token text (shown once); it expires
    after `days` (0 or None: never)."""
    user = session.scalar(select(User).where(User.email == normalize_email(email)))
    if user is None:
        raise AccountError(f"no account for {email}", "email")
    if days is not None and not 0 <= days <= 3650:
        raise AccountError("a token lives between 1 and 3650 days (0: until revoked)", "days")
    token = "sp_" + secrets.token_urlsafe(32)
    expires = utcnow() + timedelta(days=days) if days else None
    session.add(ApiToken(user_id=user.id, token_hash=_hash_token(token), name=(name or "")[:100],
                         expires_at=expires))
    session.commit()
    return token


def _expired(row, now):
    if row.expires_at is None:
        return False
    expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=now.tzinfo)
    return expires <= now


def user_for_token(session, token):
    """Return the active user owning this unrevoked, unexpired token, or None."""
    if not token or len(token) > 200:
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash_token(token)))
    if row is None or row.revoked_at is not None or not row.user.active or _expired(row, utcnow()):
        return None
    row.last_used_at = utcnow()
    session.commit()
    return row.user


def revoke_tokens(session, email):
    """Revoke every token of the account; return how many were revoked."""
    user = session.scalar(select(User).where(User.email == normalize_email(email)))
    if user is None:
        raise AccountError(f"no account for {email}", "email")
    count = _revoke_all(session, user)
    session.commit()
    return count


def _revoke_all(session, user):
    rows = session.scalars(select(ApiToken).where(ApiToken.user_id == user.id,
                                                  ApiToken.revoked_at.is_(None))).all()
    for row in rows:
        row.revoked_at = utcnow()
    return len(rows)


def ensure_first_admin(session, email, password):
    """Create the first admin from configuration when no admin exists yet; return it or None."""
    if not email or session.scalar(select(User).where(User.role == "admin")):
        return None
    if not password:
        password = generate_password()
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
    if user.role != role:
        user.role = role
        end_sessions(user)  # pages opened under the old role must not stay open
    session.commit()


def set_active(session, user, active):
    """Enable or disable an account. Disabling ends its sessions and revokes its API tokens for
    good: enabling it again gives back the login, not the old tokens."""
    if not active and _is_last_admin(session, user):
        raise AccountError("the last active admin cannot be disabled", "active")
    if not active:
        end_sessions(user)
        _revoke_all(session, user)
    user.active = bool(active)
    session.commit()


def generate_password():
    """A random password shown once (about 96 bits)."""
    return secrets.token_urlsafe(12)


# --- login failures ------------------------------------------------------------------------

def failure_key(secret, email, address):
    """The key failed logins are counted under: the account and the client address, hashed."""
    raw = f"{normalize_email(email)}|{address or ''}".encode()
    return hmac.new(str(secret).encode(), raw, hashlib.sha256).hexdigest()


def failures_left(session, key, limit, window: timedelta, now=None):
    """How many more failures the key may have within the window (0: refuse the login)."""
    now = now or utcnow()
    count = session.scalar(select(func.count()).select_from(LoginFailure)
                           .where(LoginFailure.key == key, LoginFailure.at > now - window))
    return max(0, limit - int(count or 0))


def record_failure(session, key, window: timedelta, now=None):
    """Count one failed login (and forget those older than the window); commits."""
    now = now or utcnow()
    session.add(LoginFailure(key=key, at=now))
    session.execute(delete(LoginFailure).where(LoginFailure.at <= now - window))
    session.commit()


def change_password(session, user, current, new):
    """Replace the user's own password after checking the current one."""
    if not check_password_hash(user.password_hash, current or ""):
        raise AccountError("the current password is wrong", "current")
    set_password(session, user, new)
