"""Ops-database tables of the value ledger: members, accounts, transactions, entries,
points lots and their uses (on the shared ``metadata``).

Double entry: every transaction's entries sum to 0 per asset. Member accounts hold a
cached ``balance`` that may never go below 0 (a CHECK constraint backs the service's
conditional updates); system accounts are the other side and go negative as value is
issued. Entries are append-only: a correction is a new, reversing transaction.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from storeops.opsdb.tables import metadata

_ID = BigInteger().with_variant(Integer, "sqlite")

#: Loyalty members. Phone and WeChat id are stored only encrypted (``*_enc``, AES-GCM)
#: with a keyed blind index (``*_index``) to find a member by them.
members = Table(
    "members",
    metadata,
    Column("member_id", String(64), primary_key=True),
    Column("customer_id", String(128), nullable=True),
    Column("tier", String(32), nullable=False, server_default="standard"),
    Column("status", String(16), nullable=False, server_default="active"),
    Column("store_id", String(64), nullable=True),
    Column("created_at", DateTime, nullable=False),
    Column("phone_enc", Text, nullable=True),
    Column("phone_index", String(64), nullable=True),
    Column("wechat_enc", Text, nullable=True),
    Column("wechat_index", String(64), nullable=True),
    Column("birthday", Date, nullable=True),
    Column("associate_id", String(64), nullable=True),
    Column("enrolled_via", String(32), nullable=False, server_default="store"),
    Column("tier_since", DateTime, nullable=True),
    Index("uq_members_phone_index", "phone_index", unique=True),
    Index("uq_members_wechat_index", "wechat_index", unique=True),
)

#: Every tier change with its reason (upgrade, downgrade, manual).
tier_changes = Table(
    "tier_changes",
    metadata,
    Column("change_id", _ID, primary_key=True),
    Column("member_id", ForeignKey("members.member_id"), nullable=False),
    Column("from_tier", String(32), nullable=False),
    Column("to_tier", String(32), nullable=False),
    Column("reason", String(256), nullable=False),
    Column("at", DateTime, nullable=False),
    Index("ix_tier_changes_member", "member_id"),
)

#: One account per owner (a member id, or ``system``), asset and purpose.
ledger_accounts = Table(
    "ledger_accounts",
    metadata,
    Column("account_id", _ID, primary_key=True),
    Column("owner", String(64), nullable=False),
    Column("asset", String(16), nullable=False),
    Column("purpose", String(32), nullable=False),
    Column("balance", BigInteger, nullable=False, server_default="0"),
    UniqueConstraint("owner", "asset", "purpose", name="uq_ledger_account"),
    CheckConstraint("owner = 'system' OR balance >= 0", name="ck_member_balance_not_negative"),
)

#: One business operation (earn, redeem, top-up …), keyed for safe retries.
ledger_txns = Table(
    "ledger_txns",
    metadata,
    Column("txn_id", _ID, primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("idempotency_key", String(160), nullable=False, unique=True),
    Column("request_hash", String(64), nullable=False),
    Column("member_id", String(64), nullable=True),
    Column("reference", String(128), nullable=True),
    Column("created_at", DateTime, nullable=False),
    Column("result", JSON, nullable=True),
    Index("ix_ledger_txns_reference", "kind", "reference"),
)

ledger_entries = Table(
    "ledger_entries",
    metadata,
    Column("entry_id", _ID, primary_key=True),
    Column("txn_id", ForeignKey("ledger_txns.txn_id"), nullable=False),
    Column("account_id", ForeignKey("ledger_accounts.account_id"), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Index("ix_ledger_entries_account", "account_id"),
    Index("ix_ledger_entries_txn", "txn_id"),
)

#: Points earned together, expiring together; consumed oldest expiry first.
point_lots = Table(
    "point_lots",
    metadata,
    Column("lot_id", _ID, primary_key=True),
    Column("member_id", String(64), nullable=False),
    Column("txn_id", ForeignKey("ledger_txns.txn_id"), nullable=False),
    Column("points", BigInteger, nullable=False),
    Column("remaining", BigInteger, nullable=False),
    Column("earned_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
    CheckConstraint("remaining >= 0 AND remaining <= points", name="ck_lot_remaining"),
    Index("ix_point_lots_member", "member_id", "expires_at"),
)

#: Which transaction took how many points out of which lot.
point_lot_uses = Table(
    "point_lot_uses",
    metadata,
    Column("use_id", _ID, primary_key=True),
    Column("txn_id", ForeignKey("ledger_txns.txn_id"), nullable=False),
    Column("lot_id", ForeignKey("point_lots.lot_id"), nullable=False),
    Column("points", BigInteger, nullable=False),
    CheckConstraint("points > 0", name="ck_lot_use_positive"),
    Index("ix_point_lot_uses_lot", "lot_id"),
)
