"""A small random merchant for the KPI tests: two stores in Shanghai (UTC+8) over 75
days, orders in three channels and four statuses, counters with and without
passers-by, surveys and inventory. Seeded, so every run builds the same data; the
tests compare the KPI mart with independent computations on these raw rows."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from tests.analytics.builders import add_rows

from storeops.warehouse import Warehouse

FIRST = date(2026, 1, 1)
DAYS = 75
LAST = FIRST + timedelta(days=DAYS - 1)
STORES = {"S1": 100.0, "S2": 40.0}
CUSTOMERS = [f"C{i:02d}" for i in range(40)]


def utc(day: date, local_hour: int, minute: int = 0) -> datetime:
    """The UTC time of a Shanghai local ``day`` and hour (may fall on the day before)."""
    return datetime(day.year, day.month, day.day, local_hour, minute) - timedelta(hours=8)


def fill(wh: Warehouse, seed: int = 7) -> Warehouse:
    rng = np.random.default_rng(seed)
    add_rows(
        wh,
        "stores",
        [
            {"store_id": s, "name": s, "timezone": "Asia/Shanghai", "area_m2": area}
            for s, area in STORES.items()
        ],
    )
    add_rows(
        wh,
        "customers",
        [
            {
                "customer_id": c,
                "first_seen_at": utc(FIRST + timedelta(days=int(rng.integers(0, DAYS))), 10),
                "home_store_id": [None, "S1", "S2"][int(rng.integers(0, 3))],
            }
            for c in CUSTOMERS
        ],
    )
    counts: list[dict[str, Any]] = []
    orders: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    surveys: list[dict[str, Any]] = []
    stock: list[dict[str, Any]] = []
    statuses = ["completed", "completed", "completed", "partially_refunded", "cancelled",
                "refunded"]  # fmt: skip
    channels = ["store", "store", "store", "community", "mini_program"]
    n = 0
    for i in range(DAYS):
        day = FIRST + timedelta(days=i)
        for store in STORES:
            # Counters: door E1 reports passers-by, E2 does not; one reading at 00:30
            # local lands on the UTC day before.
            for hour in (0, 10, 15, 20):
                counts.append(
                    {"store_id": store, "entrance_id": "E1", "interval_start": utc(day, hour, 30),
                     "interval_seconds": 3600, "ins": int(rng.integers(5, 40)), "outs": 0,
                     "passers_by": int(rng.integers(50, 200))}
                )  # fmt: skip
                counts.append(
                    {"store_id": store, "entrance_id": "E2", "interval_start": utc(day, hour, 30),
                     "interval_seconds": 3600, "ins": int(rng.integers(0, 10)), "outs": 0}
                )  # fmt: skip
            for _ in range(int(rng.integers(0, 6))):
                n += 1
                channel = channels[int(rng.integers(0, len(channels)))]
                known = rng.random() < 0.8
                oid = f"O{n:05d}"
                orders.append(
                    {
                        "order_id": oid,
                        "store_id": None if channel == "mini_program" else store,
                        "channel": channel,
                        "customer_id": CUSTOMERS[int(rng.integers(0, 25))] if known else None,
                        "ts": utc(day, int(rng.integers(0, 24)), int(rng.integers(0, 60))),
                        "total_fen": int(rng.integers(1, 500)) * 100,
                        "discount_fen": 0,
                        "currency": "CNY",
                        "status": statuses[int(rng.integers(0, len(statuses)))],
                    }
                )
                for ln in range(1, int(rng.integers(1, 4)) + 1):
                    lines.append(
                        {"order_id": oid, "line_no": ln, "sku": "P1",
                         "quantity": int(rng.integers(1, 4)), "unit_price_fen": 100,
                         "discount_fen": 0, "amount_fen": 100}
                    )  # fmt: skip
            for k in range(int(rng.integers(0, 3))):
                kind = "nps" if rng.random() < 0.5 else "csat"
                score = int(rng.integers(0, 11)) if kind == "nps" else int(rng.integers(1, 6))
                surveys.append(
                    {"response_id": f"R{i}-{store}-{k}", "survey": kind, "store_id": store,
                     "ts": utc(day, 12), "score": score}
                )  # fmt: skip
            if store == "S1" and i >= DAYS - 30:
                stock.append({"store_id": store, "sku": "P1", "date": day,
                              "on_hand": int(rng.integers(20, 80))})  # fmt: skip
    # An NPS answer about no store counts for the chain only.
    surveys.append({"response_id": "R-x", "survey": "nps", "ts": utc(FIRST, 12), "score": 10})
    add_rows(wh, "products", [{"sku": "P1", "name": "P", "price_fen": 100}])
    add_rows(wh, "traffic_counts", counts)
    add_rows(wh, "orders", orders)
    add_rows(wh, "order_lines", lines)
    add_rows(wh, "surveys", surveys)
    add_rows(wh, "inventory_snapshots", stock)
    return wh
