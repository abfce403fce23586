"""The portal's tables: categories, articles, the content generation, accounts and API tokens."""
from datetime import datetime, timezone

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base

ROLES = ("admin", "lead", "writer", "agent")
STATUSES = ("draft", "review", "published", "archived")


def utcnow():
    """Return the current UTC time, timezone-aware."""
    return datetime.now(timezone.utc)


class Category(Base):
    """A group of articles, created on import from the article's category slug."""

    __tablename__ = "categories"
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=100)
    articles: Mapped[list["Article"]] = relationship(back_populates="category")


class Article(Base):
    """One knowledge-base article in one locale; a shared concept links translations."""

    __tablename__ = "articles"
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(160), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    locale: Mapped[str] = mapped_column(String(8), index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"), index=True)
    tags: Mapped[list] = mapped_column(JSON, default=list)
    concept: Mapped[str | None] = mapped_column(String(160), index=True, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="published", index=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    html: Mapped[str] = mapped_column(Text, default="")
    toc_html: Mapped[str] = mapped_column(Text, default="")
    extra: Mapped[dict] = mapped_column(JSON, default=dict)
    checksum: Mapped[str] = mapped_column(String(64), default="")
    views: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    category: Mapped[Category] = relationship(back_populates="articles", lazy="joined")

    @property
    def is_public(self):
        """True when customers may see the article."""
        return self.status == "published"


class ContentState(Base):
    """One row whose generation goes up in the same transaction as any change to articles or
    categories (portal.pagecache), so that every process can tell its caches are outdated."""

    __tablename__ = "content_state"
    id: Mapped[int] = mapped_column(primary_key=True)
    generation: Mapped[int] = mapped_column(Integer, default=0)


class User(Base):
    """A staff account: admin, lead, writer or agent. Customers never need one."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # Sessions carry the version they were opened under: raising it ends every one of them
    # (logout, a password change or reset, a role change, disabling; portal.auth).
    session_version: Mapped[int] = mapped_column(Integer, default=0)


class ApiToken(Base):
    """A Bearer token for the JSON API; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)  # None: never
    user: Mapped[User] = relationship(lazy="joined")


class LoginFailure(Base):
    """A failed login, kept for the window of the login_failures limit: counted in the database,
    the limit holds across every worker and host."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_key_at", "key", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64))  # keyed hash of the email and the client address
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
