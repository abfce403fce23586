"""What the writers' dashboard lists: drafts, reviews, stale translations and reader signals."""
import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, or_, select

from portal.models import Article, utcnow
from portal.writing import revisions, translations
from portal.writing.models import ArticleRevision

log = logging.getLogger(__name__)


def my_drafts(session, user):
    """Return the drafts this user worked on, most recently changed first."""
    mine = select(ArticleRevision.article_id).where(ArticleRevision.author_id == user.id)
    return session.scalars(select(Article).where(Article.status == "draft", Article.id.in_(mine))
                           .order_by(Article.updated_at.desc())).all()


def waiting_for_review(session):
    """Return the articles waiting for review, oldest first (they have waited longest): those in
    review, and published ones with a change waiting for approval."""
    newest = (select(ArticleRevision.source).where(ArticleRevision.article_id == Article.id)
              .order_by(ArticleRevision.number.desc()).limit(1).scalar_subquery())
    waiting = or_(Article.status == "review", and_(Article.status == "published", newest == revisions.PROPOSAL))
    return session.scalars(select(Article).where(waiting).order_by(Article.updated_at)).all()


def stale_translations(session):
    """Return the translations whose source changed after they were last updated."""
    return translations.stale_translations(session)


def _guarded(what, compute):
    """Run a reader-signal query of the deflection area; None when it is missing or fails.

    Those figures come from portal.metrics and portal.tracking (another area): the writers'
    page works without them and says so, rather than showing an invented number."""
    try:
        return compute()
    except ImportError:
        return None
    except Exception:  # a broken figure must not take the writers' page down
        log.exception("writers' dashboard: %s failed", what)
        return None


def _period(days):
    today = utcnow().date()
    return today - timedelta(days=days - 1), today


@dataclass(frozen=True)
class VotedArticle:
    """An article with its "not helpful" and "helpful" votes over the period."""

    slug: str
    title: str
    article_id: int | None
    not_helpful: int
    helpful: int


def most_not_helpful(session, limit=10, days=90):
    """Return the articles with the most "not helpful" votes lately, or None when not tracked."""
    def compute():
        from portal import metrics

        votes = metrics.helpful_by_article(session, *_period(days))
        top = sorted((v for v in votes.values() if v.no > 0), key=lambda v: (-v.no, v.yes, v.article))[:limit]
        rows = {a.slug: a for a in session.scalars(select(Article).where(Article.slug.in_([v.article for v in top])))}
        return [VotedArticle(v.article, rows[v.article].title if v.article in rows else v.article,
                             rows[v.article].id if v.article in rows else None, v.no, v.yes) for v in top]
    return _guarded("not-helpful votes", compute)


def content_gaps(session, encoder_spec, limit=8, days=30):
    """Return failed searches grouped by meaning (label, size, examples), or None when not tracked."""
    def compute():
        from portal.tracking import report
        from search.encoders import get_encoder

        return report.build_gaps(session, *_period(days), get_encoder(encoder_spec))[:limit]
    return _guarded("content gaps", compute)
