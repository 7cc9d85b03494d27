"""Tiny builders for hand-made event sets with a frozen clock."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from itertools import count
from typing import Any

import pyarrow as pa

from storeops.warehouse import Warehouse

#: The frozen clock: every test event is an offset from this instant (UTC).
T0 = datetime(2026, 3, 2, 2, 0)  # 10:00 in Asia/Shanghai, a Monday

EVENT_COLUMNS = (
    "source_id",
    "message_id",
    "type",
    "event",
    "user_id",
    "anonymous_id",
    "ts",
    "properties",
    "context",
)
_ids = count()


def ev(
    event: str,
    *,
    anon: str | None = None,
    user: str | None = None,
    at: float = 0,
    props: dict[str, Any] | None = None,
    context: dict[str, Any] | None = None,
    msg: str | None = None,
    type: str = "track",
    source: str = "app",
) -> dict[str, Any]:
    """A track event ``at`` seconds after :data:`T0`."""
    return {
        "source_id": source,
        "message_id": msg or f"m{next(_ids):08d}",
        "type": type,
        "event": event,
        "user_id": user,
        "anonymous_id": anon,
        "ts": T0 + timedelta(seconds=at),
        "properties": json.dumps(props) if props is not None else None,
        "context": json.dumps(context) if context is not None else None,
    }


def events_table(rows: list[dict[str, Any]]) -> pa.Table:
    schema = pa.schema(
        [(c, pa.timestamp("us") if c == "ts" else pa.string()) for c in EVENT_COLUMNS]
    )
    return pa.table({c: [r[c] for r in rows] for c in EVENT_COLUMNS}, schema=schema)


def add_events(wh: Warehouse, rows: list[dict[str, Any]]) -> None:
    wh.append("events", events_table(rows))
