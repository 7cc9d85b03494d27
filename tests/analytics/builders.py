"""Tiny builders for hand-made warehouse data in analytics tests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pyarrow as pa

from storeops.warehouse import Warehouse


def add_rows(wh: Warehouse, table: str, rows: list[dict[str, Any]]) -> None:
    """Append dict rows; columns not given are NULL (or the schema default left out)."""
    columns = sorted({k for row in rows for k in row})
    wh.append(table, pa.table({c: [row.get(c) for row in rows] for c in columns}))


def order(
    order_id: str,
    customer_id: str | None,
    ts: str,
    total_fen: int,
    *,
    store_id: str | None = "S1",
    status: str = "completed",
    channel: str = "store",
) -> dict[str, Any]:
    """An order row; ``ts`` is UTC ``YYYY-MM-DD HH:MM``."""
    return {
        "order_id": order_id,
        "store_id": store_id,
        "channel": channel,
        "customer_id": customer_id,
        "ts": datetime.strptime(ts, "%Y-%m-%d %H:%M"),
        "total_fen": total_fen,
        "discount_fen": 0,
        "currency": "CNY",
        "status": status,
    }
