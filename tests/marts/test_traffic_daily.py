"""Daily traffic, store-performance and zone marts on hand-built data, exact numbers."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from tests.analytics import test_performance, test_traffic, test_zones
from tests.analytics.builders import add_rows, order
from typer.testing import CliRunner

from storeops.analytics.performance import PerformanceQuery, StorePerformance
from storeops.cli.main import app
from storeops.marts.traffic_daily import (
    PERFORMANCE_MART,
    TRAFFIC_MART,
    ZONE_MART,
    build_daily_marts,
    build_store_performance_daily,
    build_traffic_daily,
    build_zone_daily,
)
from storeops.warehouse import Warehouse
from storeops.workspace import Workspace, open_workspace

JAN5, JAN6 = date(2026, 1, 5), date(2026, 1, 6)


def rows(wh: Warehouse, mart: str) -> dict[tuple[Any, ...], dict[str, Any]]:
    """Mart rows keyed by (store, [zone,] ISO day), NULLs as None."""
    out = {}
    for r in wh.to_pyarrow(wh.mart(mart)).to_pylist():
        key = (r["store_id"], *([r["zone_id"]] if "zone_id" in r else []), str(r["day"]))
        assert key not in out, f"duplicate row {key}"
        out[key] = r
    return out


def pick(row: dict[str, Any], *names: str) -> tuple[Any, ...]:
    return tuple(row[n] for n in names)


def test_traffic_daily(duckdb_workspace: Workspace) -> None:
    with duckdb_workspace.warehouse() as wh:
        test_traffic._fill(wh)
        # A tie in S2 (4 at 09:00 and 4 at 11:00 local): the earlier hour is the peak.
        add_rows(wh, "traffic_counts", [test_traffic.count("S2", "E1", "2026-01-05 01:00", 4, 0)])
        built = build_traffic_daily(wh)
        assert (built.mart, built.rows, built.date_from) == (TRAFFIC_MART, 4, None)
        got = rows(wh, TRAFFIC_MART)
    cols = ("entries", "exits", "passers_by", "peak_hour", "peak_hour_entries", "max_occupancy")
    assert {k: pick(v, *cols) for k, v in got.items()} == {
        ("S1", "2026-01-04"): (2, 0, 8, 23, 2, 2),
        # 3 in / 5 out at 00:00 clips to 0; 10:00 brings the true total to -2 + 19 - 3 = 14.
        ("S1", "2026-01-05"): (22, 8, 42, 10, 19, 14),
        ("S1", "2026-01-06"): (5, 0, 10, 19, 5, 5),
        ("S2", "2026-01-05"): (8, 4, None, 9, 4, 4),
    }
    # Capture rate counts only E1, the door with a passers-by sensor: 13 / (13 + 42).
    assert got["S1", "2026-01-05"]["capture_rate"] == pytest.approx(13 / 55)
    assert got["S1", "2026-01-04"]["capture_rate"] == pytest.approx(0.2)
    assert got["S2", "2026-01-05"]["capture_rate"] is None


def test_store_performance_daily(duckdb_workspace: Workspace) -> None:
    with duckdb_workspace.warehouse() as wh:
        test_performance.fill(wh)
        built = build_store_performance_daily(wh)
        got = rows(wh, PERFORMANCE_MART)
    assert built.rows == 4
    cols = ("entries", "transactions", "sales_fen", "units", "staff_hours")
    assert {k: pick(v, *cols) for k, v in got.items()} == {
        ("S1", "2026-01-05"): (40, 2, 4000, 4, 4),  # staff: A at 09 and 10, B at 10, D at 23
        ("S1", "2026-01-06"): (10, 1, 500, 0, 1),  # D's shift runs past local midnight
        ("S2", "2026-01-05"): (20, 2, 2000, 1, 0),  # 12:00 has a sale but no counts
        ("S3", "2026-01-05"): (40, 4, 8000, 2, 0),
    }
    ratios = ("conversion", "atv_fen", "upt", "sales_per_visitor_fen", "sales_per_m2_fen", "star")
    assert pick(got["S1", "2026-01-05"], *ratios) == (0.05, 2000.0, 2.0, 100.0, 40.0, 10.0)
    assert pick(got["S1", "2026-01-06"], *ratios) == (0.1, 500.0, 0.0, 50.0, 5.0, 10.0)
    assert pick(got["S2", "2026-01-05"], *ratios) == (0.1, 1000.0, 0.5, 100.0, None, None)
    assert pick(got["S3", "2026-01-05"], *ratios) == (0.1, 2000.0, 0.5, 200.0, 160.0, None)


def fill_kolkata(wh: Warehouse) -> None:
    """Store K1 in Asia/Kolkata (UTC+5:30): one UTC hour spans two local hours."""
    add_rows(wh, "stores", [{"store_id": "K1", "name": "K", "timezone": "Asia/Kolkata"}])
    c = test_traffic.count
    add_rows(
        wh,
        "traffic_counts",
        [
            c("K1", "E1", "2026-01-05 04:29", 3, 0),  # 09:59 local
            c("K1", "E1", "2026-01-05 04:30", 4, 0),  # 10:00
            c("K1", "E1", "2026-01-05 18:29", 1, 0),  # 23:59
            c("K1", "E1", "2026-01-05 18:30", 2, 0),  # 01-06 00:00
        ],
    )
    add_rows(wh, "orders", [order("K9", None, "2026-01-05 04:40", 900, store_id="K1")])
    add_rows(wh, "order_lines", [test_performance.line("K9", 1, 2)])
    # 09:30-10:30 local: on the floor at 09:00 and 10:00.
    shift = test_performance.shift("K1", "A", "2026-01-05 04:00", "2026-01-05 05:00")
    add_rows(wh, "staff_shifts", [shift])


def test_half_hour_zone_keeps_local_hours(duckdb_workspace: Workspace) -> None:
    with duckdb_workspace.warehouse() as wh:
        fill_kolkata(wh)
        hours = StorePerformance(wh, PerformanceQuery(by="hour")).calculate()
        build_daily_marts(wh)
        days = rows(wh, PERFORMANCE_MART)
        traffic = rows(wh, TRAFFIC_MART)
    assert [(r.bucket, r.entries, r.transactions, r.units, r.staff_hours) for r in hours] == [
        ("2026-01-05 09:00", 3, 0, 0, 1),
        ("2026-01-05 10:00", 4, 1, 2, 1),
        ("2026-01-05 23:00", 1, 0, 0, 0),
        ("2026-01-06 00:00", 2, 0, 0, 0),
    ]
    cols = ("entries", "transactions", "sales_fen", "units", "staff_hours", "star")
    assert pick(days["K1", "2026-01-05"], *cols) == (8, 1, 900, 2, 2, 4.0)
    assert pick(days["K1", "2026-01-06"], *cols) == (2, 0, 0, 0, 0, None)
    assert pick(traffic["K1", "2026-01-05"], "entries", "peak_hour", "peak_hour_entries") == (
        8,
        10,
        4,
    )


def _zone_rows(wh: Warehouse) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    cols = ("visits", "mean_dwell_s", "median_dwell_s", "total_dwell_s", "visits_per_m2")
    return {k: pick(v, *cols) for k, v in rows(wh, ZONE_MART).items()}


#: test_zones.fill by zone and local day. Staff are judged per local week: "st" (5 hours
#: on 01-06) is dropped; "st2" (one sighting a day on 01-01 … 01-06: 4 days in the week
#: of 12-29, 2 in the week of 01-05) is not, unlike over the six-day window as a whole.
ZONE_DAYS = {
    ("S1", "Z01", "2025-12-31"): (1, 0.0, 0.0, 0, 0.1),  # d3 at local 23:55 ...
    ("S1", "Z02", "2026-01-01"): (1, 0.0, 0.0, 0, 0.05),  # ... in Z02 after midnight
    **{("S1", "Z03", f"2026-01-0{d}"): (1, 0.0, 0.0, 0, None) for d in range(1, 6)},
    ("S1", "Z01", "2026-01-06"): (2, 60.0, 60.0, 120, 0.2),  # d1: 120 s, then 0 s
    ("S1", "Z02", "2026-01-06"): (1, 300.0, 300.0, 300, 0.05),
    ("S1", "Z03", "2026-01-06"): (2, 0.0, 0.0, 0, None),  # d1 (weak one ignored), st2
}


def test_zone_daily(duckdb_workspace: Workspace) -> None:
    with duckdb_workspace.warehouse() as wh:
        test_zones.fill(wh)
        built = build_zone_daily(wh)
        assert built.rows == len(ZONE_DAYS)
        assert _zone_rows(wh) == ZONE_DAYS
        got = rows(wh, ZONE_MART)["S1", "Z01", "2026-01-06"]
        assert (got["name"], got["area_m2"], got["dwell_s_per_m2"]) == ("Entrance", 10.0, 12.0)
        # One day alone sessionizes its whole week: the same numbers.
        build_zone_daily(wh, JAN6, JAN6)
        assert _zone_rows(wh) == ZONE_DAYS


def test_rebuilding_a_range_replaces_only_those_days(duckdb_workspace: Workspace) -> None:
    with duckdb_workspace.warehouse() as wh:
        test_performance.fill(wh)
        add_rows(wh, "wifi_sightings", [test_zones.sighting("d9", "2026-01-05 02:00", "Z01")])
        first = [b.rows for b in build_daily_marts(wh)]
        before = {m: rows(wh, m) for m in (TRAFFIC_MART, PERFORMANCE_MART, ZONE_MART)}
        assert first == [4, 4, 1]
        again = build_daily_marts(wh, JAN5, JAN5)  # same data: same marts
        assert [b.rows for b in again] == [3, 3, 1]
        assert {m: rows(wh, m) for m in before} == before
        # New readings on 01-05 and 01-06; rebuilding 01-06 picks up only that day.
        add_rows(
            wh,
            "traffic_counts",
            [
                test_traffic.count("S1", "E1", "2026-01-05 05:00", 7, 0),
                test_traffic.count("S1", "E1", "2026-01-06 05:00", 7, 0),
            ],
        )
        build_daily_marts(wh, JAN6, None)
        after = rows(wh, PERFORMANCE_MART)
        assert len(after) == 4
        assert after["S1", "2026-01-05"]["entries"] == 40  # not rebuilt
        assert after["S1", "2026-01-06"]["entries"] == 17
        assert rows(wh, TRAFFIC_MART)["S1", "2026-01-06"]["entries"] == 17
        assert len(rows(wh, ZONE_MART)) == 1


def test_a_mart_with_old_columns_is_rebuilt_whole(duckdb_workspace: Workspace) -> None:
    with duckdb_workspace.warehouse() as wh:
        test_performance.fill(wh)
        wh.write_mart(TRAFFIC_MART, pa.table({"store_id": ["S1"], "day": [JAN5]}))
        built = build_traffic_daily(wh, JAN6, JAN6)
        assert (built.date_from, built.date_to, built.rows) == (None, None, 4)
        assert len(rows(wh, TRAFFIC_MART)) == 4


def test_no_sightings_gives_an_empty_zone_mart(duckdb_workspace: Workspace) -> None:
    with duckdb_workspace.warehouse() as wh:
        test_performance.fill(wh)
        assert build_zone_daily(wh).rows == 0
        assert wh.to_pyarrow(wh.mart(ZONE_MART)).num_rows == 0


def test_cli_builds_the_marts(duckdb_workspace: Workspace) -> None:
    with duckdb_workspace.warehouse() as wh:
        test_performance.fill(wh)
    root = str(duckdb_workspace.root)
    runner = CliRunner()
    args = ["traffic", "marts", "-w", root, "--from", "2026-01-05", "--to", "2026-01-05"]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out == {
        "from": "2026-01-05",
        "to": "2026-01-05",
        "marts": [
            {"mart": TRAFFIC_MART, "date_from": "2026-01-05", "date_to": "2026-01-05", "rows": 3},
            {
                "mart": PERFORMANCE_MART,
                "date_from": "2026-01-05",
                "date_to": "2026-01-05",
                "rows": 3,
            },
            {"mart": ZONE_MART, "date_from": "2026-01-05", "date_to": "2026-01-05", "rows": 0},
        ],
    }
    table = runner.invoke(app, ["traffic", "marts", "-w", root])
    assert table.exit_code == 0, table.output
    assert PERFORMANCE_MART in table.stdout and "all days" in table.stdout
    bad = runner.invoke(
        app, ["traffic", "marts", "-w", root, "--from", "2026-02-01", "--to", "2026-01-01"]
    )
    assert bad.exit_code == 2
    assert "swap" in bad.output


@pytest.mark.slow
def test_demo_builds_the_marts(tmp_path: Path) -> None:
    target = tmp_path / "demo"
    args = ["demo", str(target), "--stores", "2", "--customers", "120", "--days", "14"]
    result = CliRunner().invoke(app, [*args, "--events", "200", "--json"])
    assert result.exit_code == 0, result.output
    built = {m["mart"]: m["rows"] for m in json.loads(result.stdout)["marts"]}
    assert built[TRAFFIC_MART] == built[PERFORMANCE_MART] == 2 * 14
    assert built[ZONE_MART] > 0
    with open_workspace(target).warehouse() as wh:
        direct = StorePerformance(wh, PerformanceQuery(by="day")).calculate()
        stored = rows(wh, PERFORMANCE_MART)
    assert {(r.store_id, r.bucket): r.sales_fen for r in direct} == {
        (k[0], k[1]): v["sales_fen"] for k, v in stored.items()
    }
