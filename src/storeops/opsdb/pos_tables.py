"""Ops-database tables of the POS: the order feed to the warehouse.

Every committed order and refund leaves one ``pos_feed`` row in the same transaction
as its value movements, holding the canonical warehouse rows (``orders`` +
``order_lines``, or ``refunds``). :func:`storeops.pos.feed.export_feed` appends the
unexported rows to the warehouse and marks them; the warehouse's natural keys make a
re-export after a crash change nothing.
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, DateTime, Index, Integer, String, Table

from storeops.opsdb.tables import metadata

_ID = BigInteger().with_variant(Integer, "sqlite")

pos_feed = Table(
    "pos_feed",
    metadata,
    Column("feed_id", _ID, primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("reference", String(128), nullable=False, unique=True),
    Column("store_id", String(64), nullable=True),
    Column("rows", JSON, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("exported_at", DateTime, nullable=True),
    Index("ix_pos_feed_unexported", "exported_at"),
)
