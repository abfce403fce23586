"""The public JSON API for articles (other areas add their own API blueprints)."""
from flask import Blueprint, jsonify, url_for

from portal import kb, tracking
from portal.db import get_session

bp = Blueprint("api", __name__, url_prefix="/api")


def article_json(article, translations=()):
    """Return the contract's JSON shape of an article."""
    return {
        "slug": article.slug,
        "title": article.title,
        "locale": article.locale,
        "category": article.category.slug,
        "tags": list(article.tags or ()),
        "concept": article.concept,
        "summary": article.summary,
        "html": article.html,
        "url": url_for("kb.article", slug=article.slug),
        "updated_at": article.updated_at.isoformat(),
        "translations": [
            {"slug": t.slug, "locale": t.locale, "title": t.title, "url": url_for("kb.article", slug=t.slug)}
            for t in translations
        ],
    }


@bp.get("/articles/<slug>")
def get_article(slug):
    """Return one published article as JSON (and count the view)."""
    session = get_session()
    art = kb.public_article(session, slug)
    if art is None:
        return jsonify(error=f"no published article with slug {slug!r}", fields={"slug": slug}), 404
    tracking.record_article_view(art.slug)
    return jsonify(article_json(art, kb.translations(session, art)))
