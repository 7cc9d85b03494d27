"""Traffic metrics on hand-built counter rows with exact expected numbers."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from tests.analytics.builders import add_rows

from storeops.analytics.traffic import TrafficInsight, TrafficQuery
from storeops.demo.build import build_demo
from storeops.demo.config import DemoConfig
from storeops.warehouse import Warehouse
from storeops.workspace import open_workspace


def count(
    store: str, door: str, ts: str, ins: int, outs: int, passers_by: int | None = None
) -> dict[str, Any]:
    """A one-minute counter row; ``ts`` is UTC ``YYYY-MM-DD HH:MM``."""
    return {
        "store_id": store,
        "entrance_id": door,
        "interval_start": datetime.strptime(ts, "%Y-%m-%d %H:%M"),
        "interval_seconds": 60,
        "ins": ins,
        "outs": outs,
        "passers_by": passers_by,
    }


def _fill(wh: Warehouse) -> Warehouse:
    add_rows(
        wh,
        "stores",
        [
            {"store_id": "S1", "name": "A", "timezone": "Asia/Shanghai"},
            {"store_id": "S2", "name": "B", "timezone": "Asia/Shanghai"},
        ],
    )
    # Shanghai is UTC+8: 16:00 UTC is local midnight. 2026-01-04 is a Sunday.
    add_rows(
        wh,
        "traffic_counts",
        [
            count("S1", "E1", "2026-01-04 15:59", 2, 0, 8),  # Sun 01-04 23:59 local
            count("S1", "E1", "2026-01-04 16:00", 3, 5, 12),  # Mon 01-05 00:00 local
            count("S1", "E1", "2026-01-05 02:00", 10, 2, 30),  # Mon 10:00
            count("S1", "E2", "2026-01-05 02:00", 9, 1),  # Mon 10:00, no passers-by
            count("S1", "E1", "2026-01-06 11:00", 5, 0, 10),  # Tue 19:00
            count("S2", "E1", "2026-01-05 03:00", 4, 4),  # counter without passers-by
        ],
    )
    return wh


@pytest.fixture
def shop(warehouse: Warehouse) -> Warehouse:
    return _fill(warehouse)


def test_traffic_summary(shop: Warehouse) -> None:
    query = TrafficQuery(by="week")
    result = TrafficInsight(shop, query).calculate()
    got = {(r.store_id, r.bucket): (r.entries, r.exits) for r in result.buckets}
    assert got == {
        ("S1", "2025-12-29"): (2, 0),  # Sunday local, though Monday 00:00 is a minute later
        ("S1", "2026-01-05"): (27, 8),
        ("S2", "2026-01-05"): (4, 4),
    }
    s1, s2 = result.stores["S1"], result.stores["S2"]
    assert (s1.days, s1.entries, s1.exits, s1.passers_by) == (3, 29, 8, 60)
    # Only E1 reports passers-by: 20 / (20 + 60).
    assert s1.capture_rate == pytest.approx(0.25)
    assert (s2.passers_by, s2.capture_rate) == (None, None)
    assert s1.peak_hours == [10]
    assert s1.peak_avg_entries == pytest.approx(19 / 3)
    assert s1.entrances["E1"].share == pytest.approx(20 / 29)
    assert s1.entrances["E2"].relative_to_busiest == pytest.approx(0.45)
    assert s1.entrances["E1"].relative_to_busiest == pytest.approx(1.0)
    assert result.previous is None

    occ = shop.to_pandas(TrafficInsight(shop, query).occupancy_expr())
    occ = occ[occ.store_id == "S1"]
    stamps = [pd.Timestamp(t).strftime("%m-%d %H:%M") for t in occ.local_ts]
    # 01-04 ends with 2 inside; 01-05 starts from 0 again: 3 - 5 is clipped to 0, then
    # -2 + 19 - 3 = 14; 01-06 starts from 0 again.
    assert dict(zip(stamps, occ.occupancy.astype(int).tolist(), strict=True)) == {
        "01-04 23:59": 2,
        "01-05 00:00": 0,
        "01-05 10:00": 14,
        "01-06 19:00": 5,
    }


def test_day_buckets_and_previous_period(duckdb_workspace: Any) -> None:
    with duckdb_workspace.warehouse() as wh:
        _fill(wh)
        query = TrafficQuery(date_from=date(2026, 1, 5), date_to=date(2026, 1, 6), by="day")
        result = TrafficInsight(wh, query).calculate()
        assert [(r.store_id, r.bucket, r.entries) for r in result.buckets] == [
            ("S1", "2026-01-05", 22),
            ("S1", "2026-01-06", 5),
            ("S2", "2026-01-05", 4),
        ]
        assert result.previous is not None
        assert (result.previous["from"], result.previous["to"]) == ("2026-01-03", "2026-01-04")
        prev = result.previous["stores"]
        assert prev["S1"]["entries"] == 2
        assert prev["S1"]["entries_change"] == 25
        assert prev["S1"]["entries_change_pct"] == pytest.approx(12.5)
        assert prev["S2"]["entries"] == 0
        assert prev["S2"]["entries_change_pct"] is None
        hours = wh.to_pandas(TrafficInsight(wh, TrafficQuery(by="hour")).to_expr())
        assert len(hours) == 6
        assert TrafficInsight(wh, query).calculate().to_dict()["by"] == "day"


def test_query_must_be_ordered() -> None:
    with pytest.raises(ValueError, match="swap them"):
        TrafficQuery(date_from=date(2026, 2, 1), date_to=date(2026, 1, 1))
    q = TrafficQuery(date_from=date(2026, 1, 1), date_to=date(2026, 1, 31))
    prev = q.previous()
    assert prev is not None
    assert (prev.date_from, prev.date_to) == (date(2025, 12, 1), date(2025, 12, 31))
    yoy = q.last_year()
    assert yoy is not None
    # January 2026 reaches 2026-01-27, within 21 days of Spring Festival (02-17).
    assert (yoy[0].date_from, yoy[0].date_to) == (date(2024, 12, 13), date(2025, 1, 12))
    assert yoy[1].reason == "Spring Festival-aligned"
    assert TrafficQuery(date_from=date(2026, 1, 1)).last_year() is None


@pytest.mark.slow
def test_demo_recovers_planted_traffic(tmp_path: Path) -> None:
    built = build_demo(tmp_path / "ws", DemoConfig(stores=2, customers=300, days=60))
    truth = built.generated.truth
    with open_workspace(built.root).warehouse() as wh:
        result = TrafficInsight(wh, TrafficQuery(by="day")).calculate()
    for store in truth.stores:
        doors = result.stores[store.store_id].entrances
        planted = store.entrance_shares["E2"] / store.entrance_shares["E1"]
        assert doors["E2"].relative_to_busiest == pytest.approx(planted, abs=0.04)
        days = [r for r in result.buckets if r.store_id == store.store_id]
        weekend = [r.entries for r in days if date.fromisoformat(r.bucket).weekday() >= 5]
        weekday = [r.entries for r in days if date.fromisoformat(r.bucket).weekday() < 5]
        assert sum(weekend) / len(weekend) > sum(weekday) / len(weekday)
        assert result.stores[store.store_id].capture_rate == pytest.approx(
            store.capture_rate, abs=0.02
        )


def test_same_period_last_year(duckdb_workspace: Any) -> None:
    with duckdb_workspace.warehouse() as wh:
        _fill(wh)
        add_rows(
            wh,
            "traffic_counts",
            [
                count("S1", "E1", "2025-01-05 02:00", 50, 0),  # Sun 01-05: before the range
                count("S1", "E1", "2025-01-06 02:00", 6, 1),  # Mon 01-06 10:00 local
                count("S1", "E2", "2025-01-07 15:59", 3, 0),  # Tue 01-07 23:59 local
                count("S1", "E1", "2025-01-07 16:00", 40, 0),  # Wed 01-08 00:00: after it
                count("S1", "E1", "2025-01-29 02:00", 20, 0, 60),  # Spring Festival 2025
                count("S1", "E1", "2025-02-17 02:00", 100, 0),  # 52 weeks before 2026-02-16
                count("S1", "E1", "2026-02-17 02:00", 30, 0, 70),  # Spring Festival 2026
            ],
        )
        # 2026-01-05 … 06 (Mon, Tue) is far from Spring Festival: Mon 2025-01-06 … Tue 01-07.
        query = TrafficQuery(date_from=date(2026, 1, 5), date_to=date(2026, 1, 6))
        yoy = TrafficInsight(wh, query).calculate().to_dict()["last_year"]
        assert {k: yoy[k] for k in ("from", "to", "reason", "shift_days")} == {
            "from": "2025-01-06",
            "to": "2025-01-07",
            "reason": "weekday-aligned",
            "shift_days": 364,
        }
        assert yoy["stores"]["S1"] == {
            "entries": 9,
            "capture_rate": None,
            "entries_change": 18,  # 27 this year
            "entries_change_pct": 2.0,
        }
        assert yoy["stores"]["S2"] == {
            "entries": 0,
            "capture_rate": None,
            "entries_change": 4,
            "entries_change_pct": None,
        }

        # Around Spring Festival 2026 (02-17) the comparison moves to 2025-01-29's days.
        query = TrafficQuery(date_from=date(2026, 2, 16), date_to=date(2026, 2, 18))
        result = TrafficInsight(wh, query).calculate()
        assert result.last_year is not None
        yoy = result.last_year
        assert (yoy["from"], yoy["to"], yoy["reason"], yoy["shift_days"]) == (
            "2025-01-28",
            "2025-01-30",
            "Spring Festival-aligned",
            384,
        )
        assert yoy["stores"]["S1"] == {
            "entries": 20,
            "capture_rate": 0.25,
            "entries_change": 10,
            "entries_change_pct": 0.5,
        }
        assert list(yoy["stores"]) == ["S1"]  # S2 has no readings this year
