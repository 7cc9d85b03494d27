"""Store performance and the store benchmark on hand-built data with exact numbers."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from tests.analytics.builders import add_rows, order
from tests.analytics.test_traffic import count

from storeops.analytics.performance import (
    BenchmarkQuery,
    BenchmarkTargets,
    PerformanceQuery,
    StoreBenchmark,
    StorePerformance,
)
from storeops.demo.build import build_demo
from storeops.demo.config import DemoConfig
from storeops.warehouse import Warehouse
from storeops.workspace import Workspace, open_workspace


def line(order_id: str, line_no: int, quantity: int) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "line_no": line_no,
        "sku": "P1",
        "quantity": quantity,
        "unit_price_fen": 100,
        "discount_fen": 0,
        "amount_fen": 100 * quantity,
    }


def shift(store: str, staff: str, start: str, end: str, role: str = "sales") -> dict[str, Any]:
    """A shift; ``start`` and ``end`` are UTC ``YYYY-MM-DD HH:MM``."""
    return {
        "store_id": store,
        "staff_id": staff,
        "shift_start": datetime.strptime(start, "%Y-%m-%d %H:%M"),
        "shift_end": datetime.strptime(end, "%Y-%m-%d %H:%M"),
        "role": role,
    }


def fill(wh: Warehouse) -> Warehouse:
    add_rows(
        wh,
        "stores",
        [
            {"store_id": "S1", "name": "A", "timezone": "Asia/Shanghai", "area_m2": 100.0},
            {"store_id": "S2", "name": "B", "timezone": "Asia/Shanghai"},  # no area
            {"store_id": "S3", "name": "C", "timezone": "Asia/Shanghai", "area_m2": 50.0},
        ],
    )
    # Shanghai is UTC+8: 01:59 UTC is 09:59 local, 16:00 UTC is local midnight.
    add_rows(
        wh,
        "traffic_counts",
        [
            count("S1", "E1", "2026-01-05 01:59", 10, 0),  # 01-05 09:59
            count("S1", "E1", "2026-01-05 02:00", 20, 0),  # 10:00
            count("S1", "E2", "2026-01-05 02:59", 5, 0),  # 10:59
            count("S1", "E1", "2026-01-05 15:59", 5, 0),  # 23:59
            count("S1", "E1", "2026-01-05 16:00", 10, 0),  # 01-06 00:00
            count("S2", "E1", "2026-01-05 03:00", 20, 0),  # 11:00
            count("S3", "E1", "2026-01-05 02:00", 40, 0),  # 10:00
        ],
    )
    add_rows(
        wh,
        "orders",
        [
            order("O1", "C9", "2026-01-05 01:30", 1000),  # 09:30
            order("O2", "C9", "2026-01-05 02:10", 3000, status="partially_refunded"),
            order("O3", "C8", "2026-01-05 02:20", 2000, status="cancelled"),  # no sale
            order("O4", "C8", "2026-01-05 02:30", 5000, channel="online"),  # not in store
            order("O5", None, "2026-01-05 16:10", 500),  # 01-06 00:10, no lines
            order("O6", "C1", "2026-01-05 03:10", 1000, store_id="S2"),  # 11:10
            order("O7", "C1", "2026-01-05 04:10", 1000, store_id="S2"),  # 12:10, no counts
            order("O8", "C2", "2026-01-05 02:05", 2000, store_id="S3"),
            order("O9", "C2", "2026-01-05 02:06", 2000, store_id="S3"),
            order("O10", "C3", "2026-01-05 02:07", 2000, store_id="S3"),
            order("O11", None, "2026-01-05 02:08", 2000, store_id="S3"),
        ],
    )
    add_rows(
        wh,
        "order_lines",
        [
            line("O1", 1, 2),
            line("O1", 2, 1),
            line("O2", 1, 1),
            line("O3", 1, 7),
            line("O4", 1, 7),
            line("O6", 1, 1),
            line("O8", 1, 2),
        ],
    )
    add_rows(
        wh,
        "staff_shifts",
        [
            shift("S1", "A", "2026-01-05 01:30", "2026-01-05 03:00"),  # 09:30-11:00 local
            shift("S1", "B", "2026-01-05 02:00", "2026-01-05 02:30"),  # 10:00-10:30
            shift("S1", "M", "2026-01-05 01:00", "2026-01-05 04:00", role="manager"),
            shift("S1", "D", "2026-01-05 15:00", "2026-01-05 16:30"),  # 23:00-00:30
        ],
    )
    return wh


def _by_key(rows: list[Any]) -> dict[tuple[str, str], Any]:
    return {(r.store_id, r.bucket): r for r in rows}


def test_hourly_performance_and_benchmark(warehouse: Warehouse) -> None:
    wh = fill(warehouse)
    hours = _by_key(StorePerformance(wh, PerformanceQuery(by="hour")).calculate())
    assert sorted(hours) == [
        ("S1", "2026-01-05 09:00"),
        ("S1", "2026-01-05 10:00"),
        ("S1", "2026-01-05 23:00"),
        ("S1", "2026-01-06 00:00"),
        ("S2", "2026-01-05 11:00"),
        ("S2", "2026-01-05 12:00"),
        ("S3", "2026-01-05 10:00"),
    ]
    nine = hours["S1", "2026-01-05 09:00"]
    # 09:59 local is still hour 9; shift A (09:30-11:00) overlaps it.
    assert (nine.entries, nine.transactions, nine.sales_fen, nine.units) == (10, 1, 1000, 3)
    assert (nine.staff_hours, nine.star, nine.conversion) == (1, 10.0, 0.1)
    ten = hours["S1", "2026-01-05 10:00"]
    # A and B both on the floor; the cancelled and the online order do not count.
    assert (ten.entries, ten.transactions, ten.sales_fen, ten.units) == (25, 1, 3000, 1)
    assert (ten.staff_hours, ten.star) == (2, 12.5)
    assert ten.conversion == pytest.approx(0.04)
    assert ten.sales_per_m2_fen == pytest.approx(30.0)
    # Shift D runs over local midnight: 23:00 and 00:00; A ends at 11:00 sharp.
    assert hours["S1", "2026-01-05 23:00"].staff_hours == 1
    midnight = hours["S1", "2026-01-06 00:00"]
    assert (midnight.entries, midnight.transactions, midnight.staff_hours) == (10, 1, 1)
    assert (midnight.units, midnight.upt) == (0, 0.0)
    noon = hours["S2", "2026-01-05 12:00"]  # a sale in an hour without counts
    assert (noon.entries, noon.transactions, noon.conversion) == (None, 1, None)
    eleven = hours["S2", "2026-01-05 11:00"]
    assert (eleven.staff_hours, eleven.star, eleven.sales_per_m2_fen) == (0, None, None)
    assert eleven.sales_per_visitor_fen == pytest.approx(50.0)

    bench = StoreBenchmark(wh).calculate()
    s1, s2, s3 = (bench.stores[s] for s in ("S1", "S2", "S3"))
    assert (s1.entries, s1.transactions, s1.sales_fen, s1.units, s1.days) == (50, 3, 4500, 4, 2)
    assert (s1.staff_hours, s1.star) == (5, 10.0)
    conv = {s.store_id: s.metrics["conversion"] for s in (s1, s2, s3)}
    # S2 and S3 tie at 10 %: both rank 1, S1 is third.
    assert {k: (v.rank, v.percentile) for k, v in conv.items()} == {
        "S1": (3, 0.0),
        "S2": (1, 1.0),
        "S3": (1, 1.0),
    }
    assert conv["S1"].value == pytest.approx(0.06)
    assert conv["S2"].meets_target is True
    assert conv["S1"].target == 0.06
    assert s3.metrics["traffic_density"].value == pytest.approx(0.8)
    assert s1.metrics["traffic_density"].value == pytest.approx(0.25)
    assert s2.metrics["traffic_density"].rank is None
    assert s2.metrics["sales_per_m2_fen"].value is None
    assert (s1.metrics["sales_per_m2_fen"].rank, s1.metrics["sales_per_m2_fen"].percentile) == (
        2,
        0.0,
    )
    assert [bench.stores[s].metrics["atv_fen"].rank for s in ("S1", "S2", "S3")] == [2, 3, 1]
    assert s1.metrics["atv_fen"].percentile == pytest.approx(0.5)
    assert [bench.stores[s].metrics["upt"].rank for s in ("S1", "S2", "S3")] == [1, 2, 2]
    repeat = [bench.stores[s].metrics["repeat_purchase_rate"] for s in ("S1", "S2", "S3")]
    assert [(m.value, m.rank) for m in repeat] == [(1.0, 1), (1.0, 1), (0.5, 3)]


def test_daily_performance_and_range(duckdb_workspace: Workspace) -> None:
    with duckdb_workspace.warehouse() as wh:
        fill(wh)
        days = _by_key(StorePerformance(wh, PerformanceQuery(by="day")).calculate())
        s1 = days["S1", "2026-01-05"]
        assert (s1.entries, s1.transactions, s1.sales_fen, s1.units) == (40, 2, 4000, 4)
        # Staff-hours: A at 09 and 10, B at 10, D at 23.
        assert (s1.staff_hours, s1.star) == (4, 10.0)
        assert (s1.conversion, s1.atv_fen, s1.upt) == (0.05, 2000.0, 2.0)
        assert (s1.sales_per_visitor_fen, s1.sales_per_m2_fen) == (100.0, 40.0)
        assert days["S1", "2026-01-06"].to_dict()["sales_fen"] == 500
        s2 = days["S2", "2026-01-05"]
        assert (s2.entries, s2.transactions, s2.upt, s2.sales_per_m2_fen) == (20, 2, 0.5, None)

        query = PerformanceQuery(
            by="day", date_from=date(2026, 1, 6), date_to=date(2026, 1, 6), store_ids=("S1",)
        )
        only = StorePerformance(wh, query).calculate()
        assert [(r.store_id, r.bucket, r.entries) for r in only] == [("S1", "2026-01-06", 10)]


def test_benchmark_targets_and_one_store(duckdb_workspace: Workspace) -> None:
    with duckdb_workspace.warehouse() as wh:
        fill(wh)
        targets = BenchmarkTargets(conversion=0.08, atv_fen=1800, repeat_purchase_rate=0.6)
        bench = StoreBenchmark(wh, BenchmarkQuery(targets=targets)).calculate()
        s1, s3 = bench.stores["S1"].metrics, bench.stores["S3"].metrics
        assert (s1["conversion"].meets_target, s3["conversion"].meets_target) == (False, True)
        assert s1["conversion"].vs_target == pytest.approx(-0.02)
        assert (s1["atv_fen"].vs_target, s3["atv_fen"].meets_target) == (-300.0, True)
        assert s3["repeat_purchase_rate"].meets_target is False
        assert s1["upt"].target is None and s1["upt"].meets_target is None
        out = json.loads(json.dumps(bench.to_dict()))
        assert out["targets"]["atv_fen"] == 1800
        assert out["stores"]["S2"]["metrics"]["sales_per_m2_fen"]["value"] is None

        alone = StoreBenchmark(wh, BenchmarkQuery(store_ids=("S1",))).calculate()
        assert alone.stores["S1"].metrics["conversion"].rank == 1
        assert alone.stores["S1"].metrics["conversion"].percentile == 1.0


def test_queries_are_checked() -> None:
    with pytest.raises(ValueError, match="swap them"):
        PerformanceQuery(date_from=date(2026, 2, 1), date_to=date(2026, 1, 1))
    with pytest.raises(ValueError):
        PerformanceQuery(by="week")  # type: ignore[arg-type]
    assert BenchmarkQuery().targets.conversion == 0.06


@pytest.mark.slow
def test_demo_conversion_ranks_stores_in_planted_order(tmp_path: Path) -> None:
    built = build_demo(tmp_path / "ws", DemoConfig(stores=3, customers=300, days=60))
    truth = json.loads((built.root / "sources" / "truth.json").read_text(encoding="utf-8"))
    planted = {s["store_id"]: s["conversion_rate"] for s in truth["stores"]}
    with open_workspace(built.root).warehouse() as wh:
        bench = StoreBenchmark(wh).calculate()
    measured = {sid: s.metrics["conversion"].value for sid, s in bench.stores.items()}
    assert sorted(planted, key=planted.__getitem__) == sorted(
        measured, key=lambda s: measured[s] or 0.0
    )
