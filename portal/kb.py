"""Knowledge-base services: saving articles and the read queries behind the pages."""
from sqlalchemy import bindparam, func, select

from portal.content import ArticleData, render_bounded
from portal.models import Article, Category, utcnow


def get_or_create_category(session, slug):
    """Return the category with this slug, creating it with a readable name."""
    category = session.scalar(select(Category).where(Category.slug == slug))
    if category is None:
        category = Category(slug=slug, name=slug.replace("-", " ").replace("_", " ").capitalize())
        session.add(category)
        session.flush()
    return category


def save_article(session, data: ArticleData):
    """Create or update the article with data.slug; return (article, created|updated|unchanged)."""
    checksum = data.checksum()
    article = session.scalar(select(Article).where(Article.slug == data.slug))
    if article is not None and article.checksum == checksum:
        return article, "unchanged"
    html, toc = render_bounded(data.body)  # RenderTooSlow (an ArticleFormatError) past its time
    category = get_or_create_category(session, data.category)
    status = "updated"
    if article is None:
        article = Article(slug=data.slug, views=0, version=0, created_at=utcnow())
        session.add(article)
        status = "created"
    article.title = data.title
    article.locale = data.locale
    article.category = category
    article.tags = list(data.tags)
    article.concept = data.concept
    article.status = data.status
    article.summary = data.summary
    article.body = data.body
    article.html = html
    article.toc_html = toc
    article.extra = dict(data.extra)
    article.checksum = checksum
    article.version = (article.version or 0) + 1
    article.updated_at = utcnow()
    session.flush()
    return article, status


def to_data(article):
    """Return an article row's fields as ArticleData."""
    return ArticleData(
        title=article.title, slug=article.slug, locale=article.locale, category=article.category.slug,
        body=article.body, tags=tuple(article.tags or ()), concept=article.concept,
        status=article.status, summary=article.summary or "", extra=dict(article.extra or {}),
    )


def _locale_first(query, locale):
    """Order a query so the visitor's locale comes first."""
    return query.order_by((Article.locale != locale).asc())


def public_article(session, slug):
    """Return the published article with this slug, or None."""
    return session.scalar(select(Article).where(Article.slug == slug, Article.status == "published"))


def categories_with_counts(session, locale):
    """Return [(category, count)] of categories with published articles, by position and name."""
    rows = session.execute(
        select(Category, func.count(Article.id))
        .join(Article, Article.category_id == Category.id)
        .where(Article.status == "published")
        .group_by(Category.id)
        .order_by(Category.position, Category.name)
    ).all()
    return [(c, n) for c, n in rows]


def category_articles(session, category, locale):
    """Return the category's published articles, the visitor's locale first, then by title."""
    q = select(Article).where(Article.category_id == category.id, Article.status == "published")
    return session.scalars(_locale_first(q, locale).order_by(Article.title)).all()


def popular_articles(session, locale, limit=6):
    """Return the most viewed published articles in the visitor's locale (others if none)."""
    q = select(Article).where(Article.status == "published")
    q = _locale_first(q, locale).order_by(Article.views.desc(), Article.title).limit(limit)
    return session.scalars(q).all()


def recent_articles(session, locale, limit=6):
    """Return the most recently updated published articles, the visitor's locale first."""
    q = select(Article).where(Article.status == "published")
    q = _locale_first(q, locale).order_by(Article.updated_at.desc()).limit(limit)
    return session.scalars(q).all()


def translations(session, article, public_only=True):
    """Return the other articles that share this article's concept."""
    if not article.concept:
        return []
    q = select(Article).where(Article.concept == article.concept, Article.id != article.id)
    if public_only:
        q = q.where(Article.status == "published")
    return session.scalars(q.order_by(Article.locale)).all()


def related_articles(session, article, limit=5):
    """Return other published articles of the same category and locale."""
    q = (select(Article)
         .where(Article.category_id == article.category_id, Article.locale == article.locale,
                Article.id != article.id, Article.status == "published")
         .order_by(Article.views.desc(), Article.title).limit(limit))
    return session.scalars(q).all()


def faq_articles(session, locale):
    """Return the published FAQ articles in the visitor's locale (all locales if none)."""
    q = (select(Article).join(Category)
         .where(Category.slug == "faq", Article.status == "published"))
    rows = session.scalars(q.where(Article.locale == locale).order_by(Article.title)).all()
    return rows or session.scalars(_locale_first(q, locale).order_by(Article.title)).all()


def add_views(session, counts):
    """Add {article slug: views} to the articles' view counters in one statement; the caller commits."""
    counts = {slug: n for slug, n in counts.items() if n}
    if not counts:
        return
    table = Article.__table__
    session.execute(table.update().where(table.c.slug == bindparam("article_slug"))
                    .values(views=table.c.views + bindparam("n")),
                    [{"article_slug": slug, "n": n} for slug, n in sorted(counts.items())])
