"""Store summary on tiny hand-built data, on every warehouse backend."""

from __future__ import annotations

from datetime import date, datetime

import pyarrow as pa
import pytest

from storeops.analytics.store_summary import (
    StoreSummary,
    StoreSummaryQuery,
    StoreSummaryRow,
    store_summary,
)
from storeops.warehouse import Warehouse


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.fixture
def shop(warehouse: Warehouse) -> Warehouse:
    """S1 in Shanghai (UTC+8), S2 in Urumqi (UTC+6), S3 without people counters."""
    warehouse.append(
        "stores",
        pa.table(
            {
                "store_id": ["S1", "S2", "S3"],
                "name": ["Shanghai", "Urumqi", "No counter"],
                "timezone": ["Asia/Shanghai", "Asia/Urumqi", "Asia/Shanghai"],
            }
        ),
    )
    # UTC instants; comments give the store's local day.
    traffic = [
        ("S1", "E1", "2026-01-01 02:00:00", 10),  # Jan 1
        ("S1", "E1", "2026-01-01 16:30:00", 20),  # Jan 2 00:30 in Shanghai
        ("S1", "E2", "2026-01-02 03:00:00", 30),  # Jan 2
        ("S2", "E1", "2026-01-01 17:30:00", 40),  # Jan 1 23:30 in Urumqi
        ("S2", "E1", "2026-01-02 04:00:00", 50),  # Jan 2
    ]
    warehouse.append(
        "traffic_counts",
        pa.table(
            {
                "store_id": [r[0] for r in traffic],
                "entrance_id": [r[1] for r in traffic],
                "interval_start": pa.array([_ts(r[2]) for r in traffic], pa.timestamp("us")),
                "interval_seconds": [60] * len(traffic),
                "ins": [r[3] for r in traffic],
                "outs": [0] * len(traffic),
            }
        ),
    )
    orders = [
        ("O1", "S1", "store", "C1", "2026-01-01 03:00:00", 10_000, "completed"),
        ("O2", "S1", "store", "C1", "2026-01-01 16:30:00", 20_000, "completed"),  # Jan 2 local
        ("O3", "S1", "store", None, "2026-01-02 05:00:00", 30_000, "partially_refunded"),
        ("O4", "S1", "store", "C2", "2026-01-02 06:00:00", 5_000, "refunded"),
        ("O5", "S1", "store", "C2", "2026-01-02 07:00:00", 7_000, "cancelled"),
        ("O6", "S2", "store", "C3", "2026-01-01 17:30:00", 40_000, "completed"),  # Jan 1 local
        ("O7", "S2", "store", "C3", "2026-01-02 04:00:00", 60_000, "completed"),
        ("O8", None, "mini_program", "C1", "2026-01-02 04:00:00", 99_000, "completed"),
        ("O9", "S3", "store", "C4", "2026-01-02 04:00:00", 8_000, "completed"),
        ("O10", "S1", "community", "C1", "2026-01-02 04:00:00", 1_000, "completed"),
    ]
    warehouse.append(
        "orders",
        pa.table(
            {
                "order_id": [o[0] for o in orders],
                "store_id": [o[1] for o in orders],
                "channel": [o[2] for o in orders],
                "customer_id": [o[3] for o in orders],
                "ts": pa.array([_ts(o[4]) for o in orders], pa.timestamp("us")),
                "total_fen": [o[5] for o in orders],
                "discount_fen": [0] * len(orders),
                "currency": ["CNY"] * len(orders),
                "status": [o[6] for o in orders],
            }
        ),
    )
    return warehouse


def _by_store(rows: list[StoreSummaryRow]) -> dict[str, StoreSummaryRow]:
    return {r.store_id: r for r in rows}


def test_whole_period(shop: Warehouse) -> None:
    rows = _by_store(store_summary(shop))
    assert list(rows) == ["S1", "S2", "S3"]
    s1, s2, s3 = rows["S1"], rows["S2"], rows["S3"]
    assert (s1.entries, s1.transactions, s1.sales_fen) == (60, 3, 60_000)
    assert s1.conversion == pytest.approx(0.05)
    assert s1.atv_fen == pytest.approx(20_000)
    # C1 bought twice; C2's orders were refunded and cancelled: not sales.
    assert (s1.customers, s1.repeat_customers, s1.repeat_purchase_rate) == (1, 1, 1.0)
    assert (s2.entries, s2.transactions, s2.sales_fen) == (90, 2, 100_000)
    assert s2.conversion == pytest.approx(2 / 90)
    assert s2.atv_fen == pytest.approx(50_000)
    assert s2.repeat_purchase_rate == 1.0
    assert s3.entries is None and s3.conversion is None
    assert (s3.transactions, s3.sales_fen, s3.atv_fen) == (1, 8_000, 8_000)
    assert (s3.customers, s3.repeat_customers, s3.repeat_purchase_rate) == (1, 0, 0.0)


def test_local_day_boundaries(shop: Warehouse) -> None:
    """2026-01-01 16:30 UTC is 2026-01-02 in Shanghai; 17:30 UTC is still Jan 1 in Urumqi."""
    jan2 = date(2026, 1, 2)
    rows = _by_store(store_summary(shop, date_from=jan2, date_to=jan2))
    s1, s2 = rows["S1"], rows["S2"]
    assert (s1.entries, s1.transactions, s1.sales_fen) == (50, 2, 50_000)
    assert s1.conversion == pytest.approx(0.04)
    assert s1.atv_fen == pytest.approx(25_000)
    assert (s1.customers, s1.repeat_customers, s1.repeat_purchase_rate) == (1, 0, 0.0)
    assert (s2.entries, s2.transactions, s2.sales_fen) == (50, 1, 60_000)
    assert s2.conversion == pytest.approx(0.02)

    jan1 = date(2026, 1, 1)
    rows = _by_store(store_summary(shop, date_from=jan1, date_to=jan1))
    assert (rows["S1"].entries, rows["S1"].transactions) == (10, 1)
    assert (rows["S2"].entries, rows["S2"].transactions) == (40, 1)
    assert rows["S2"].conversion == pytest.approx(0.025)
    assert (rows["S3"].transactions, rows["S3"].atv_fen, rows["S3"].repeat_purchase_rate) == (
        0,
        None,
        None,
    )


def test_open_ended_range_and_store_filter(shop: Warehouse) -> None:
    query = StoreSummaryQuery(date_from=date(2026, 1, 2), store_ids=("S2",))
    rows = StoreSummary(shop, query).calculate()
    assert [r.store_id for r in rows] == ["S2"]
    assert (rows[0].entries, rows[0].transactions) == (50, 1)


def test_reversed_range_is_rejected() -> None:
    with pytest.raises(ValueError, match="swap them"):
        StoreSummaryQuery(date_from=date(2026, 2, 1), date_to=date(2026, 1, 1))


def test_empty_warehouse(warehouse: Warehouse) -> None:
    assert store_summary(warehouse) == []
