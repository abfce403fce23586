"""Translations: articles sharing a concept, which one a translation follows, and staleness."""
from dataclasses import dataclass

from sqlalchemy import select

from portal import kb
from portal.models import Article, utcnow
from portal.writing import revisions
from portal.writing.models import TranslationLink


def siblings(session, article):
    """Return every other article of the same concept, whatever its status."""
    return kb.translations(session, article, public_only=False)


def link_of(session, article):
    """Return the link saying which article this one translates, or None."""
    return session.get(TranslationLink, article.id)


def _source_state(session, source):
    rev = revisions.latest(session, source.id)
    return revisions.content_hash(source.title, source.summary, source.body), (rev.number if rev else 0)


def set_source(session, translation, source):
    """Make translation follow source (or follow nothing when source is None), in sync from now."""
    link = link_of(session, translation)
    if source is None:
        if link is not None:
            session.delete(link)
        return None
    if source.id == translation.id:
        raise ValueError("an article cannot be a translation of itself")
    if link is None:
        link = TranslationLink(translation_id=translation.id)
        session.add(link)
    link.source_id = source.id
    mark_synced(session, translation, link)
    return link


def mark_synced(session, translation, link=None):
    """Record that the translation now matches its source's current text."""
    link = link or link_of(session, translation)
    if link is None:
        return
    source = session.get(Article, link.source_id)
    link.source_content, link.source_revision = _source_state(session, source)
    link.synced_at = utcnow()


def is_stale(session, article):
    """True when the article's source changed its text after the article was last saved."""
    link = link_of(session, article)
    if link is None:
        return False
    source = session.get(Article, link.source_id)
    return link.source_content != revisions.content_hash(source.title, source.summary, source.body)


@dataclass(frozen=True)
class StaleTranslation:
    """A translation whose source changed since, with the source revision it last matched."""

    translation: Article
    source: Article
    synced_revision: int


def stale_translations(session):
    """Return every translation whose source text changed after it was last updated."""
    rows = session.execute(select(TranslationLink, Article)
                           .join(Article, Article.id == TranslationLink.source_id)).all()
    stale = []
    for link, source in rows:
        if link.source_content != revisions.content_hash(source.title, source.summary, source.body):
            stale.append(StaleTranslation(session.get(Article, link.translation_id), source,
                                          link.source_revision))
    stale.sort(key=lambda s: (s.translation.locale, s.translation.title))
    return stale


def stale_of(session, article):
    """Return the StaleTranslation for this article, or None when it is up to date."""
    link = link_of(session, article)
    if link is None or not is_stale(session, article):
        return None
    return StaleTranslation(article, session.get(Article, link.source_id), link.source_revision)


def translations_of(session, source):
    """Return the articles that follow this one as translations."""
    return session.scalars(select(Article).join(TranslationLink, TranslationLink.translation_id == Article.id)
                           .where(TranslationLink.source_id == source.id).order_by(Article.locale)).all()
