"""Tickets: tickets, messages, events, canned responses, presence and the notification outbox.

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa

revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade():
    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("reference", sa.String(32), nullable=True, unique=True),
        sa.Column("access_token", sa.String(64), nullable=False, unique=True),
        sa.Column("email", sa.String(254), nullable=False, index=True),
        sa.Column("customer_name", sa.String(200), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("priority", sa.String(16), nullable=False, index=True),
        sa.Column("category", sa.String(40), nullable=False, index=True),
        sa.Column("group_name", sa.String(8), nullable=False, index=True),
        sa.Column("locale", sa.String(8), nullable=False),
        sa.Column("assignee_id", sa.Integer, nullable=True, index=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("visitor_id", sa.String(64), nullable=False, index=True),
        sa.Column("context", sa.JSON, nullable=False),
        sa.Column("routing", sa.JSON, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", TS, nullable=False, index=True),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("first_reply_at", TS, nullable=True),
        sa.Column("solved_at", TS, nullable=True),
        sa.Column("closed_at", TS, nullable=True),
        sa.Column("first_reply_due", TS, nullable=True, index=True),
        sa.Column("resolution_due", TS, nullable=True, index=True),
        sa.Column("agent_replies", sa.Integer, nullable=False),
        sa.Column("customer_replies", sa.Integer, nullable=False),
        sa.Column("reopened_count", sa.Integer, nullable=False),
        sa.Column("escalations", sa.Integer, nullable=False),
        sa.Column("article_links", sa.Integer, nullable=False),
        sa.Column("csat", sa.SmallInteger, nullable=True),
        sa.Column("nps", sa.SmallInteger, nullable=True),
        sa.Column("rated_at", TS, nullable=True),
    )
    op.create_index("ix_tickets_status_created", "tickets", ["status", "created_at"])
    op.create_table(
        "ticket_messages",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("author_id", sa.Integer, nullable=True),
        sa.Column("author_name", sa.String(200), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("articles", sa.JSON, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "ticket_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("actor_id", sa.Integer, nullable=True),
        sa.Column("actor_name", sa.String(200), nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", TS, nullable=False, index=True),
    )
    op.create_table(
        "canned_responses",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("title", sa.String(120), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("locale", sa.String(8), nullable=False),
        sa.Column("created_by", sa.Integer, nullable=True),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "ticket_viewers",
        sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("user_id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("composing", sa.Boolean, nullable=False),
        sa.Column("seen_at", TS, nullable=False, index=True),
    )
    op.create_table(
        "ticket_outbox",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("to_addr", sa.String(254), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("sent_at", TS, nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text, nullable=False),
    )
    op.create_index("ix_ticket_outbox_pending", "ticket_outbox", ["sent_at", "id"])


def downgrade():
    op.drop_table("ticket_outbox")
    op.drop_table("ticket_viewers")
    op.drop_table("canned_responses")
    op.drop_table("ticket_events")
    op.drop_table("ticket_messages")
    op.drop_table("tickets")
