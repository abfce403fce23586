"""Figures that can't be forged (why a visit is left out, its address key, excluded counts per
day); sessions that end (a version per account), API tokens that expire, login failures counted
in the database; agents' messages stored as HTML.

Revision ID: 0007
Revises: 0002, 0003
Create Date: 2026-12-10
"""
from alembic import op
import sqlalchemy as sa

revision = "0007"
down_revision = ("0002", "0003")  # tracking tables (0002) and ticket messages (0003)
branch_labels = None
depends_on = None

_OUTCOME_COLUMNS = ["day", "views", "positive", "negative", "tickets", "ticket_after", "last_at",
                    "answer_article", "ticket_article"]
_EXCLUDED = ("excluded_automated", "excluded_burst", "excluded_vote_without_view", "excluded_no_cookie")


def upgrade():
    with op.batch_alter_table("tracking_visits") as batch:
        batch.add_column(sa.Column("flags", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("address", sa.String(32), nullable=True))
    op.drop_index("ix_tracking_visits_day_outcome", table_name="tracking_visits")
    op.create_index("ix_tracking_visits_day_outcome", "tracking_visits", _OUTCOME_COLUMNS + ["flags"])
    op.create_index("ix_tracking_visits_address_started", "tracking_visits", ["address", "started_at"])
    with op.batch_alter_table("tracking_days") as batch:
        for name in _EXCLUDED:
            batch.add_column(sa.Column(name, sa.Integer, nullable=False, server_default="0"))
    # Bots are recorded as excluded visits now (portal.tracking.integrity), not apart.
    op.drop_index("ix_tracking_bot_hits_ts", table_name="tracking_bot_hits")
    op.drop_table("tracking_bot_hits")
    # Sessions that end, tokens that expire, login failures shared by every worker.
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("session_version", sa.Integer, nullable=False, server_default="0"))
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_login_failures_key_at", "login_failures", ["key", "at"])
    # Agents' messages rendered once, when written (older ones render on first display).
    with op.batch_alter_table("ticket_messages") as batch:
        batch.add_column(sa.Column("html", sa.Text, nullable=False, server_default=""))


def downgrade():
    with op.batch_alter_table("ticket_messages") as batch:
        batch.drop_column("html")
    op.drop_index("ix_login_failures_key_at", table_name="login_failures")
    op.drop_table("login_failures")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("expires_at")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("session_version")
    op.create_table(
        "tracking_bot_hits",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("ts", sa.DateTime, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("user_agent", sa.String(300), nullable=False, server_default=""),
        sa.Column("article", sa.String(160), nullable=True),
        sa.Column("query", sa.String(200), nullable=True),
    )
    op.create_index("ix_tracking_bot_hits_ts", "tracking_bot_hits", ["ts"])
    with op.batch_alter_table("tracking_days") as batch:
        for name in _EXCLUDED:
            batch.drop_column(name)
    op.drop_index("ix_tracking_visits_address_started", table_name="tracking_visits")
    op.drop_index("ix_tracking_visits_day_outcome", table_name="tracking_visits")
    op.create_index("ix_tracking_visits_day_outcome", "tracking_visits", _OUTCOME_COLUMNS)
    with op.batch_alter_table("tracking_visits") as batch:
        batch.drop_column("address")
        batch.drop_column("flags")
