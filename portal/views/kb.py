"""Customer pages of the knowledge base: home, categories, articles, FAQ."""
from flask import Blueprint, abort, render_template
from sqlalchemy import select

from portal import kb, tracking
from portal.db import get_session
from portal.i18n import get_locale
from portal.models import Category

bp = Blueprint("kb", __name__)


@bp.route("/")
def home():
    """The home page: search box, categories, popular and recent articles."""
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
    session = get_session()
    art = kb.public_article(session, slug)
    if art is None:
        abort(404)
    kb.count_view(session, art)
    tracking.record_article_view(art.slug)
    return render_template(
        "kb/article.html",
        article=art,
        translations=kb.translations(session, art),
        related=kb.related_articles(session, art),
    )


@bp.route("/faq")
def faq():
    """The frequently asked questions, in the visitor's locale."""
    return render_template("kb/faq.html", articles=kb.faq_articles(get_session(), get_locale()))
