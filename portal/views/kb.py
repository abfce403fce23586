"""Customer pages of the knowledge base: home, categories, articles, FAQ."""
from flask import Blueprint, abort, render_template, request
from sqlalchemy import select

from portal import kb, pagecache, tracking
from portal.db import get_session
from portal.i18n import get_locale
from portal.models import Category

bp = Blueprint("kb", __name__)


@bp.route("/")
def home():
    """The home page: search box, categories, popular and recent articles."""
    if pagecache.shareable():
        return pagecache.cached(("home",), _home_page)
    return _home_page()


def _home_page():
    session, locale = get_session(), get_locale()
    return render_template(
        "kb/home.html",
        categories=kb.categories_with_counts(session, locale),
        popular=kb.popular_articles(session, locale),
        recent=kb.recent_articles(session, locale),
    )


@bp.route("/categories/<slug>")
def category(slug):
    """All published articles of one category, the visitor's locale first."""
    session = get_session()
    cat = session.scalar(select(Category).where(Category.slug == slug))
    if cat is None:
        abort(404)
    articles = kb.category_articles(session, cat, get_locale())
    if not articles:
        abort(404)
    return render_template("kb/category.html", category=cat, articles=articles)


@bp.route("/articles/<slug>")
def article(slug):
    """One article with its table of contents, translations and related articles."""
    # The page echoes ?q= and shows the visitor's vote: without either it is everyone's page.
    if pagecache.shareable() and not request.args.get("q", "").strip() and not tracking.has_voted(slug):
        found = pagecache.cached(("article", slug), lambda: _article_page(slug, shared=True))
    else:
        found = _article_page(slug)
    if found is None:
        abort(404)
    _article_id, page = found
    tracking.record_article_view(slug)
    return pagecache.fill_token(page)


def _article_page(slug, shared=False):
    """(article id, rendered page) of a published article, or None."""
    session = get_session()
    art = kb.public_article(session, slug)
    if art is None:
        return None
    return art.id, render_template(
        "kb/article.html",
        article=art,
        translations=kb.translations(session, art),
        related=kb.related_articles(session, art),
        **(pagecache.shared_context() if shared else {}),
    )


@bp.route("/faq")
def faq():
    """The frequently asked questions, in the visitor's locale."""
    return render_template("kb/faq.html", articles=kb.faq_articles(get_session(), get_locale()))
