"""The staffing plan on hand-built counter data with exact expected staff."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd
import pytest
from pydantic import ValidationError
from tests.analytics.builders import add_rows

from storeops.forecast import ForecastError, StaffingQuery, plan_staffing
from storeops.forecast.staffing import staff_needed
from storeops.forecast.traffic import entries_series
from storeops.marts.traffic_forecast import STAFFING_MART, write_staffing_mart
from storeops.warehouse import Warehouse

FIRST = date(2026, 3, 2)  # a Monday, far from any festival
DAYS = 28  # history ends on Sunday 2026-03-29


def _count(day: date, utc_hour: int, ins: int) -> dict[str, Any]:
    return {
        "store_id": "S1",
        "entrance_id": "E1",
        "interval_start": datetime(day.year, day.month, day.day, utc_hour, 0),
        "interval_seconds": 60,
        "ins": ins,
        "outs": ins,
    }


def _fill(wh: Warehouse) -> None:
    add_rows(wh, "stores", [{"store_id": "S1", "name": "A", "timezone": "Asia/Shanghai"}])
    rows = []
    for i in range(DAYS):
        day = FIRST + timedelta(days=i)
        rows += [_count(day, 2, 40), _count(day, 3, 20)]  # local 10:00 and 11:00
    add_rows(wh, "traffic_counts", rows)
    # Last week of history: two sales staff 10:00-12:00 local on Sunday = 4 staff-hours.
    add_rows(
        wh,
        "staff_shifts",
        [
            {
                "store_id": "S1",
                "staff_id": f"P{i}",
                "shift_start": datetime(2026, 3, 29, 2, 0),
                "shift_end": datetime(2026, 3, 29, 4, 0),
                "role": "sales",
            }
            for i in (1, 2)
        ],
    )


def test_staff_needed_rounds_up_and_clamps() -> None:
    q = StaffingQuery(target_star=20, min_staff=1, max_staff=3)
    assert [staff_needed(v, q) for v in (0, 0.4, 20, 20.0000001, 21, 100)] == [0, 1, 1, 1, 2, 3]
    assert staff_needed(45, StaffingQuery(target_star=20, min_staff=0)) == 3


def test_query_rules() -> None:
    with pytest.raises(ValidationError, match="Tuesday; give a Monday"):
        StaffingQuery(week_start=date(2026, 3, 31))
    with pytest.raises(ValidationError, match="below min_staff"):
        StaffingQuery(min_staff=3, max_staff=2)
    with pytest.raises(ValidationError):
        StaffingQuery(target_star=0)


def test_plan_for_next_week(duckdb_workspace: Any) -> None:
    with duckdb_workspace.warehouse() as wh:
        _fill(wh)
        plan = plan_staffing(wh, StaffingQuery(target_star=20))
        assert plan.history_to == date(2026, 3, 29)
        assert plan.week_start == date(2026, 3, 30)
        hours = plan.hours
        assert len(hours) == 7 * 24
        assert hours["ds"].min() == datetime(2026, 3, 30, 0, 0)
        open_ = hours[hours["staff"] > 0]
        assert sorted(open_["ds"].dt.hour.unique()) == [10, 11]
        ten = open_[open_["ds"].dt.hour == 10]
        eleven = open_[open_["ds"].dt.hour == 11]
        assert ten["forecast_entries"].to_numpy() == pytest.approx([40.0] * 7, rel=1e-3)
        assert eleven["forecast_entries"].to_numpy() == pytest.approx([20.0] * 7, rel=1e-3)
        assert ten["staff"].tolist() == [2] * 7 and eleven["staff"].tolist() == [1] * 7
        (store,) = plan.stores
        assert (store.store_id, store.staff_hours) == ("S1", 21)
        assert store.forecast_entries == pytest.approx(420.0, rel=1e-3)
        assert store.planned_star == pytest.approx(20.0, rel=1e-3)
        assert store.last_week_staff_hours == 4

        busy = plan_staffing(wh, StaffingQuery(target_star=10, max_staff=3))
        assert sorted(busy.hours.loc[busy.hours["staff"] > 0, "staff"].unique()) == [2, 3]

        write_staffing_mart(wh, plan)
        mart = wh.to_pandas(wh.mart(STAFFING_MART))
        assert len(mart) == 168 and int(mart["staff"].sum()) == 21


def test_a_week_inside_the_history_is_refused(duckdb_workspace: Any) -> None:
    with duckdb_workspace.warehouse() as wh:
        _fill(wh)
        with pytest.raises(ForecastError, match="not after the last day of history"):
            plan_staffing(wh, StaffingQuery(week_start=date(2026, 3, 23)))


def test_no_counts_is_a_clear_error(duckdb_workspace: Any) -> None:
    with duckdb_workspace.warehouse() as wh, pytest.raises(ForecastError, match="import"):
        plan_staffing(wh)


def test_entries_series_on_every_backend(warehouse: Warehouse) -> None:
    """The series the forecasts read are Ibis queries: the same on DuckDB and Spark."""
    _fill(warehouse)
    daily = entries_series(warehouse, "day")
    assert len(daily) == DAYS and set(daily["y"]) == {60.0}
    assert daily["ds"].iloc[0] == pd.Timestamp(FIRST)
    hourly = entries_series(warehouse, "hour", date_to=date(2026, 3, 30))
    assert len(hourly) == (DAYS + 1) * 24  # gap-filled to the end of --to
    by_hour = hourly.groupby(hourly["ds"].dt.hour)["y"].sum()
    assert by_hour[10] == 40 * DAYS and by_hour[11] == 20 * DAYS
    assert by_hour.drop([10, 11]).sum() == 0
