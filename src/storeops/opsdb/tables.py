"""Tables of the ops database (SQLAlchemy Core), all on one ``metadata``."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

workspace_meta = Table(
    "workspace_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", String(512), nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

#: One identifier of one source record. Personal values are only stored
#: encrypted (``value_enc``); ``blind_index`` is the keyed hash used to match.
identifiers = Table(
    "identifiers",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("source", String(64), nullable=False),
    Column("record_id", String(128), nullable=False),
    Column("id_type", String(32), nullable=False),
    Column("blind_index", String(64), nullable=False),
    Column("value_enc", Text, nullable=True),
    Column("value_plain", String(256), nullable=True),
    Column("created_at", DateTime, nullable=False),
    UniqueConstraint("source", "record_id", "id_type", "blind_index", name="uq_identifier"),
    Index("ix_identifiers_blind_index", "id_type", "blind_index"),
    Index("ix_identifiers_record", "record_id"),
)

#: Manual identity decisions, replayed in id order by the resolver.
identity_overrides = Table(
    "identity_overrides",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("action", String(16), nullable=False),
    Column("record_id", String(128), nullable=False),
    Column("other_record_id", String(128), nullable=True),
    Column("actor", String(128), nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
)

#: Every privileged action: who did what to what, when.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("at", DateTime, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", String(256), nullable=False),
    Column("detail", JSON, nullable=True),
)

#: Collector sources: one write key each, stored only as its SHA-256 (the key itself
#: is shown once, at creation). A revoked source keeps its row for the audit trail.
collector_sources = Table(
    "collector_sources",
    metadata,
    Column("source_id", String(64), primary_key=True),
    Column("name", String(256), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("key_prefix", String(16), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("revoked_at", DateTime, nullable=True),
)
