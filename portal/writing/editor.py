"""Saving articles from the editor: validation, optimistic locking, revisions, translations."""
from dataclasses import dataclass, replace

from sqlalchemy import select

from portal import content, kb
from portal.content import (MAX_BODY, SLUG_RE, ArticleData, ArticleFormatError, RenderTooSlow,
                            render_bounded, slugify, validate)
from portal.models import Article
from portal.writing import revisions, translations
from portal.writing.indexing import reindex


@dataclass(frozen=True)
class ArticleInput:
    """What a writer typed into the editor."""

    title: str
    slug: str
    locale: str
    category: str
    body: str
    tags: tuple = ()
    concept: str = ""
    summary: str = ""
    note: str = ""
    source_slug: str = ""  # the article this one translates; "" for none


class EditorError(ValueError):
    """The input cannot be saved; errors maps a field (or None) to (message, values)."""

    def __init__(self, errors):
        super().__init__("; ".join(msg.format(**values) for msg, values in errors.values()))
        self.errors = errors


class ConflictError(Exception):
    """Someone saved the article after this writer loaded it."""

    def __init__(self, article, base, current):
        super().__init__(f"article {article.slug} changed since version {base.article_version if base else '?'}")
        self.article = article
        self.base = base          # the revision this writer started from (None if unknown)
        self.current = current    # the revision now stored


def parse_tags(text):
    """Split a comma-separated tag field into a tuple of tags."""
    return tuple(t.strip() for t in (text or "").split(",") if t.strip())


def _check(session, inp, locales, article=None, status="draft", extra=None):
    """Turn the input into ArticleData or raise EditorError with every problem found."""
    errors = {}
    title = (inp.title or "").strip()
    slug = (inp.slug or "").strip() or (slugify(title) if title else "")
    if not title:
        errors["title"] = ("A title is required.", {})
    if slug and not SLUG_RE.match(slug):
        errors["slug"] = ("Use only letters, digits, '-' and '_' in the slug.", {})
    elif slug:
        other = session.scalar(select(Article).where(Article.slug == slug))
        if other is not None and (article is None or other.id != article.id):
            errors["slug"] = ("The slug {slug} is already used by \"{title}\".", {"slug": slug, "title": other.title})
        elif article is not None and article.status == "published" and slug != article.slug:
            errors["slug"] = ("A published article keeps its slug, so that links to it keep working.", {})
    if inp.locale not in locales:
        errors["locale"] = ("Choose one of the languages: {locales}.", {"locales": ", ".join(locales)})
    if not (inp.body or "").strip():
        errors["body"] = ("The body is empty.", {})
    elif len(inp.body) > MAX_BODY:
        errors["body"] = ("The body may have at most {max} characters.", {"max": MAX_BODY})
    if errors:
        raise EditorError(errors)
    meta = {"title": title, "slug": slug, "locale": inp.locale, "category": inp.category or "general",
            "tags": list(inp.tags), "concept": (inp.concept or "").strip() or None, "status": status,
            "summary": inp.summary or ""}
    try:
        data = validate(meta, inp.body, locales)
    except ArticleFormatError as exc:
        raise EditorError({None: (str(exc), {})}) from None
    check_renders(data.body)
    return replace(data, extra=dict(extra or {}))


def check_renders(body):
    """Raise EditorError on the body when its markdown takes too long to render (content.RENDER_SECONDS)."""
    try:
        render_bounded(body)
    except RenderTooSlow:
        raise EditorError({"body": (SLOW_BODY, {"seconds": f"{content.RENDER_SECONDS:g}"})}) from None
    except ArticleFormatError as exc:
        raise EditorError({"body": (str(exc), {})}) from None


SLOW_BODY = "The body takes more than {seconds} s to display; simplify its links and emphasis."


def _source(session, inp, article=None):
    """Return the article named as the source of a translation, or None."""
    if not inp.source_slug:
        return None
    source = session.scalar(select(Article).where(Article.slug == inp.source_slug))
    if source is None or (article is not None and source.id == article.id):
        raise EditorError({"source_slug": ("Choose an existing article in another language.", {})})
    return source


def _link_source(session, article, source, author):
    """Link a translation to its source; give the source the shared concept if it had none."""
    if source is not None and not source.concept:
        source_data = replace(kb.to_data(source), concept=article.concept or source.slug)
        kb.save_article(session, source_data)
        revisions.record(session, source, author, note=f"linked as the source of {article.slug}")
    translations.set_source(session, article, source)


def create(session, inp, author, locales):
    """Create a draft article from the editor; return it. Raises EditorError."""
    source = _source(session, inp)
    if source is not None and not (inp.concept or "").strip():
        inp = replace(inp, concept=source.concept or source.slug)
    data = _check(session, inp, locales)
    article, _status = kb.save_article(session, data)
    revisions.record(session, article, author, note=inp.note or "created")
    _link_source(session, article, source, author)
    session.commit()
    return article


