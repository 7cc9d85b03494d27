"""Ops-database tables of scheduled reports.

- ``report_schedules``: which report to build on its own (kind, one store or the chain
  when ``store_id`` is NULL, format, language), from which local hour, and the
  notification channel it goes to;
- ``report_sends``: the sent-log, one row per schedule and period (``2026-10-31``,
  ``2026-W44``, ``2026-10``), unique, so that a report is built and handed to its
  channel once however often the scheduler looks. The row is claimed *before* the
  report is built; a build or hand-over that fails removes its claim so the next round
  tries again.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
    UniqueConstraint,
)

from storeops.opsdb.tables import metadata

_ID = BigInteger().with_variant(Integer, "sqlite")

report_schedules = Table(
    "report_schedules",
    metadata,
    Column("schedule_id", _ID, primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("store_id", String(64), nullable=True),
    Column("format", String(8), nullable=False),
    Column("locale", String(8), nullable=False),
    Column("channel", String(128), nullable=False),
    Column("hour", Integer, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("created_at", DateTime, nullable=False),
)

report_sends = Table(
    "report_sends",
    metadata,
    Column("send_id", _ID, primary_key=True),
    Column(
        "schedule_id",
        _ID,
        ForeignKey("report_schedules.schedule_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("period", String(16), nullable=False),
    Column("path", String(1000), nullable=True),
    Column("status", String(16), nullable=False),
    Column("created_at", DateTime, nullable=False),
    UniqueConstraint("schedule_id", "period", name="uq_report_sends_schedule_period"),
)
