"""The portal's UI languages: choosing the visitor's locale and translating UI strings.

Catalogs are JSON files in portal/translations/, one per area, shaped
{"it": {"English text": "testo"}, "ro": {...}}; English is the source text."""
import json
from functools import lru_cache
from pathlib import Path

from flask import current_app, g, request

CATALOGS = Path(__file__).with_name("translations")
LANG_COOKIE = "sportello_lang"
LANGUAGE_NAMES = {"it": "Italiano", "ro": "Română", "en": "English"}


@lru_cache(maxsize=1)
def _catalog():
    merged = {}
    for path in sorted(CATALOGS.glob("*.json")):
        for locale, entries in json.loads(path.read_text(encoding="utf-8")).items():
            merged.setdefault(locale, {}).update(entries)
    return merged


def select_locale():
    """Pick the UI locale: ?lang=, then the cookie, then Accept-Language, then the default."""
    locales = current_app.config["LOCALES"]
    for candidate in (request.args.get("lang"), request.cookies.get(LANG_COOKIE)):
        if candidate in locales:
            return candidate
    if "Accept-Language" not in request.headers:  # parsing an absent header still cost the parser's setup
        return current_app.config["DEFAULT_LOCALE"]
    best = request.accept_languages.best_match(locales)
    return best or current_app.config["DEFAULT_LOCALE"]


def get_locale():
    """Return the locale chosen for this request."""
    return g.get("locale") or current_app.config["DEFAULT_LOCALE"]


def gettext(text, **values):
    """Translate a UI string into the request's locale and fill its {placeholders}."""
    translated = _catalog().get(get_locale(), {}).get(text, text)
    return translated.format(**values) if values else translated


def init_app(app):
    """Choose the locale per request, remember ?lang= in a cookie, expose _() to templates."""

    @app.before_request
    def _choose_locale():
        g.locale = select_locale()

    @app.after_request
    def _remember_choice(response):
        lang = request.args.get("lang")
        if lang in app.config["LOCALES"] and request.cookies.get(LANG_COOKIE) != lang:
            response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="Lax", httponly=True)
        return response

    app.jinja_env.globals.update(_=gettext, get_locale=get_locale, LANGUAGE_NAMES=LANGUAGE_NAMES)
