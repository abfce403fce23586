"""Article revisions: record a snapshot on every save, list them, and diff any two."""
import difflib
import hashlib
import re
from dataclasses import dataclass

from sqlalchemy import func, select

from portal.content import ArticleData, dump_article
from portal.kb import to_data
from portal.writing.models import ArticleRevision


def content_hash(title, summary, body):
    """Return a hash of the text a translator works from (title, summary, body)."""
    raw = "\x1f".join((title or "", summary or "", body or ""))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def latest(session, article_id):
    """Return the newest revision of the article, or None."""
    return session.scalar(select(ArticleRevision).where(ArticleRevision.article_id == article_id)
                          .order_by(ArticleRevision.number.desc()).limit(1))


def record(session, article, author=None, note="", source="editor"):
    """Add a revision holding the article's current fields; the caller commits."""
    return record_data(session, article, to_data(article), author, note, source)


def record_data(session, article, data, author=None, note="", source="editor"):
    """Add a revision of the article holding `data` (a proposal: not the article's current
    fields); the caller commits."""
    session.flush()
    number = (session.scalar(select(func.max(ArticleRevision.number))
                             .where(ArticleRevision.article_id == article.id)) or 0) + 1
    revision = ArticleRevision(
        article_id=article.id, number=number, article_version=article.version or 0,
        author_id=author.id if author is not None else None, source=source, note=(note or "")[:500],
        title=data.title, slug=data.slug, locale=data.locale, category=data.category,
        tags=list(data.tags), concept=data.concept, status=data.status, summary=data.summary,
        body=data.body, extra=dict(data.extra),
    )
    session.add(revision)
    session.flush()
    return revision


def ensure_baseline(session, article):
    """Record the article as it is when it has no revision yet (e.g. imported before revisions)."""
    if latest(session, article.id) is None:
        record(session, article, note="state before the first recorded change", source="baseline")


def history(session, article_id):
    """Return the article's revisions, newest first."""
    return session.scalars(select(ArticleRevision).where(ArticleRevision.article_id == article_id)
                           .order_by(ArticleRevision.number.desc())).all()


def get(session, article_id, number):
    """Return one revision of the article, or None."""
    return session.scalar(select(ArticleRevision).where(ArticleRevision.article_id == article_id,
                                                        ArticleRevision.number == number))


def for_version(session, article_id, version):
    """Return the revision saved at this article version, or None."""
    return session.scalar(select(ArticleRevision).where(ArticleRevision.article_id == article_id,
                                                        ArticleRevision.article_version == version)
                          .order_by(ArticleRevision.number.desc()).limit(1))


PROPOSAL = "proposal"  # the source of a revision that changes a published article once approved


def pending(session, article):
    """The change to a published article that waits for approval (its newest revision, when that
    is a proposal), or None."""
    if not article.is_public:
        return None
    last = latest(session, article.id)
    return last if last is not None and last.source == PROPOSAL else None


def authors_since_published(session, article_id):
    """Return the ids of accounts that changed the article since it was last published."""
    revisions = session.scalars(select(ArticleRevision).where(ArticleRevision.article_id == article_id)
                                .order_by(ArticleRevision.number)).all()
    authors = set()
    for rev in revisions:
        if rev.status == "published":
            authors = set()
        elif rev.author_id is not None:
            authors.add(rev.author_id)
    return authors


def to_article_data(revision):
    """Return a revision's snapshot as ArticleData."""
    return ArticleData(
        title=revision.title, slug=revision.slug, locale=revision.locale, category=revision.category,
        body=revision.body, tags=tuple(revision.tags or ()), concept=revision.concept,
        status=revision.status, summary=revision.summary or "", extra=dict(revision.extra or {}),
    )


def as_text(item):
    """Return a revision, an article or ArticleData as the article file it would export to."""
    if isinstance(item, ArticleRevision):
        item = to_article_data(item)
    elif not isinstance(item, ArticleData):
        item = to_data(item)
    return dump_article(item)


@dataclass(frozen=True)
class DiffLine:
    """One line of a unified diff: kind is equal, del, ins or gap; parts mark changed words."""

    kind: str
    old_no: int | None
    new_no: int | None
    parts: tuple  # ((changed, text), ...)


_WORDS = re.compile(r"\s+|\w+|[^\w\s]", re.UNICODE)


def _word_parts(old, new):
    """Mark the words that differ between two versions of one line."""
    a, b = _WORDS.findall(old), _WORDS.findall(new)
    old_parts, new_parts = [], []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if i2 > i1:
            old_parts.append((tag != "equal", "".join(a[i1:i2])))
        if j2 > j1:
            new_parts.append((tag != "equal", "".join(b[j1:j2])))
    return tuple(old_parts), tuple(new_parts)


def diff(old_text, new_text, context=3):
    """Return the unified diff of two texts as DiffLines (empty when they are equal)."""
    a, b = old_text.splitlines(), new_text.splitlines()
    lines = []
    groups = difflib.SequenceMatcher(None, a, b, autojunk=False).get_grouped_opcodes(context)
    for index, group in enumerate(groups):
        if index:
            lines.append(DiffLine("gap", None, None, ((False, "…"),)))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                lines.extend(DiffLine("equal", i1 + k + 1, j1 + k + 1, ((False, a[i1 + k]),))
                             for k in range(i2 - i1))
                continue
            paired = min(i2 - i1, j2 - j1) if tag == "replace" else 0
            dels, inss = [], []
            for k in range(i2 - i1):
                parts = ((True, a[i1 + k]),)
                if k < paired:
                    parts = _word_parts(a[i1 + k], b[j1 + k])[0]
                dels.append(DiffLine("del", i1 + k + 1, None, parts))
            for k in range(j2 - j1):
                parts = ((True, b[j1 + k]),)
                if k < paired:
                    parts = _word_parts(a[i1 + k], b[j1 + k])[1]
                inss.append(DiffLine("ins", None, j1 + k + 1, parts))
            lines.extend(dels + inss)
    return lines
