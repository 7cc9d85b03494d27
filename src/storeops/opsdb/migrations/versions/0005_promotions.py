"""Promotions and coupons: programs, per-customer usage, coupon codes, redemptions.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

#: Integer ids: BIGINT, INTEGER on SQLite (its rowid alias).
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "promotion_programs",
        sa.Column("program_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("scope", sa.JSON(), nullable=False),
        sa.Column("starts_at", sa.DateTime(), nullable=True),
        sa.Column("ends_at", sa.DateTime(), nullable=True),
        sa.Column("stackable", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("priority", sa.Integer(), server_default="100", nullable=False),
        sa.Column("budget_fen", sa.BigInteger(), nullable=True),
        sa.Column("max_uses", sa.Integer(), nullable=True),
        sa.Column("per_customer_limit", sa.Integer(), nullable=True),
        sa.Column("spent_fen", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("uses", sa.Integer(), server_default="0", nullable=False),
        sa.Column("status", sa.String(length=16), server_default="active", nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "spent_fen >= 0 AND (budget_fen IS NULL OR spent_fen <= budget_fen)",
            name="ck_program_budget",
        ),
        sa.CheckConstraint(
            "uses >= 0 AND (max_uses IS NULL OR uses <= max_uses)", name="ck_program_uses"
        ),
        sa.PrimaryKeyConstraint("program_id"),
    )
    op.create_table(
        "coupons",
        sa.Column("coupon_id", ID, nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("program_id", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.String(length=128), nullable=True),
        sa.Column("status", sa.String(length=16), server_default="issued", nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("batch", sa.String(length=160), nullable=True),
        sa.Column("issued_order_id", sa.String(length=128), nullable=True),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.Column("valid_from", sa.DateTime(), nullable=True),
        sa.Column("valid_until", sa.DateTime(), nullable=True),
        sa.Column("redemption_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["promotion_programs.program_id"],
        ),
        sa.PrimaryKeyConstraint("coupon_id"),
        sa.UniqueConstraint("code"),
        sa.UniqueConstraint("program_id", "issued_order_id", name="uq_coupon_issuing_order"),
    )
    with op.batch_alter_table("coupons", schema=None) as batch_op:
        batch_op.create_index("ix_coupons_customer", ["customer_id"], unique=False)
        batch_op.create_index("ix_coupons_program", ["program_id", "status"], unique=False)

    op.create_table(
        "promotion_usage",
        sa.Column("program_id", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.String(length=128), nullable=False),
        sa.Column("uses", sa.Integer(), server_default="0", nullable=False),
        sa.CheckConstraint("uses >= 0", name="ck_usage_not_negative"),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["promotion_programs.program_id"],
        ),
        sa.PrimaryKeyConstraint("program_id", "customer_id"),
    )
    op.create_table(
        "coupon_redemptions",
        sa.Column("redemption_id", ID, nullable=False),
        sa.Column("coupon_id", ID, nullable=True),
        sa.Column("program_id", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.String(length=128), nullable=True),
        sa.Column("order_id", sa.String(length=128), nullable=False),
        sa.Column("store_id", sa.String(length=64), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("discount_fen", sa.BigInteger(), nullable=False),
        sa.Column("redeemed_at", sa.DateTime(), nullable=False),
        sa.Column("txn_id", ID, nullable=False),
        sa.Column("voided_at", sa.DateTime(), nullable=True),
        sa.Column("void_txn_id", ID, nullable=True),
        sa.CheckConstraint("discount_fen >= 0", name="ck_redemption_discount"),
        sa.ForeignKeyConstraint(
            ["coupon_id"],
            ["coupons.coupon_id"],
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["promotion_programs.program_id"],
        ),
        sa.ForeignKeyConstraint(
            ["txn_id"],
            ["ledger_txns.txn_id"],
        ),
        sa.ForeignKeyConstraint(
            ["void_txn_id"],
            ["ledger_txns.txn_id"],
        ),
        sa.PrimaryKeyConstraint("redemption_id"),
    )
    with op.batch_alter_table("coupon_redemptions", schema=None) as batch_op:
        batch_op.create_index("ix_coupon_redemptions_coupon", ["coupon_id"], unique=False)
        batch_op.create_index("ix_coupon_redemptions_order", ["order_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("coupon_redemptions", schema=None) as batch_op:
        batch_op.drop_index("ix_coupon_redemptions_order")
        batch_op.drop_index("ix_coupon_redemptions_coupon")

    op.drop_table("coupon_redemptions")
    op.drop_table("promotion_usage")
    with op.batch_alter_table("coupons", schema=None) as batch_op:
        batch_op.drop_index("ix_coupons_program")
        batch_op.drop_index("ix_coupons_customer")

    op.drop_table("coupons")
    op.drop_table("promotion_programs")
