"""Staffing plan: sales staff per store and local hour for a week, from the forecast.

For every hour of the week (Monday ``week_start`` … Sunday) the hourly entries
forecast (:func:`storeops.forecast.traffic.forecast_traffic`) is divided by the
target STAR (shoppers per sales staff member on the floor per hour) and rounded up:

    staff = clamp(ceil(forecast entries / target STAR), min_staff, max_staff)

Hours in which the store's hour profile expects nobody (closed) get 0. The plan
reports, per store, the staff-hours it needs, the STAR it would give (forecast
entries / staff-hours) and, for comparison, the sales staff-hours scheduled in the
last week of history (``staff_shifts``, as counted by the store performance
measures).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pandas as pd
from pydantic import BaseModel, Field, model_validator

from storeops.analytics.performance import PerformanceQuery, StorePerformance
from storeops.forecast.model import ForecastError
from storeops.forecast.traffic import TrafficForecastQuery, forecast_traffic, history_end
from storeops.warehouse import Warehouse

#: Default shoppers per sales staff member per hour.
DEFAULT_TARGET_STAR = 20.0


class StaffingQuery(BaseModel):
    """Which stores, which week, and the staffing rule."""

    store_ids: tuple[str, ...] | None = None
    week_start: date | None = Field(
        default=None, description="Monday of the planned week (default: the next Monday)."
    )
    history_to: date | None = Field(
        default=None, description="Last local day of history (default: last counted day)."
    )
    target_star: float = Field(default=DEFAULT_TARGET_STAR, gt=0)
    min_staff: int = Field(default=1, ge=0, description="Staff in every open hour.")
    max_staff: int | None = Field(default=None, ge=1, description="Cap per hour.")

    @model_validator(mode="after")
    def _checks(self) -> StaffingQuery:
        if self.week_start is not None and self.week_start.weekday() != 0:
            raise ValueError(
                f"week_start {self.week_start} is a {self.week_start:%A}; give a Monday"
            )
        if self.max_staff is not None and self.max_staff < self.min_staff:
            raise ValueError(f"max_staff {self.max_staff} is below min_staff {self.min_staff}")
        return self


@dataclass
class StoreStaffing:
    store_id: str
    staff_hours: int
    forecast_entries: float
    planned_star: float | None
    last_week_staff_hours: int | None


@dataclass
class StaffingPlan:
    week_start: date
    history_to: date
    target_star: float
    hours: pd.DataFrame  # store_id, ds, forecast_entries, staff
    stores: list[StoreStaffing]

    def to_dict(self) -> dict[str, Any]:
        return {
            "week_start": self.week_start.isoformat(),
            "history_to": self.history_to.isoformat(),
            "target_star": self.target_star,
            "stores": [s.__dict__ for s in self.stores],
            "hours": [
                {
                    "store_id": r["store_id"],
                    "ds": pd.Timestamp(r["ds"]).strftime("%Y-%m-%dT%H:%M"),
                    "forecast_entries": round(float(r["forecast_entries"]), 1),
                    "staff": int(r["staff"]),
                }
                for r in self.hours.to_dict(orient="records")
            ],
        }


def staff_needed(entries: float, query: StaffingQuery) -> int:
    """Staff for one hour with ``entries`` expected (0 when the store is closed)."""
    if entries <= 0:
        return 0
    # Rounded first so that 40.0000001 expected at a target of 20 is 2 people, not 3.
    staff = max(math.ceil(round(entries / query.target_star, 6)), query.min_staff)
    return min(staff, query.max_staff) if query.max_staff is not None else staff


def _last_week_staff_hours(
    wh: Warehouse, stores: tuple[str, ...] | None, end: date
) -> dict[str, int]:
    query = PerformanceQuery(
        date_from=end - timedelta(days=6), date_to=end, store_ids=stores, by="day"
    )
    out: dict[str, int] = {}
    for row in StorePerformance(wh, query).calculate():
        if row.staff_hours is not None:
            out[row.store_id] = out.get(row.store_id, 0) + int(row.staff_hours)
    return out


def plan_staffing(wh: Warehouse, query: StaffingQuery | None = None) -> StaffingPlan:
    """Staff per store and hour for the week of ``week_start``."""
    q = query or StaffingQuery()
    end = history_end(wh, q.store_ids, q.history_to)
    week_start = q.week_start or end + timedelta(days=7 - end.weekday())
    if week_start <= end:
        raise ForecastError(
            f"the week of {week_start} is not after the last day of history {end}; "
            "plan a later week or pass an earlier --to"
        )
    horizon = (week_start - end).days + 6
    fc = forecast_traffic(
        wh, TrafficForecastQuery(store_ids=q.store_ids, history_to=end, horizon_days=horizon)
    )
    hours = fc.hourly
    start = pd.Timestamp(week_start)
    hours = hours[(hours["ds"] >= start) & (hours["ds"] < start + pd.Timedelta(days=7))]
    hours = hours.rename(columns={"entries": "forecast_entries"}).reset_index(drop=True)
    hours["staff"] = [staff_needed(float(v), q) for v in hours["forecast_entries"]]
    last_week = _last_week_staff_hours(wh, q.store_ids, end)
    stores = []
    for sid, g in hours.groupby("store_id", sort=True):
        staff_hours = int(g["staff"].sum())
        entries = float(g["forecast_entries"].sum())
        stores.append(
            StoreStaffing(
                store_id=str(sid),
                staff_hours=staff_hours,
                forecast_entries=round(entries, 1),
                planned_star=round(entries / staff_hours, 2) if staff_hours else None,
                last_week_staff_hours=last_week.get(str(sid)),
            )
        )
    return StaffingPlan(
        week_start=week_start,
        history_to=end,
        target_star=q.target_star,
        hours=hours[["store_id", "ds", "forecast_entries", "staff"]],
        stores=stores,
    )