def claim_version(session, article, expected):
    """Take the next version of the article if it is still at `expected`; else ConflictError.

    The conditional UPDATE is what makes two simultaneous saves safe: only one of them
    matches the old version, the other sees zero rows and gets the conflict."""
    table = Article.__table__
    result = session.execute(table.update().where(table.c.id == article.id, table.c.version == expected)
                             .values(version=expected + 1))
    if result.rowcount != 1:
        session.rollback()
        session.refresh(article)
        base = revisions.for_version(session, article.id, expected)
        raise ConflictError(article, base, revisions.latest(session, article.id))
    return expected + 1


def save_data(session, article, data, author, expected_version, note):
    """Store new data on an existing article under optimistic locking, with a revision."""
    revisions.ensure_baseline(session, article)
    was_public = article.is_public
    new_version = claim_version(session, article, expected_version)
    kb.save_article(session, data)
    article.version = new_version
    revisions.record(session, article, author, note=note)
    return was_public


def proposes(article, author):
    """True when this author's change to the article waits for approval: a published article
    changes at once only for the roles of workflow.PUBLISH_DIRECTLY."""
    from portal.writing.workflow import publishes_directly  # workflow builds on this module

    return article.is_public and not publishes_directly(author)


def propose(session, article, data, author, expected_version, note):
    """Keep `data` as the published article's pending change (a proposal revision) while the
    live text stays as it is; the caller commits."""
    revisions.ensure_baseline(session, article)
    article.version = claim_version(session, article, expected_version)
    return revisions.record_data(session, article, replace(data, status="review"), author, note,
                                 source=revisions.PROPOSAL)


def update(session, article, inp, author, expected_version, locales):
    """Save the editor's input over an article; return "saved", "proposed" (a change to a
    published article waiting for approval) or "" when nothing changed.

    Raises EditorError for bad input and ConflictError when the article changed meanwhile."""
    source = _source(session, inp, article)
    data = _check(session, inp, locales, article, status=article.status, extra=article.extra)
    link = translations.link_of(session, article)
    link_changed = (link.source_id if link else None) != (source.id if source else None)
    pending = revisions.pending(session, article)
    base = revisions.to_article_data(pending).checksum() if pending is not None else article.checksum
    if replace(data, status="review" if pending else data.status).checksum() == base and not link_changed:
        return ""
    outcome, was_public = "saved", article.is_public
    if proposes(article, author) and (data.checksum() != article.checksum or pending is not None):
        propose(session, article, data, author, expected_version, inp.note or "proposed a change")
        outcome = "proposed"
    elif data.checksum() != article.checksum:
        was_public = save_data(session, article, data, author, expected_version, inp.note or "edited")
    if link_changed:
        _link_source(session, article, source, author)
    elif outcome == "saved":
        translations.mark_synced(session, article)
    session.commit()
    if outcome == "saved":
        reindex(article, was_public)
    return outcome


def restore(session, article, number, author, expected_version):
    """Make an old revision's text the article's current one, as a new revision; on a published
    article, for a role that may not publish directly, as a proposal. Returns update()'s words."""
    old = revisions.get(session, article.id, number)
    if old is None:
        raise LookupError(f"no revision {number}")
    current = kb.to_data(article)
    data = replace(revisions.to_article_data(old), slug=current.slug, locale=current.locale,
                   status=current.status)
    if data.checksum() == current.checksum():
        return ""
    if proposes(article, author):
        propose(session, article, data, author, expected_version, f"proposed restoring revision {number}")
        session.commit()
        return "proposed"
    was_public = save_data(session, article, data, author, expected_version,
                           f"restored revision {number}")
    translations.mark_synced(session, article)
    session.commit()
    reindex(article, was_public)
    return "saved"


def as_input(article, note=""):
    """Return an article's fields as editor input (to fill the form)."""
    return ArticleInput(title=article.title, slug=article.slug, locale=article.locale,
                        category=article.category.slug, body=article.body, tags=tuple(article.tags or ()),
                        concept=article.concept or "", summary=article.summary or "", note=note)


def proposal_input(article, proposal):
    """The editor's input for a published article with a pending change: the change's text."""
    data = revisions.to_article_data(proposal)
    return ArticleInput(title=data.title, slug=article.slug, locale=article.locale, category=data.category,
                        body=data.body, tags=tuple(data.tags), concept=data.concept or "", summary=data.summary)


def data_from_input(inp, status="draft"):
    """Return ArticleData for rendering a preview or a diff of unsaved input (not validated)."""
    return ArticleData(title=inp.title, slug=inp.slug, locale=inp.locale, category=inp.category,
                       body=inp.body, tags=tuple(inp.tags), concept=inp.concept or None, status=status,
                       summary=inp.summary)


def save_imported(session, data, source="import"):
    """Upsert an article read from a file, keeping a revision when it changes (the caller commits)."""
    existing = session.scalar(select(Article).where(Article.slug == data.slug))
    before = None
    if existing is not None and existing.checksum != data.checksum():
        revisions.ensure_baseline(session, existing)
        before = revisions.content_hash(existing.title, existing.summary, existing.body)
    article, status = kb.save_article(session, data)
    if status != "unchanged":
        revisions.record(session, article, note="imported from a file", source=source)
        # A new text for a translation means someone brought it up to date.
        if before is not None and before != revisions.content_hash(data.title, data.summary, data.body):
            translations.mark_synced(session, article)
    return article, status
