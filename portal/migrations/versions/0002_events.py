"""Deflection tracking: visits, events, votes and bot hits.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""
from alembic import op
import sqlalchemy as sa

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "tracking_visits",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("visitor_id", sa.String(64), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("last_at", sa.DateTime, nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("locale", sa.String(8), nullable=True),
        sa.Column("searches", sa.Integer, nullable=False, server_default="0"),
        sa.Column("views", sa.Integer, nullable=False, server_default="0"),
        sa.Column("clicks", sa.Integer, nullable=False, server_default="0"),
        sa.Column("positive", sa.Integer, nullable=False, server_default="0"),
        sa.Column("negative", sa.Integer, nullable=False, server_default="0"),
        sa.Column("escalations", sa.Integer, nullable=False, server_default="0"),
        sa.Column("tickets", sa.Integer, nullable=False, server_default="0"),
        sa.Column("first_ticket_at", sa.DateTime, nullable=True),
        sa.Column("ticket_after", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("answer_article", sa.String(160), nullable=True),
        sa.Column("ticket_article", sa.String(160), nullable=True),
        sa.UniqueConstraint("visitor_id", "seq", name="uq_tracking_visits_visitor_seq"),
    )
    op.create_index("ix_tracking_visits_visitor_last", "tracking_visits", ["visitor_id", "last_at"])
    op.create_index("ix_tracking_visits_day_outcome", "tracking_visits",
                    ["day", "views", "positive", "negative", "tickets", "ticket_after", "last_at",
                     "answer_article", "ticket_article"])
    op.create_table(
        "tracking_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("ts", sa.DateTime, nullable=False),
        sa.Column("visit_id", sa.Integer, sa.ForeignKey("tracking_visits.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("locale", sa.String(8), nullable=True),
        sa.Column("query", sa.String(200), nullable=True),
        sa.Column("query_norm", sa.String(200), nullable=True),
        sa.Column("mode", sa.String(16), nullable=True),
        sa.Column("results", sa.Integer, nullable=True),
        sa.Column("article", sa.String(160), nullable=True),
        sa.Column("position", sa.Integer, nullable=True),
        sa.Column("helpful", sa.Boolean, nullable=True),
        sa.Column("solved", sa.Boolean, nullable=True),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("ticket_ref", sa.String(64), nullable=True),
        sa.Column("clicked", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_index("ix_tracking_events_kind_ts", "tracking_events", ["kind", "ts", "query_norm", "results", "clicked"])
    op.create_index("ix_tracking_events_visit", "tracking_events", ["visit_id", "kind", "ts", "article"])
    op.create_table(
        "tracking_votes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("visitor_id", sa.String(64), nullable=False),
        sa.Column("article", sa.String(160), nullable=False),
        sa.Column("visit_id", sa.Integer, sa.ForeignKey("tracking_visits.id", ondelete="CASCADE"), nullable=False),
        sa.Column("helpful", sa.Boolean, nullable=True),
        sa.Column("solved", sa.Boolean, nullable=True),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("query", sa.String(200), nullable=True),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("visitor_id", "article", name="uq_tracking_votes_visitor_article"),
    )
    op.create_index("ix_tracking_votes_visit_id", "tracking_votes", ["visit_id"])
    op.create_index("ix_tracking_votes_updated", "tracking_votes", ["updated_at", "article", "helpful"])
    op.create_table(
        "tracking_bot_hits",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("ts", sa.DateTime, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("user_agent", sa.String(300), nullable=False),
        sa.Column("article", sa.String(160), nullable=True),
        sa.Column("query", sa.String(200), nullable=True),
    )
    op.create_index("ix_tracking_bot_hits_ts", "tracking_bot_hits", ["ts"])

    # Pre-aggregates kept exact on write (see portal/tracking/service.py).
    op.create_table(
        "tracking_days",
        sa.Column("day", sa.Date, primary_key=True),
        *(sa.Column(name, sa.Integer, nullable=False, server_default="0")
          for name in ("visits", "self_served", "self_served_inferred", "escalated", "tickets")),
    )
    op.create_table(
        "tracking_article_days",
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("article", sa.String(160), primary_key=True),
        sa.Column("answered", sa.Integer, nullable=False, server_default="0"),
        sa.Column("failed", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_table(
        "tracking_query_days",
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("query_norm", sa.String(200), primary_key=True),
        sa.Column("searches", sa.Integer, nullable=False, server_default="0"),
        sa.Column("no_result", sa.Integer, nullable=False, server_default="0"),
        sa.Column("clicked", sa.Integer, nullable=False, server_default="0"),
    )


def downgrade():
    op.drop_table("tracking_query_days")
    op.drop_table("tracking_article_days")
    op.drop_table("tracking_days")
    op.drop_table("tracking_bot_hits")
    op.drop_table("tracking_votes")
    op.drop_table("tracking_events")
    op.drop_table("tracking_visits")
