"""Ops-database tables of users, roles, API keys and consent (on the shared ``metadata``).

Passwords are stored only as argon2 hashes and API keys only as SHA-256 hashes of
high-entropy random keys (shown once, at creation), with a short prefix to find them.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
)

from storeops.opsdb.tables import metadata

_ID = BigInteger().with_variant(Integer, "sqlite")

users = Table(
    "users",
    metadata,
    Column("user_id", _ID, primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("password_hash", String(256), nullable=False),
    Column("role", String(32), nullable=False),
    Column("display_name", String(128), nullable=True),
    Column("failed_logins", Integer, nullable=False, server_default="0"),
    Column("locked_until", DateTime, nullable=True),
    Column("created_at", DateTime, nullable=False),
    Column("disabled_at", DateTime, nullable=True),
)

#: The stores a store-scoped user (store manager) may see.
user_stores = Table(
    "user_stores",
    metadata,
    Column("user_id", ForeignKey("users.user_id"), primary_key=True),
    Column("store_id", String(64), primary_key=True),
)

#: API keys for machines and scripts: a role and, for store-scoped roles, one store.
api_keys = Table(
    "api_keys",
    metadata,
    Column("key_id", _ID, primary_key=True),
    Column("name", String(128), nullable=False),
    Column("prefix", String(16), nullable=False, unique=True),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("role", String(32), nullable=False),
    Column("store_id", String(64), nullable=True),
    Column("created_at", DateTime, nullable=False),
    Column("revoked_at", DateTime, nullable=True),
    Column("last_used_at", DateTime, nullable=True),
)

#: Consent per person and purpose; a withdrawal closes the open row, a new consent
#: opens a new one, so the history stays.
consents = Table(
    "consents",
    metadata,
    Column("consent_id", _ID, primary_key=True),
    Column("subject_id", String(128), nullable=False),
    Column("purpose", String(32), nullable=False),
    Column("given_at", DateTime, nullable=False),
    Column("withdrawn_at", DateTime, nullable=True),
    Column("source", String(64), nullable=False),
    Index("ix_consents_subject", "subject_id", "purpose"),
    UniqueConstraint("subject_id", "purpose", "given_at", name="uq_consent_given"),
)
