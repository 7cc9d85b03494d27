"""Forecasts of store traffic (statsforecast) and the staffing plan built on them.

Public API: :func:`forecast_traffic`, :func:`backtest_traffic`, :func:`plan_staffing`
and the generic path they share (:func:`forecast`, :func:`backtest`, :class:`SeriesSpec`).
"""

from storeops.forecast.model import (
    Backtest,
    ForecastError,
    SeriesScore,
    SeriesSpec,
    backtest,
    forecast,
)
from storeops.forecast.staffing import StaffingPlan, StaffingQuery, plan_staffing
from storeops.forecast.traffic import (
    TrafficBacktest,
    TrafficForecast,
    TrafficForecastQuery,
    backtest_traffic,
    forecast_traffic,
)

__all__ = [
    "Backtest",
    "ForecastError",
    "SeriesScore",
    "SeriesSpec",
    "StaffingPlan",
    "StaffingQuery",
    "TrafficBacktest",
    "TrafficForecast",
    "TrafficForecastQuery",
    "backtest",
    "backtest_traffic",
    "forecast",
    "forecast_traffic",
    "plan_staffing",
]
