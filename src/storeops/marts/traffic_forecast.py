"""Forecast marts for the dashboard: ``mart_traffic_forecast`` and ``mart_staffing_plan``.

- ``mart_traffic_forecast`` — per store, grain (``day`` or ``hour``) and local period:
  forecast entries, the seasonal-naive baseline (daily rows), the last day of history
  and the model;
- ``mart_staffing_plan`` — per store and local hour of the planned week: forecast
  entries, staff, target STAR.

Each is replaced whole by the command that computes it (``storeops traffic forecast``,
``storeops traffic staffing``).
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

from storeops.forecast import StaffingPlan, TrafficForecast
from storeops.forecast.traffic import model_description
from storeops.warehouse import Warehouse

FORECAST_MART = "mart_traffic_forecast"
STAFFING_MART = "mart_staffing_plan"


def write_forecast_mart(wh: Warehouse, fc: TrafficForecast) -> int:
    """Store both grains of ``fc``; returns the rows written."""
    daily = fc.daily.assign(grain="day")
    hourly = fc.hourly.assign(grain="hour", baseline=float("nan"))
    frame = pd.concat([daily, hourly], ignore_index=True)
    table = pa.table(
        {
            "store_id": pa.array(frame["store_id"].astype(str).tolist(), pa.string()),
            "grain": pa.array(frame["grain"].tolist(), pa.string()),
            "ds": pa.Array.from_pandas(pd.to_datetime(frame["ds"]).astype("datetime64[us]")),
            "entries": pa.array(frame["entries"].astype(float), pa.float64()),
            "baseline": pa.array(frame["baseline"].astype(float), pa.float64(), from_pandas=True),
            "history_to": pa.array([fc.history_to] * len(frame), pa.date32()),
            "model": pa.array([model_description(fc.seasons)] * len(frame), pa.string()),
        }
    )
    wh.write_mart(FORECAST_MART, table)
    return table.num_rows


def write_staffing_mart(wh: Warehouse, plan: StaffingPlan) -> int:
    """Store the hours of ``plan``; returns the rows written."""
    h = plan.hours
    table = pa.table(
        {
            "store_id": pa.array(h["store_id"].astype(str).tolist(), pa.string()),
            "ds": pa.Array.from_pandas(pd.to_datetime(h["ds"]).astype("datetime64[us]")),
            "forecast_entries": pa.array(h["forecast_entries"].astype(float), pa.float64()),
            "staff": pa.array(h["staff"].astype("int64"), pa.int64()),
            "target_star": pa.array([plan.target_star] * len(h), pa.float64()),
            "week_start": pa.array([plan.week_start] * len(h), pa.date32()),
        }
    )
    wh.write_mart(STAFFING_MART, table)
    return table.num_rows
