"""Baseline: workspace metadata, audit log, identity, collector sources.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

#: Integer ids: BIGINT, INTEGER on SQLite (its rowid alias).
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "workspace_meta",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=512), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )

    op.create_table(
        "audit_log",
        sa.Column("id", ID, nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target", sa.String(length=256), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )

    op.create_table(
        "identifiers",
        sa.Column("id", ID, nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("record_id", sa.String(length=128), nullable=False),
        sa.Column("id_type", sa.String(length=32), nullable=False),
        sa.Column("blind_index", sa.String(length=64), nullable=False),
        sa.Column("value_enc", sa.Text(), nullable=True),
        sa.Column("value_plain", sa.String(length=256), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source", "record_id", "id_type", "blind_index", name="uq_identifier"),
    )
    op.create_index(
        "ix_identifiers_blind_index", "identifiers", ["id_type", "blind_index"], unique=False
    )
    op.create_index("ix_identifiers_record", "identifiers", ["record_id"], unique=False)

    op.create_table(
        "identity_overrides",
        sa.Column("id", ID, nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("record_id", sa.String(length=128), nullable=False),
        sa.Column("other_record_id", sa.String(length=128), nullable=True),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )

    op.create_table(
        "collector_sources",
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("key_prefix", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("source_id"),
        sa.UniqueConstraint("key_hash"),
    )


def downgrade() -> None:
    op.drop_table("collector_sources")
    op.drop_table("identity_overrides")
    op.drop_table("identifiers")
    op.drop_table("audit_log")
    op.drop_table("workspace_meta")
