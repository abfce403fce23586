"""Configuration in layers: built-in defaults, then SPORTELLO_* environment variables, then
the mapping given to create_app (tests). Nothing here is read at import time."""
import os
import secrets
from pathlib import Path

DEFAULTS = {
    "HOME": "instance",
    "DATABASE_URL": "",  # empty: SQLite file inside HOME
    "SECRET_KEY": "",  # empty: generated once and kept in HOME/secret_key
    "SEARCH_BACKEND": "hybrid",
    "EMBEDDING_MODEL": "e5-small-nano",  # measured best: bench/encoders.py (README)
    "LOCALES": "it,ro,en",
    "DEFAULT_LOCALE": "en",
    "RATE_LIMITS": "",  # the limiter's notation, per group (portal/limits.py); "off" disables
    "RATE_LIMIT_STORAGE": "memory://",  # per process; redis://... to share among workers
    "PROXY_FIX": 0,  # number of trusted reverse proxies setting X-Forwarded-* headers
    "SECURE_COOKIES": False,  # always mark cookies Secure (they are anyway on HTTPS requests)
    "ADMIN_EMAIL": "",
    "ADMIN_PASSWORD": "",
    "SMTP_HOST": "",
    "SMTP_PORT": 25,
    "SMTP_USER": "",
    "SMTP_PASSWORD": "",
    "SMTP_FROM": "sportello@localhost",
    "SMTP_TLS": False,
    "BASE_URL": "",  # public address of the portal, for links in e-mails (tickets); empty: http://localhost:5000
    "TICKET_RULES": "",  # path to a JSON file with ticket routing rules and SLA policies (ticketing/)
    "TICKET_AUTOCLOSE_DAYS": 7,  # solved tickets close after this many days (sportello tickets close-solved)
    "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
    "SEARCH_QUERY_MAX": 200,
    # Where embedded passages and queries are kept by text (shared by the workers, kept across
    # restarts and reindexes); empty: HOME/search/embedding-cache.
    "EMBEDDING_CACHE_DIR": "",
    "AUTO_REINDEX": True,
    # Views, clicks and searches are written in batches this often (portal.tracking.buffer);
    # 0 writes each request's events before it returns.
    "TRACKING_FLUSH_SECONDS": 1.0,
    # Public pages and search answers are cached per content generation (portal.pagecache), so a
    # publish shows at once; this bounds how long the popularity order of related and popular
    # articles may lag behind the view counters. 0 turns caching off.
    "PAGE_CACHE_SECONDS": 300,
    # The figures leave out bursts of visits from one address: more than one of these limits
    # allows, in the limiter's notation (bench/burst_rule.py tunes them; README). "off": no rule.
    "BURST_LIMITS": "5 per minute; 60 per hour",
    # A regular expression of user agents that count as visitors although the automation detector
    # flags them (the browser tests' HeadlessChrome, a trusted integration). Empty: none.
    "TRUSTED_AGENTS": "",
    # Staff sessions (portal.auth): "remember me" keeps one for this many days after its last
    # request; any other ends with the browser or after this many idle minutes.
    "REMEMBER_DAYS": 14,
    "SESSION_IDLE_MINUTES": 120,
    "TOKEN_DAYS": 90,  # API tokens expire after this many days unless created with --days 0
    "CSRF_HOURS": 12,  # a form's token is good this long after the page was shown
    # Content gaps: the cosine similarity at which failed queries stop being grouped; empty uses
    # the encoder's calibrated cut (portal/tracking/gaps.py, CUTS).
    "GAP_SIMILARITY": "",
}


def _coerce(default, raw):
    """Convert an environment string to the type of its default."""
    if isinstance(default, bool):
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    return raw


def load_config(overrides=None, environ=None):
    """Return the merged configuration: defaults, environment, then overrides."""
    environ = os.environ if environ is None else environ
    cfg = dict(DEFAULTS)
    for key, default in DEFAULTS.items():
        raw = environ.get(f"SPORTELLO_{key}")
        if raw is not None:
            try:
                cfg[key] = _coerce(default, raw)
            except ValueError as exc:
                raise ValueError(f"SPORTELLO_{key}: {exc}") from None
    cfg.update(overrides or {})
    home = Path(cfg["HOME"]).expanduser().resolve()
    cfg["HOME"] = str(home)
    if not cfg["DATABASE_URL"]:
        cfg["DATABASE_URL"] = f"sqlite:///{home / 'sportello.db'}"
    if isinstance(cfg["LOCALES"], str):
        cfg["LOCALES"] = tuple(l.strip() for l in cfg["LOCALES"].split(",") if l.strip())
    return cfg


def ensure_secret_key(cfg):
    """Use the configured secret key, else one generated once and stored in HOME."""
    if cfg.get("SECRET_KEY"):
        return cfg["SECRET_KEY"]
    path = Path(cfg["HOME"]) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    # Exclusive create: two workers starting together must agree on one key.
    try:
        with open(path, "x") as fh:
            fh.write(key)
        os.chmod(path, 0o600)
    except FileExistsError:
        key = path.read_text().strip()
    return key
