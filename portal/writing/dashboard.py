"""What the writers' dashboard lists: drafts, reviews, stale translations and reader signals."""
import logging

from sqlalchemy import select

from portal.models import Article
from portal.writing import translations
from portal.writing.models import ArticleRevision

log = logging.getLogger(__name__)


def my_drafts(session, user):
    """Return the drafts this user worked on, most recently changed first."""
    mine = select(ArticleRevision.article_id).where(ArticleRevision.author_id == user.id)
    return session.scalars(select(Article).where(Article.status == "draft", Article.id.in_(mine))
                           .order_by(Article.updated_at.desc())).all()


def waiting_for_review(session):
    """Return the articles waiting for review, oldest first (they have waited longest)."""
    return session.scalars(select(Article).where(Article.status == "review")
                           .order_by(Article.updated_at)).all()


def stale_translations(session):
    """Return the translations whose source changed after they were last updated."""
    return translations.stale_translations(session)


def _optional(name, *args, **kwargs):
    """Call a reader-signal function of the deflection area if it exists; None otherwise.

    Those figures come from portal.metrics, written by another area: the dashboard works
    without them and says so, rather than showing an invented number."""
    try:
        from portal import metrics
    except ImportError:
        return None
    func = getattr(metrics, name, None)
    if func is None:
        return None
    try:
        return func(*args, **kwargs)
    except Exception:  # a broken figure must not take the writers' page down
        log.exception("metrics.%s failed on the writers' dashboard", name)
        return None


def most_not_helpful(session, limit=10):
    """Return the articles with the most "not helpful" votes, or None when not tracked yet."""
    return _optional("most_not_helpful", session, limit=limit)


def content_gaps(session, limit=10):
    """Return the content gaps (failed searches grouped by meaning), or None when not available."""
    return _optional("content_gaps", session, limit=limit)
