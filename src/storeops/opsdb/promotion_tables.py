"""Ops-database tables of promotions and coupons (on the shared ``metadata``).

A program's counters (``uses``, ``spent_fen``) and a customer's ``promotion_usage``
move only with conditional updates (``uses < max_uses``, ``spent_fen + d <=
budget_fen``), backed by CHECK constraints, so limits hold under concurrency. A coupon
goes ``issued`` → ``redeemed`` with one conditional update and back when its
redemption is voided; ``coupon_redemptions`` keeps every redemption, live or voided.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
    false,
)

from storeops.opsdb.tables import metadata

_ID = BigInteger().with_variant(Integer, "sqlite")

#: One promotion program: its kind and parameters, scope, window, limits, counters.
promotion_programs = Table(
    "promotion_programs",
    metadata,
    Column("program_id", String(64), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("params", JSON, nullable=False),
    Column("scope", JSON, nullable=False),
    Column("starts_at", DateTime, nullable=True),
    Column("ends_at", DateTime, nullable=True),
    Column("stackable", Boolean, nullable=False, server_default=false()),
    Column("priority", Integer, nullable=False, server_default="100"),
    Column("budget_fen", BigInteger, nullable=True),
    Column("max_uses", Integer, nullable=True),
    Column("per_customer_limit", Integer, nullable=True),
    Column("spent_fen", BigInteger, nullable=False, server_default="0"),
    Column("uses", Integer, nullable=False, server_default="0"),
    Column("status", String(16), nullable=False, server_default="active"),
    Column("created_at", DateTime, nullable=False),
    CheckConstraint(
        "spent_fen >= 0 AND (budget_fen IS NULL OR spent_fen <= budget_fen)",
        name="ck_program_budget",
    ),
    CheckConstraint("uses >= 0 AND (max_uses IS NULL OR uses <= max_uses)", name="ck_program_uses"),
)

#: How many live redemptions of a program a customer has (per-customer limits).
promotion_usage = Table(
    "promotion_usage",
    metadata,
    Column("program_id", ForeignKey("promotion_programs.program_id"), primary_key=True),
    Column("customer_id", String(128), primary_key=True),
    Column("uses", Integer, nullable=False, server_default="0"),
    CheckConstraint("uses >= 0", name="ck_usage_not_negative"),
)

#: Coupon codes, generated or imported, optionally bound to one customer.
coupons = Table(
    "coupons",
    metadata,
    Column("coupon_id", _ID, primary_key=True),
    Column("code", String(32), nullable=False, unique=True),
    Column("program_id", ForeignKey("promotion_programs.program_id"), nullable=False),
    Column("customer_id", String(128), nullable=True),
    Column("status", String(16), nullable=False, server_default="issued"),
    Column("source", String(16), nullable=False),
    Column("batch", String(160), nullable=True),
    Column("issued_order_id", String(128), nullable=True),
    Column("issued_at", DateTime, nullable=False),
    Column("valid_from", DateTime, nullable=True),
    Column("valid_until", DateTime, nullable=True),
    Column("redemption_id", BigInteger, nullable=True),
    # One next-order coupon per program and issuing order (NULLs are distinct).
    UniqueConstraint("program_id", "issued_order_id", name="uq_coupon_issuing_order"),
    Index("ix_coupons_program", "program_id", "status"),
    Index("ix_coupons_customer", "customer_id"),
)

#: Every redemption (核销) of a program, with or without a coupon; voided ones kept.
coupon_redemptions = Table(
    "coupon_redemptions",
    metadata,
    Column("redemption_id", _ID, primary_key=True),
    Column("coupon_id", ForeignKey("coupons.coupon_id"), nullable=True),
    Column("program_id", ForeignKey("promotion_programs.program_id"), nullable=False),
    Column("customer_id", String(128), nullable=True),
    Column("order_id", String(128), nullable=False),
    Column("store_id", String(64), nullable=True),
    Column("channel", String(32), nullable=True),
    Column("discount_fen", BigInteger, nullable=False),
    Column("redeemed_at", DateTime, nullable=False),
    Column("txn_id", ForeignKey("ledger_txns.txn_id"), nullable=False),
    Column("voided_at", DateTime, nullable=True),
    Column("void_txn_id", ForeignKey("ledger_txns.txn_id"), nullable=True),
    CheckConstraint("discount_fen >= 0", name="ck_redemption_discount"),
    Index("ix_coupon_redemptions_coupon", "coupon_id"),
    Index("ix_coupon_redemptions_order", "order_id"),
)
