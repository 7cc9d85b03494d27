"""Ops-database table of KPI goals: a target for one KPI, for one store or the chain,
from a start date (with its baseline) to a deadline. Pacing is computed when asked
(:mod:`storeops.goals`), never stored."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Date, DateTime, Float, Index, Integer, String, Table

from storeops.opsdb.tables import metadata

_ID = BigInteger().with_variant(Integer, "sqlite")

goals = Table(
    "goals",
    metadata,
    Column("goal_id", _ID, primary_key=True),
    Column("kpi", String(64), nullable=False),
    #: NULL: the whole chain.
    Column("store_id", String(64), nullable=True),
    Column("baseline", Float, nullable=False),
    Column("target", Float, nullable=False),
    Column("start_date", Date, nullable=False),
    Column("deadline", Date, nullable=False),
    Column("note", String(256), nullable=True),
    Column("created_at", DateTime, nullable=False),
    Column("created_by", String(64), nullable=True),
    Index("ix_goals_kpi_store", "kpi", "store_id"),
)
