"""The ticket tables, on their own declarative base and metadata.

The portal's Alembic environment includes Base.metadata, so migrations cover these tables while
this package stays free of portal imports. Agent ids are plain integers, with no foreign key to
the portal's users table, for the same reason."""
from datetime import datetime, timezone

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, MetaData, SmallInteger, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

STATUSES = ("new", "open", "pending", "solved", "closed")
ACTIVE_STATUSES = ("new", "open", "pending")
PRIORITIES = ("low", "normal", "high", "urgent")
GROUPS = ("L1", "L2", "L3")
CATEGORIES = ("general", "account", "billing", "technical", "feedback")
MESSAGE_KINDS = ("customer", "reply", "note")



def utcnow():
    """Return the current UTC time, timezone-aware."""
    return datetime.now(timezone.utc)


def aware(value):
    """Return a datetime with UTC attached when the database handed it back naive (SQLite)."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always read back timezone-aware, on SQLite too.

    SQLite keeps no offset, so without this a value would come back naive and comparing it
    with an aware one would raise; every time here is UTC, on the way in and out."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(timezone.utc)
        return value

    def process_result_value(self, value, dialect):
        return aware(value)


TS = UTCDateTime()


class Base(DeclarativeBase):
    """Declarative base of the ticket tables (a metadata of their own)."""

    metadata = MetaData()


class Ticket(Base):
    """A customer's request, its routing, SLA due times, counters for the KPIs and its rating."""

    __tablename__ = "tickets"
    id: Mapped[int] = mapped_column(primary_key=True)
    # Derived from the id inside the creating transaction, so unique without a counter table.
    reference: Mapped[str | None] = mapped_column(String(32), unique=True, nullable=True)
    # The customer's private status page key; long and random, never the id.
    access_token: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    customer_name: Mapped[str] = mapped_column(String(200), default="")
    subject: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="new", index=True)
    priority: Mapped[str] = mapped_column(String(16), default="normal", index=True)
    category: Mapped[str] = mapped_column(String(40), default="general", index=True)
    group: Mapped[str] = mapped_column("group_name", String(8), default="L1", index=True)
    locale: Mapped[str] = mapped_column(String(8), default="en")
    assignee_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    source: Mapped[str] = mapped_column(String(16), default="web")
    visitor_id: Mapped[str] = mapped_column(String(64), default="", index=True)
    # What the customer already tried: queries, articles read, votes, locale (see service).
    context: Mapped[dict] = mapped_column(JSON, default=dict)
    routing: Mapped[list] = mapped_column(JSON, default=list)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(TS, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(TS, default=utcnow)
    first_reply_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)
    solved_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)
    first_reply_due: Mapped[datetime | None] = mapped_column(TS, nullable=True, index=True)
    resolution_due: Mapped[datetime | None] = mapped_column(TS, nullable=True, index=True)
    agent_replies: Mapped[int] = mapped_column(Integer, default=0)
    customer_replies: Mapped[int] = mapped_column(Integer, default=0)
    reopened_count: Mapped[int] = mapped_column(Integer, default=0)
    escalations: Mapped[int] = mapped_column(Integer, default=0)
    article_links: Mapped[int] = mapped_column(Integer, default=0)
    csat: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    nps: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    rated_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)

    messages: Mapped[list["Message"]] = relationship(
        back_populates="ticket", order_by="Message.id", cascade="all, delete-orphan")
    events: Mapped[list["Event"]] = relationship(
        back_populates="ticket", order_by="Event.id", cascade="all, delete-orphan")

    # SQLAlchemy adds "AND version = :old" to every UPDATE and raises StaleDataError when a
    # concurrent transaction got there first: the last line of the optimistic lock.
    # The services set the next version themselves (generator off) so that the messages and
    # events they add carry the version they produce.
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}
    __table_args__ = (Index("ix_tickets_status_created", "status", "created_at"),)

    @property
    def is_active(self):
        """True while the ticket waits on the team or the customer (new, open, pending)."""
        return self.status in ACTIVE_STATUSES


class Message(Base):
    """One entry of a ticket's thread: the customer's text, an agent's reply or an internal note."""

    __tablename__ = "ticket_messages"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    author_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    author_name: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text)
    # An agent's message as HTML, rendered once when it was written (the portal renders markdown).
    html: Mapped[str] = mapped_column(Text, default="")
    articles: Mapped[list] = mapped_column(JSON, default=list)
    # The ticket version this message produced: "what changed since version N" reads it.
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(TS, default=utcnow)
    ticket: Mapped[Ticket] = relationship(back_populates="messages")

    @property
    def is_public(self):
        """True for what the customer sees (their messages and agents' replies, not notes)."""
        return self.kind != "note"


class Event(Base):
    """An audit entry: status, priority, assignment, escalation, rating; feeds history and KPIs."""

    __tablename__ = "ticket_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    actor_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    actor_name: Mapped[str] = mapped_column(String(200), default="")
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(TS, default=utcnow, index=True)
    ticket: Mapped[Ticket] = relationship(back_populates="events")


class CannedResponse(Base):
    """A prepared reply with placeholders, managed by leads and admins."""

    __tablename__ = "canned_responses"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)
    locale: Mapped[str] = mapped_column(String(8), default="")
    created_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(TS, default=utcnow)


class Viewer(Base):
    """Presence: which agent had a ticket open, and when the page last said so."""

    __tablename__ = "ticket_viewers"
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    composing: Mapped[bool] = mapped_column(default=False)
    seen_at: Mapped[datetime] = mapped_column(TS, default=utcnow, index=True)


class Outbox(Base):
    """A notification waiting to be sent; written in the same transaction as its cause."""

    __tablename__ = "ticket_outbox"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    to_addr: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(TS, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    __table_args__ = (Index("ix_ticket_outbox_pending", "sent_at", "id"),)
