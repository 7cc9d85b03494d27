"""Ops-database tables of notification channels, deliveries, alert rules and alerts.

- ``notify_channels``: where notifications go (kind + non-secret settings as JSON; the
  secret — webhook key, robot secret, SMTP password — only encrypted, in
  ``secret_enc``);
- ``notify_deliveries``: the queue. One row per notification per channel, unique per
  ``(channel_id, dedup_key)`` so the same notification is never queued twice; it goes
  ``pending`` → ``sending`` (claimed by one worker with a conditional update) →
  ``sent``, or back to ``pending`` with a later ``next_attempt_at``, or ``failed`` after
  the last attempt;
- ``alert_rules``: a rule on one KPI (threshold or anomaly), its level, stores and
  channels;
- ``alert_events``: what fired, once per ``(rule_id, store_id, day)``, with its
  acknowledgement.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    true,
)

from storeops.opsdb.tables import metadata

_ID = BigInteger().with_variant(Integer, "sqlite")

notify_channels = Table(
    "notify_channels",
    metadata,
    Column("channel_id", _ID, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),
    Column("config", JSON, nullable=False),
    Column("secret_enc", Text, nullable=True),
    Column("enabled", Boolean, nullable=False, server_default=true()),
    Column("created_at", DateTime, nullable=False),
)

notify_deliveries = Table(
    "notify_deliveries",
    metadata,
    Column("delivery_id", _ID, primary_key=True),
    Column(
        "channel_id",
        _ID,
        ForeignKey("notify_channels.channel_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("dedup_key", String(200), nullable=True),
    Column("level", String(16), nullable=False),
    Column("subject", String(500), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", DateTime, nullable=False),
    Column("claimed_at", DateTime, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", DateTime, nullable=False),
    Column("sent_at", DateTime, nullable=True),
    UniqueConstraint("channel_id", "dedup_key", name="uq_delivery_dedup"),
    Index("ix_deliveries_due", "status", "next_attempt_at"),
)

alert_rules = Table(
    "alert_rules",
    metadata,
    Column("rule_id", _ID, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("kpi", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("params", JSON, nullable=False),
    Column("level", String(16), nullable=False),
    Column("stores", JSON, nullable=True),  # null = every store
    Column("channels", JSON, nullable=False),
    Column("enabled", Boolean, nullable=False, server_default=true()),
    Column("created_at", DateTime, nullable=False),
)

alert_events = Table(
    "alert_events",
    metadata,
    Column("alert_id", _ID, primary_key=True),
    Column("rule_id", _ID, ForeignKey("alert_rules.rule_id", ondelete="CASCADE"), nullable=False),
    Column("store_id", String(64), nullable=False),
    Column("day", Date, nullable=False),
    Column("kpi", String(64), nullable=False),
    Column("level", String(16), nullable=False),
    Column("value", Float, nullable=True),
    Column("expected", Float, nullable=True),
    Column("score", Float, nullable=True),
    Column("detail", JSON, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("acknowledged_at", DateTime, nullable=True),
    Column("acknowledged_by", String(128), nullable=True),
    UniqueConstraint("rule_id", "store_id", "day", name="uq_alert_rule_store_day"),
    Index("ix_alert_events_store_day", "store_id", "day"),
)
