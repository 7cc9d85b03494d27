"""Lifecycle statuses on hand-built data with exact expected tables."""

from __future__ import annotations

from datetime import date

import pytest
from tests.analytics.builders import add_rows, order

from storeops.analytics.lifecycle import LifecycleInsight, LifecycleQuery
from storeops.warehouse import Warehouse


@pytest.fixture
def shop(warehouse: Warehouse) -> Warehouse:
    add_rows(warehouse, "stores", [{"store_id": "S1", "name": "A", "timezone": "Asia/Shanghai"}])
    # Weeks (Mon-Sun): W1 = 2026-01-05, W2 = 01-12, W3 = 01-19, W4 = 01-26. Times are UTC.
    add_rows(
        warehouse,
        "orders",
        [
            order("a0", "a", "2025-12-01 03:00", 100),  # a bought long before
            order("a1", "a", "2026-01-06 03:00", 100),  # W1 resurrecting
            order("a2", "a", "2026-01-13 03:00", 100),  # W2 returning
            order("a3", "a", "2026-01-14 03:00", 100),  # W2 again: counted once
            order("b1", "b", "2026-01-07 03:00", 100),  # W1 new
            order("b2", "b", "2026-01-21 03:00", 100),  # W2 dormant, W3 resurrecting
            order("c1", "c", "2026-01-11 16:30", 100),  # local 01-12 00:30 -> W2 new
            order("d1", "d", "2026-01-27 03:00", 100, status="cancelled"),  # not a purchase
        ],
    )
    return warehouse


def test_weekly_lifecycle(shop: Warehouse) -> None:
    query = LifecycleQuery(period="week", since=date(2026, 1, 5), until=date(2026, 1, 26))
    result = LifecycleInsight(shop, query).calculate()
    got = {(r.period.isoformat(), r.status): r.customers for r in result.table.itertuples()}
    assert got == {
        ("2026-01-05", "new"): 1,  # b
        ("2026-01-05", "resurrecting"): 1,  # a
        ("2026-01-12", "returning"): 1,  # a
        ("2026-01-12", "new"): 1,  # c (Shanghai day boundary)
        ("2026-01-12", "dormant"): 1,  # b
        ("2026-01-19", "resurrecting"): 1,  # b
        ("2026-01-19", "dormant"): 2,  # a, c
    }
    chart = result.chart_data()
    assert chart["periods"] == ["2026-01-05", "2026-01-12", "2026-01-19"]
    assert chart["series"]["dormant"] == [0, -1, -2]
    assert chart["series"]["new"] == [1, 1, 0]


def test_monthly_lifecycle(shop: Warehouse) -> None:
    query = LifecycleQuery(period="month", since=date(2025, 12, 1), until=date(2026, 3, 1))
    got = {
        (r.period.isoformat(), r.status): r.customers
        for r in LifecycleInsight(shop, query).calculate().table.itertuples()
    }
    assert got == {
        ("2025-12-01", "new"): 1,  # a
        ("2026-01-01", "returning"): 1,  # a
        ("2026-01-01", "new"): 2,  # b, c
        ("2026-02-01", "dormant"): 3,  # a, b, c
    }


def test_query_must_be_ordered() -> None:
    with pytest.raises(ValueError, match="until must be after since"):
        LifecycleQuery(since=date(2026, 2, 1), until=date(2026, 1, 1))
