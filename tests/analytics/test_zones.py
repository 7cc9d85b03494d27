"""Zone visits, dwell, heat and transitions on hand-built Wi-Fi sightings."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.analytics.builders import add_rows

from storeops.analytics.zones import (
    ZoneInsight,
    ZoneQuery,
    fixed_devices,
    last_sighting_day,
    sightings,
    visit_sightings,
    visits,
)
from storeops.demo.build import build_demo
from storeops.demo.config import DemoConfig
from storeops.warehouse import Warehouse
from storeops.workspace import Workspace, open_workspace

ONE = timedelta(days=1)
WINDOW = {"since": date(2026, 1, 1), "until": date(2026, 1, 7)}  # local days, Asia/Shanghai


def sighting(device: str, ts: str, zone: str, rssi: int = -60) -> dict[str, Any]:
    """A sighting in store S1; ``ts`` is UTC ``YYYY-MM-DD HH:MM``."""
    return {
        "store_id": "S1",
        "zone_id": zone,
        "sensor_id": f"S1-{zone}-AP1",
        "ts": datetime.strptime(ts, "%Y-%m-%d %H:%M"),
        "device_hash": device,
        "rssi": rssi,
    }


#: Store S1's zones (Z03 has no area).
ZONES = [
    {"store_id": "S1", "zone_id": "Z01", "name": "Entrance", "area_m2": 10.0},
    {"store_id": "S1", "zone_id": "Z02", "name": "New", "area_m2": 20.0},
    {"store_id": "S1", "zone_id": "Z03", "name": "Fitting", "area_m2": None},
]


def fill(wh: Warehouse) -> Warehouse:
    add_rows(wh, "stores", [{"store_id": "S1", "name": "A", "timezone": "Asia/Shanghai"}])
    add_rows(wh, "zones", ZONES)
    rows = [
        # d1, local 2026-01-06 10:00 on: Z01 120 s, Z02 300 s, Z03 single sighting.
        sighting("d1", "2026-01-06 02:00", "Z01"),
        sighting("d1", "2026-01-06 02:02", "Z01"),
        sighting("d1", "2026-01-06 02:03", "Z02"),
        sighting("d1", "2026-01-06 02:05", "Z03", rssi=-81),  # too weak: ignored
        sighting("d1", "2026-01-06 02:08", "Z02"),
        sighting("d1", "2026-01-06 02:18", "Z03"),  # gap exactly 10 min: same visit
        sighting("d1", "2026-01-06 02:29", "Z01"),  # gap 11 min: second visit
        # d3 crosses local midnight: 23:55 on 12-31 is outside the window.
        sighting("d3", "2025-12-31 15:55", "Z01"),
        sighting("d3", "2025-12-31 16:02", "Z02"),  # local 2026-01-01 00:02
    ]
    # "st" is present 5 hours on one day; "st2" is seen on 6 local days.
    rows += [sighting("st", f"2026-01-06 0{h}:00", "Z02") for h in range(1, 7)]
    rows += [sighting("st2", f"2026-01-0{d} 03:00", "Z03") for d in range(1, 7)]
    add_rows(wh, "wifi_sightings", rows)
    return wh


@pytest.fixture
def shop(warehouse: Warehouse) -> Warehouse:
    return fill(warehouse)


@pytest.fixture
def duck(duckdb_workspace: Workspace) -> Iterator[Warehouse]:
    with duckdb_workspace.warehouse() as wh:
        yield fill(wh)


def _zones(wh: Warehouse, **kw: Any) -> dict[str, dict[str, Any]]:
    result = ZoneInsight(wh, ZoneQuery(**{**WINDOW, **kw})).calculate()
    return {r["zone_id"]: r for r in result.to_json()["zones"]}


def test_dwell_heat_and_transitions(shop: Warehouse) -> None:
    result = ZoneInsight(shop, ZoneQuery(**WINDOW)).calculate()
    got = {r["zone_id"]: r for r in result.to_json()["zones"]}
    assert got["Z01"] == {
        "store_id": "S1",
        "zone_id": "Z01",
        "name": "Entrance",
        "area_m2": 10.0,
        "visits": 2,
        "mean_dwell_s": 60.0,
        "median_dwell_s": 60.0,
        "p90_dwell_s": pytest.approx(108.0),
        "total_dwell_s": 120,
        "visits_per_m2": pytest.approx(0.2),
        "dwell_s_per_m2": pytest.approx(12.0),
    }
    z02 = got["Z02"]
    assert (z02["visits"], z02["mean_dwell_s"], z02["median_dwell_s"]) == (2, 150.0, 150.0)
    assert z02["p90_dwell_s"] == pytest.approx(270.0)
    assert (z02["visits_per_m2"], z02["dwell_s_per_m2"]) == (0.1, 15.0)
    z03 = got["Z03"]
    assert (z03["visits"], z03["total_dwell_s"], z03["mean_dwell_s"]) == (1, 0, 0.0)
    assert z03["visits_per_m2"] is None and z03["dwell_s_per_m2"] is None
    moves = {(r.from_zone, r.to_zone): r.transitions for r in result.transitions.itertuples()}
    assert moves == {("Z01", "Z02"): 1, ("Z02", "Z03"): 1}
    assert result.sankey("S1") == {
        "nodes": ["Z01", "Z02", "Z03"],
        "links": [{"source": 0, "target": 1, "value": 1}, {"source": 1, "target": 2, "value": 1}],
    }
    json.dumps(result.to_json())


def test_visits_split_on_gaps_and_skip_fixed_devices(duck: Warehouse) -> None:
    v = duck.to_pandas(visits(duck, ZoneQuery(**WINDOW)))
    got = sorted(
        (r.device_hash, r.visit, r.day.isoformat()[:10], r.duration_s, r.zones)
        for r in v.itertuples()
    )
    assert got == [
        ("d1", 1, "2026-01-06", 18 * 60, 3),
        ("d1", 2, "2026-01-06", 0, 1),
        ("d3", 1, "2026-01-01", 0, 1),
    ]


def test_longer_gap_joins_visits(duck: Warehouse) -> None:
    z = _zones(duck, gap_minutes=11)
    assert z["Z01"]["visits"] == 1 and z["Z01"]["total_dwell_s"] == 29 * 60


def test_thresholds_are_configurable(duck: Warehouse) -> None:
    # Weak sightings kept: d1's Z03 stay now starts at 02:05.
    assert _zones(duck, min_rssi=-90)["Z03"]["total_dwell_s"] == 13 * 60
    # Staff rules relaxed: st (Z02, 5 h) and st2 (Z03, 6 days) count as visitors.
    relaxed = _zones(duck, max_days_seen=10, max_daily_hours=6)
    assert relaxed["Z02"]["visits"] == 2 + 6  # st: hourly sightings, each a visit
    assert relaxed["Z03"]["visits"] == 1 + 6


def test_store_filter_and_empty_window(duck: Warehouse) -> None:
    assert _zones(duck, store_id="S2") == {}
    assert _zones(duck, since=date(2026, 2, 1), until=date(2026, 2, 2)) == {}


def test_query_validation() -> None:
    with pytest.raises(ValueError, match="until must be after since"):
        ZoneQuery(since=date(2026, 2, 1), until=date(2026, 1, 1))
    with pytest.raises(ValueError):
        ZoneQuery(**WINDOW, gap_minutes=0)


@pytest.mark.slow
def test_demo_recovers_planted_dwell_order_and_staff(tmp_path: Path) -> None:
    built = build_demo(tmp_path / "ws", DemoConfig(stores=2, customers=300, days=60))
    truth = json.loads((built.root / "sources" / "truth.json").read_text(encoding="utf-8"))
    with open_workspace(built.root).warehouse() as wh:
        last = last_sighting_day(wh)
        query = ZoneQuery(since=last - timedelta(days=truth["wifi"]["days"]), until=last + ONE)
        result = ZoneInsight(wh, query).calculate()
        fixed = wh.to_pandas(fixed_devices(sightings(wh, query), query))
        shoppers = wh.execute(visit_sightings(wh, query).device_hash.nunique())
    staff = {h for s in truth["stores"] for h in s["staff_devices"]}
    assert set(fixed.device_hash) == staff  # every staff device, and nothing else
    assert shoppers > 500
    z = result.zones.groupby("zone_id")[["visits", "total_dwell_s"]].sum()
    mean_min = (z.total_dwell_s / z.visits / 60).to_dict()
    planted = {k: v["mean_dwell_minutes"] for k, v in truth["zones"].items()}
    assert sorted(mean_min, key=mean_min.__getitem__) == sorted(planted, key=planted.__getitem__)
    # Sightings come about once a minute, so a stay reads roughly half a minute short.
    assert mean_min["Z06"] == pytest.approx(planted["Z06"], abs=2.0)
    assert z.visits["Z01"] == z.visits.max()  # everyone crosses the entrance
