"""The traffic analytics give the same results on DuckDB and on PySpark.

One tiny data set (counters with and without passers-by, sales, lines and shifts
across local midnight, Wi-Fi sightings with staff devices) goes into a workspace on
each backend; the traffic summary, occupancy, zones, store performance, the benchmark
and the daily marts must come out equal (floats to 1e-9 relative).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from tests.analytics import test_performance, test_traffic, test_zones
from tests.analytics.builders import add_rows
from tests.conftest import require_backend
from tests.marts.test_traffic_daily import fill_kolkata

from storeops.analytics.performance import (
    BenchmarkQuery,
    PerformanceQuery,
    StoreBenchmark,
    StorePerformance,
)
from storeops.analytics.traffic import BUCKETS, TrafficInsight, TrafficQuery
from storeops.analytics.zones import ZoneInsight, ZoneQuery, visits
from storeops.marts.traffic_daily import (
    PERFORMANCE_MART,
    TRAFFIC_MART,
    ZONE_MART,
    build_daily_marts,
)
from storeops.settings import load_settings
from storeops.warehouse import Warehouse, open_warehouse
from storeops.workspace import init_workspace

pytestmark = pytest.mark.spark

JAN4, JAN5, JAN6 = date(2026, 1, 4), date(2026, 1, 5), date(2026, 1, 6)


def fill(wh: Warehouse) -> None:
    """Store performance's shop and K1 (UTC+5:30), plus passers-by counters, zones and
    sightings in S1."""
    test_performance.fill(wh)
    fill_kolkata(wh)  # a zone whose local hours do not start on UTC hours
    c = test_traffic.count
    add_rows(
        wh,
        "traffic_counts",
        [
            c("S1", "E1", "2026-01-04 15:58", 2, 0, 8),  # Sun 23:58 local
            c("S1", "E1", "2026-01-05 08:00", 3, 5, 12),  # 16:00, more out than in
            c("S1", "E1", "2026-01-05 08:01", 10, 2, 30),
            c("S2", "E2", "2026-01-06 11:00", 5, 1, 0),  # 0 passers-by reported
        ],
    )
    add_rows(wh, "zones", test_zones.ZONES)
    s = test_zones.sighting
    rows = [
        s("d1", "2026-01-06 02:00", "Z01"),
        s("d1", "2026-01-06 02:02", "Z01"),
        s("d1", "2026-01-06 02:03", "Z02"),
        s("d1", "2026-01-06 02:05", "Z03", rssi=-81),
        s("d1", "2026-01-06 02:08", "Z02"),
        s("d1", "2026-01-06 02:18", "Z03"),
        s("d1", "2026-01-06 02:29", "Z01"),
        s("d2", "2026-01-06 02:01", "Z02"),
        s("d2", "2026-01-06 02:04", "Z02"),
        s("d2", "2026-01-06 02:11", "Z02"),
        s("d2", "2026-01-06 02:12", "Z01"),
        s("d3", "2025-12-31 15:55", "Z01"),
        s("d3", "2025-12-31 16:02", "Z02"),
        s("d4", "2026-01-05 03:00", "Z01"),
        s("d4", "2026-01-05 03:00", "Z02"),  # two sensors in the same second
        s("d4", "2026-01-05 03:07", "Z01"),
    ]
    rows += [s("st", f"2026-01-06 0{h}:00", "Z02") for h in range(1, 7)]
    rows += [s("st2", f"2026-01-0{d} 03:00", "Z03") for d in range(1, 7)]
    add_rows(wh, "wifi_sightings", rows)


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Warehouse, Warehouse]]:
    require_backend("spark")
    root: Path = tmp_path_factory.mktemp("parity")
    opened = []
    for backend in ("duckdb", "spark"):
        ws = init_workspace(root / backend, backend=backend)
        wh = open_warehouse(load_settings(ws.root))
        fill(wh)
        opened.append(wh)
    try:
        yield opened[0], opened[1]
    finally:
        for wh in opened:
            wh.close()


def assert_same(duck: Any, spark: Any, where: str = "") -> None:
    """Equal, floats to 1e-9 relative; NaN and None both mean missing."""
    if isinstance(duck, dict) and isinstance(spark, dict):
        assert duck.keys() == spark.keys(), where
        for key in duck:
            assert_same(duck[key], spark[key], f"{where}.{key}")
    elif isinstance(duck, list | tuple) and isinstance(spark, list | tuple):
        assert len(duck) == len(spark), where
        for i, (a, b) in enumerate(zip(duck, spark, strict=True)):
            assert_same(a, b, f"{where}[{i}]")
    elif _missing(duck) or _missing(spark):
        assert _missing(duck) and _missing(spark), f"{where}: {duck!r} != {spark!r}"
    elif isinstance(duck, float) or isinstance(spark, float):
        assert duck == pytest.approx(spark, rel=1e-9, abs=1e-12), f"{where}: {duck} != {spark}"
    else:
        assert duck == spark, f"{where}: {duck!r} != {spark!r}"


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def records(wh: Warehouse, expr: Any, *keys: str) -> list[dict[str, Any]]:
    rows = wh.to_pyarrow(expr).to_pylist()
    return sorted(rows, key=lambda r: tuple(str(r[k]) for k in keys))


@pytest.mark.parametrize("by", BUCKETS)
def test_traffic_summary(pair: tuple[Warehouse, Warehouse], by: str) -> None:
    query = TrafficQuery(date_from=JAN4, date_to=JAN6, by=by)  # type: ignore[arg-type]
    duck, spark = (TrafficInsight(wh, query) for wh in pair)
    result = duck.calculate().to_dict()
    assert result["stores"]["S1"]["passers_by"] == 50  # the data reach the comparison
    assert_same(result, spark.calculate().to_dict(), by)
    keys = ("store_id", "entrance_id", "bucket")
    assert_same(records(pair[0], duck.to_expr(), *keys), records(pair[1], spark.to_expr(), *keys))


def test_occupancy_and_all_days(pair: tuple[Warehouse, Warehouse]) -> None:
    duck, spark = (TrafficInsight(wh) for wh in pair)
    keys = ("store_id", "local_ts")
    occupancy = records(pair[0], duck.occupancy_expr(), *keys)
    assert occupancy == records(pair[1], spark.occupancy_expr(), *keys)
    assert max(r["occupancy"] for r in occupancy) == 46  # S1 on 01-05 by 23:59
    assert_same(duck.calculate().to_dict(), spark.calculate().to_dict())


@pytest.mark.parametrize("per_week", [False, True])
def test_zone_analytics(pair: tuple[Warehouse, Warehouse], per_week: bool) -> None:
    query = ZoneQuery(since=date(2025, 12, 29), until=date(2026, 1, 12), fixed_per_week=per_week)
    duck, spark = (ZoneInsight(wh, query).calculate().to_json() for wh in pair)
    assert len(duck["zones"]) == 3 and duck["transitions"]
    assert_same(duck, spark)
    keys = ("store_id", "device_hash", "visit")
    assert records(pair[0], visits(pair[0], query), *keys) == records(
        pair[1], visits(pair[1], query), *keys
    )


@pytest.mark.parametrize("by", ["hour", "day"])
def test_store_performance(pair: tuple[Warehouse, Warehouse], by: str) -> None:
    for query in (
        PerformanceQuery(by=by),  # type: ignore[arg-type]
        PerformanceQuery(by=by, date_from=JAN6, date_to=JAN6),  # type: ignore[arg-type]
    ):
        duck, spark = (
            [r.to_dict() for r in StorePerformance(wh, query).calculate()] for wh in pair
        )
        assert duck
        assert_same(duck, spark, by)


def test_benchmark(pair: tuple[Warehouse, Warehouse]) -> None:
    for query in (BenchmarkQuery(), BenchmarkQuery(date_from=JAN5, date_to=JAN5)):
        duck, spark = (StoreBenchmark(wh, query).calculate().to_dict() for wh in pair)
        assert_same(duck, spark)


def test_daily_marts(pair: tuple[Warehouse, Warehouse]) -> None:
    for wh in pair:
        build_daily_marts(wh)
        build_daily_marts(wh, JAN5, JAN6)  # a rebuilt range replaces its days
    for mart, keys in (
        (TRAFFIC_MART, ("store_id", "day")),
        (PERFORMANCE_MART, ("store_id", "day")),
        (ZONE_MART, ("store_id", "zone_id", "day")),
    ):
        duck, spark = (records(wh, wh.mart(mart), *keys) for wh in pair)
        assert duck, mart
        assert_same(duck, spark, mart)
