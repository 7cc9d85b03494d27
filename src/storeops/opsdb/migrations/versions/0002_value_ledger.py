"""Value ledger: members, accounts, transactions, entries, points lots and their uses.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

#: Integer ids: BIGINT, INTEGER on SQLite (its rowid alias).
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "members",
        sa.Column("member_id", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.String(length=128), nullable=True),
        sa.Column("tier", sa.String(length=32), server_default="standard", nullable=False),
        sa.Column("status", sa.String(length=16), server_default="active", nullable=False),
        sa.Column("store_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("member_id"),
    )

    op.create_table(
        "ledger_accounts",
        sa.Column("account_id", ID, nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("asset", sa.String(length=16), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("balance", sa.BigInteger(), server_default="0", nullable=False),
        sa.CheckConstraint(
            "owner = 'system' OR balance >= 0", name="ck_member_balance_not_negative"
        ),
        sa.PrimaryKeyConstraint("account_id"),
        sa.UniqueConstraint("owner", "asset", "purpose", name="uq_ledger_account"),
    )

    op.create_table(
        "ledger_txns",
        sa.Column("txn_id", ID, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("idempotency_key", sa.String(length=160), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("member_id", sa.String(length=64), nullable=True),
        sa.Column("reference", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("txn_id"),
        sa.UniqueConstraint("idempotency_key"),
    )
    op.create_index("ix_ledger_txns_reference", "ledger_txns", ["kind", "reference"], unique=False)

    op.create_table(
        "ledger_entries",
        sa.Column("entry_id", ID, nullable=False),
        sa.Column("txn_id", ID, nullable=False),
        sa.Column("account_id", ID, nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["ledger_accounts.account_id"],
        ),
        sa.ForeignKeyConstraint(
            ["txn_id"],
            ["ledger_txns.txn_id"],
        ),
        sa.PrimaryKeyConstraint("entry_id"),
    )
    op.create_index("ix_ledger_entries_account", "ledger_entries", ["account_id"], unique=False)
    op.create_index("ix_ledger_entries_txn", "ledger_entries", ["txn_id"], unique=False)

    op.create_table(
        "point_lots",
        sa.Column("lot_id", ID, nullable=False),
        sa.Column("member_id", sa.String(length=64), nullable=False),
        sa.Column("txn_id", ID, nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("remaining", sa.BigInteger(), nullable=False),
        sa.Column("earned_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("remaining >= 0 AND remaining <= points", name="ck_lot_remaining"),
        sa.ForeignKeyConstraint(
            ["txn_id"],
            ["ledger_txns.txn_id"],
        ),
        sa.PrimaryKeyConstraint("lot_id"),
    )
    op.create_index("ix_point_lots_member", "point_lots", ["member_id", "expires_at"], unique=False)

    op.create_table(
        "point_lot_uses",
        sa.Column("use_id", ID, nullable=False),
        sa.Column("txn_id", ID, nullable=False),
        sa.Column("lot_id", ID, nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("points > 0", name="ck_lot_use_positive"),
        sa.ForeignKeyConstraint(
            ["lot_id"],
            ["point_lots.lot_id"],
        ),
        sa.ForeignKeyConstraint(
            ["txn_id"],
            ["ledger_txns.txn_id"],
        ),
        sa.PrimaryKeyConstraint("use_id"),
    )
    op.create_index("ix_point_lot_uses_lot", "point_lot_uses", ["lot_id"], unique=False)


def downgrade() -> None:
    op.drop_table("point_lot_uses")
    op.drop_table("point_lots")
    op.drop_table("ledger_entries")
    op.drop_table("ledger_txns")
    op.drop_table("ledger_accounts")
    op.drop_table("members")
