"""Searches remember whether the portal found an answer; the per-day query figures count those
without one.

Searches recorded before this revision keep answered NULL and count as unanswered only when they
found nothing, so no_answer starts as a copy of no_result.

Revision ID: 0006
Revises: 0002
Create Date: 2026-12-08
"""
from alembic import op
import sqlalchemy as sa

revision = "0006"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("tracking_events", sa.Column("answered", sa.Boolean, nullable=True))
    op.add_column("tracking_query_days",
                  sa.Column("no_answer", sa.Integer, nullable=False, server_default="0"))
    op.execute("UPDATE tracking_query_days SET no_answer = no_result")


def downgrade():
    with op.batch_alter_table("tracking_query_days") as batch:
        batch.drop_column("no_answer")
    with op.batch_alter_table("tracking_events") as batch:
        batch.drop_column("answered")
