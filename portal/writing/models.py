"""Tables of the writing workflow: article revisions and translation links."""
from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base
from portal.models import Article, User, utcnow


class ArticleRevision(Base):
    """A snapshot of every field of an article after one save, with who, when and why."""

    __tablename__ = "article_revisions"
    __table_args__ = (UniqueConstraint("article_id", "number", name="uq_article_revision_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    # The article's version right after this save: maps an editor's version to a snapshot.
    article_version: Mapped[int] = mapped_column(Integer, default=0)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    # Who made it when there is no account behind it, e.g. "import".
    source: Mapped[str] = mapped_column(String(32), default="editor")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    note: Mapped[str] = mapped_column(String(500), default="")
    title: Mapped[str] = mapped_column(String(300))
    slug: Mapped[str] = mapped_column(String(160))
    locale: Mapped[str] = mapped_column(String(8))
    category: Mapped[str] = mapped_column(String(80))
    tags: Mapped[list] = mapped_column(JSON, default=list)
    concept: Mapped[str | None] = mapped_column(String(160), nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    summary: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    extra: Mapped[dict] = mapped_column(JSON, default=dict)

    article: Mapped[Article] = relationship()
    author: Mapped[User | None] = relationship(lazy="joined")

    @property
    def author_label(self):
        """Return the author's email, or where the change came from."""
        return self.author.email if self.author is not None else self.source


class TranslationLink(Base):
    """Which article a translation was made from, and the source content it last matched."""

    __tablename__ = "translation_links"

    translation_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"),
                                                primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    # Hash of the source's title, summary and body when the translation was last saved:
    # a status change of the source does not make its translations stale, a new text does.
    source_content: Mapped[str] = mapped_column(String(64), default="")
    source_revision: Mapped[int] = mapped_column(Integer, default=0)
    synced_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    translation: Mapped[Article] = relationship(foreign_keys=[translation_id])
    source: Mapped[Article] = relationship(foreign_keys=[source_id])
