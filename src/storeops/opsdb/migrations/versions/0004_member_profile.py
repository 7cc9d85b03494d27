"""Member profile: encrypted phone and WeChat id with blind indexes, birthday, store
associate, enrolment channel, tier history.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

#: Integer ids: BIGINT, INTEGER on SQLite (its rowid alias).
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("members") as batch:
        batch.add_column(sa.Column("phone_enc", sa.Text(), nullable=True))
        batch.add_column(sa.Column("phone_index", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("wechat_enc", sa.Text(), nullable=True))
        batch.add_column(sa.Column("wechat_index", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("birthday", sa.Date(), nullable=True))
        batch.add_column(sa.Column("associate_id", sa.String(length=64), nullable=True))
        batch.add_column(
            sa.Column("enrolled_via", sa.String(length=32), server_default="store", nullable=False)
        )
        batch.add_column(sa.Column("tier_since", sa.DateTime(), nullable=True))
        batch.create_index("uq_members_phone_index", ["phone_index"], unique=True)
        batch.create_index("uq_members_wechat_index", ["wechat_index"], unique=True)
    op.create_table(
        "tier_changes",
        sa.Column("change_id", ID, nullable=False),
        sa.Column("member_id", sa.String(length=64), nullable=False),
        sa.Column("from_tier", sa.String(length=32), nullable=False),
        sa.Column("to_tier", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=256), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.member_id"]),
        sa.PrimaryKeyConstraint("change_id"),
    )
    op.create_index("ix_tier_changes_member", "tier_changes", ["member_id"], unique=False)


def downgrade() -> None:
    op.drop_table("tier_changes")
    with op.batch_alter_table("members") as batch:
        batch.drop_index("uq_members_wechat_index")
        batch.drop_index("uq_members_phone_index")
        for column in ("tier_since", "enrolled_via", "associate_id", "birthday",
                       "wechat_index", "wechat_enc", "phone_index", "phone_enc"):  # fmt: skip
            batch.drop_column(column)
