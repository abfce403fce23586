"""Deflection tracking tables: visits (a per-visit summary kept up to date on write), the
events of each visit, and the one standing vote per visitor and article.

Times are naive UTC datetimes: SQLite has no time zones, and mixing aware and naive values
in comparisons is the classic source of off-by-an-hour figures."""
from datetime import date, datetime

from sqlalchemy import (Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base

KINDS = ("search", "click", "view", "feedback", "escalation_started", "ticket_opened")


class Visit(Base):
    """One visitor's activity with no gap over 30 minutes, with running counts of its events.

    The counts are what the metrics read: 1M events become a few hundred thousand rows that
    SQL can aggregate by day without touching the events table."""

    __tablename__ = "tracking_visits"
    __table_args__ = (
        # The visitor's n-th visit: a unique pair, so two requests racing to open the same
        # visit cannot both succeed (the loser retries and joins the winner's visit).
        UniqueConstraint("visitor_id", "seq", name="uq_tracking_visits_visitor_seq"),
        Index("ix_tracking_visits_visitor_last", "visitor_id", "last_at"),
        # Covering index of the outcome columns: the figures of a range are read from the
        # index alone, never from the table (5-8x faster on a 90-day range).
        Index("ix_tracking_visits_day_outcome", "day", "views", "positive", "negative", "tickets",
              "ticket_after", "last_at", "answer_article", "ticket_article", "flags"),
        # The burst rule counts the visits one address started lately (portal.tracking.integrity).
        Index("ix_tracking_visits_address_started", "address", "started_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    visitor_id: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(DateTime)
    last_at: Mapped[datetime] = mapped_column(DateTime)
    day: Mapped[date] = mapped_column(Date)  # UTC day it started: the day it belongs to
    locale: Mapped[str | None] = mapped_column(String(8), nullable=True)
    searches: Mapped[int] = mapped_column(Integer, default=0)
    views: Mapped[int] = mapped_column(Integer, default=0)
    clicks: Mapped[int] = mapped_column(Integer, default=0)
    positive: Mapped[int] = mapped_column(Integer, default=0)  # articles whose latest vote here is positive
    negative: Mapped[int] = mapped_column(Integer, default=0)  # ... and negative
    escalations: Mapped[int] = mapped_column(Integer, default=0)
    tickets: Mapped[int] = mapped_column(Integer, default=0)
    first_ticket_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # Set when the same visitor opens a ticket within 24 h after this visit ended.
    ticket_after: Mapped[bool] = mapped_column(Boolean, default=False)
    # The article of the visit's latest positive vote: the one that answered.
    answer_article: Mapped[str | None] = mapped_column(String(160), nullable=True)
    # The last article read before the visit's first ticket: the one that failed.
    ticket_article: Mapped[str | None] = mapped_column(String(160), nullable=True)
    # Why the visit is left out of the figures, as bits (portal.tracking.integrity); 0: it counts.
    flags: Mapped[int] = mapped_column(Integer, default=0)
    # A keyed hash of the client's address (its /64 for IPv6), for the burst rule; never the address.
    address: Mapped[str | None] = mapped_column(String(32), nullable=True)


class Event(Base):
    """One step of a visit: search, click, view, feedback, escalation_started, ticket_opened."""

    __tablename__ = "tracking_events"
    __table_args__ = (
        # Both covering: the search report reads the first, the article tables the second.
        Index("ix_tracking_events_kind_ts", "kind", "ts", "query_norm", "results", "clicked"),
        Index("ix_tracking_events_visit", "visit_id", "kind", "ts", "article"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    ts: Mapped[datetime] = mapped_column(DateTime)
    visit_id: Mapped[int] = mapped_column(ForeignKey("tracking_visits.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    locale: Mapped[str | None] = mapped_column(String(8), nullable=True)
    query: Mapped[str | None] = mapped_column(String(200), nullable=True)
    query_norm: Mapped[str | None] = mapped_column(String(200), nullable=True)
    mode: Mapped[str | None] = mapped_column(String(16), nullable=True)
    results: Mapped[int | None] = mapped_column(Integer, nullable=True)
    article: Mapped[str | None] = mapped_column(String(160), nullable=True)
    position: Mapped[int | None] = mapped_column(Integer, nullable=True)
    helpful: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    solved: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    ticket_ref: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # On a search: a result click with the same query followed in the same visit.
    clicked: Mapped[bool] = mapped_column(Boolean, default=False)


class Vote(Base):
    """The standing vote of one visitor on one article (a second vote replaces the first)."""

    __tablename__ = "tracking_votes"
    __table_args__ = (
        UniqueConstraint("visitor_id", "article", name="uq_tracking_votes_visitor_article"),
        Index("ix_tracking_votes_updated", "updated_at", "article", "helpful"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    visitor_id: Mapped[str] = mapped_column(String(64))
    article: Mapped[str] = mapped_column(String(160))
    visit_id: Mapped[int] = mapped_column(ForeignKey("tracking_visits.id", ondelete="CASCADE"), index=True)
    helpful: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    solved: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    query: Mapped[str | None] = mapped_column(String(200), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


# --- pre-aggregation, kept exact on write: the dashboard reads days, not visits or events ----

class DayTotals(Base):
    """Visit outcomes of one UTC day (the day each visit started)."""

    __tablename__ = "tracking_days"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    visits: Mapped[int] = mapped_column(Integer, default=0)
    self_served: Mapped[int] = mapped_column(Integer, default=0)
    self_served_inferred: Mapped[int] = mapped_column(Integer, default=0)
    escalated: Mapped[int] = mapped_column(Integer, default=0)
    tickets: Mapped[int] = mapped_column(Integer, default=0)
    # Visits left out of every figure above, by their first reason (portal.tracking.integrity).
    excluded_automated: Mapped[int] = mapped_column(Integer, default=0)
    excluded_burst: Mapped[int] = mapped_column(Integer, default=0)
    excluded_vote_without_view: Mapped[int] = mapped_column(Integer, default=0)
    excluded_no_cookie: Mapped[int] = mapped_column(Integer, default=0)


class ArticleDay(Base):
    """Per day and article: self-served visits it answered, escalated visits it preceded."""

    __tablename__ = "tracking_article_days"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    article: Mapped[str] = mapped_column(String(160), primary_key=True)
    answered: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)


class QueryDay(Base):
    """Per day and normalized query: searches, searches without results, searches clicked."""

    __tablename__ = "tracking_query_days"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    query_norm: Mapped[str] = mapped_column(String(200), primary_key=True)
    searches: Mapped[int] = mapped_column(Integer, default=0)
    no_result: Mapped[int] = mapped_column(Integer, default=0)
    clicked: Mapped[int] = mapped_column(Integer, default=0)
