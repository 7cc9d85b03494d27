"""Scheduled reports and their sent-log.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

#: Integer ids: BIGINT, INTEGER on SQLite (its rowid alias).
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "report_schedules",
        sa.Column("schedule_id", ID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("store_id", sa.String(length=64), nullable=True),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("channel", sa.String(length=128), nullable=False),
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("schedule_id"),
    )
    op.create_table(
        "report_sends",
        sa.Column("send_id", ID, nullable=False),
        sa.Column("schedule_id", ID, nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("path", sa.String(length=1000), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["schedule_id"], ["report_schedules.schedule_id"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("send_id"),
        sa.UniqueConstraint("schedule_id", "period", name="uq_report_sends_schedule_period"),
    )


def downgrade() -> None:
    op.drop_table("report_sends")
    op.drop_table("report_schedules")
