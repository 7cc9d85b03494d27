"""The forecast and staffing marts, rebuilt by the mart refresh for the dashboard.

``mart_traffic_forecast`` (14 days ahead, daily and hourly) and ``mart_staffing_plan``
(the week after the last counted day) are written by :mod:`storeops.marts.traffic_forecast`
from the default :class:`~storeops.forecast.traffic.TrafficForecastQuery` and
:class:`~storeops.forecast.staffing.StaffingQuery`; ``storeops traffic forecast`` and
``storeops traffic staffing`` replace them with other settings.

A range refresh (``storeops serve`` refreshes yesterday and today every 15 minutes)
forecasts again only when counts of a later day have arrived since the stored
forecast: the model fits on whole days, and refitting every store (about 25 s on the
demo) for the same history would change nothing.
"""

from __future__ import annotations

import logging
from datetime import date

import pandas as pd

from storeops.forecast import StaffingQuery, TrafficForecastQuery, forecast_traffic, plan_staffing
from storeops.forecast.model import ForecastError
from storeops.forecast.traffic import history_end
from storeops.marts.traffic_forecast import (
    FORECAST_MART,
    write_forecast_mart,
    write_staffing_mart,
)
from storeops.warehouse import Warehouse
from storeops.workspace import Workspace

log = logging.getLogger("storeops.marts")


def build_forecast_marts(ws: Workspace, wh: Warehouse) -> int:
    """Forecast every store and plan next week's staff; rows written (0 without counts)."""
    try:
        fc = forecast_traffic(wh, TrafficForecastQuery())
    except ForecastError as exc:  # a merchant without people counters: nothing to plan
        log.info("no traffic forecast: %s", exc)
        return 0
    rows = write_forecast_mart(wh, fc)
    # The week that starts on the Monday after the last counted day (the default).
    plan = plan_staffing(wh, StaffingQuery(history_to=fc.history_to))
    return rows + write_staffing_mart(wh, plan)


def build_forecast_marts_if_new_day(
    ws: Workspace, wh: Warehouse, date_from: date | None = None, date_to: date | None = None
) -> int:
    """:func:`build_forecast_marts` unless the stored forecast already starts after the
    last counted day (0 rows written then)."""
    if FORECAST_MART in wh.con.list_tables():
        stored = wh.execute(wh.mart(FORECAST_MART).history_to.max())
        try:
            last = history_end(wh, None, None)
        except ForecastError:
            return 0
        if stored is not None and not pd.isna(stored) and pd.Timestamp(stored).date() >= last:
            return 0
    return build_forecast_marts(ws, wh)
