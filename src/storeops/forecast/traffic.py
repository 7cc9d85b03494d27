"""Forecasts of store entries per local day and hour, and their backtest.

**Daily**: the entries of each store per local day (``TrafficInsight``, gaps filled
with 0 between its first and last counted day) go through :mod:`storeops.forecast.
model` — MSTL over the weekly cycle (and the yearly one once there are two years of
history), AutoARIMA on the rest with the festival regressors.

**Hourly**: the daily forecast spread over the hours of the day by the store's
*hour profile*: for each weekday, the share of that weekday's entries falling in
each local hour over the last ``profile_weeks`` weeks of history, festival days left
out. Hours the store never counts anyone (closed) get 0. The hourly baseline is
seasonal-naive over a week of hours (the same hour one week earlier).

The backtest runs both grains on the same rolling-origin windows (cut-offs a week
apart, a week ahead each by default); see :mod:`storeops.forecast.model` for MAPE,
MASE and total APE.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from storeops.analytics.traffic import TrafficInsight, TrafficQuery, last_traffic_day
from storeops.forecast.holidays import holiday_features
from storeops.forecast.model import (
    Backtest,
    ForecastError,
    SeriesSpec,
    backtest,
    forecast,
    score_frame,
)
from storeops.warehouse import Warehouse

ForecastGrain = Literal["day", "hour"]
#: A week of hours: the hourly seasonal-naive lag and MASE scale.
HOURS_PER_WEEK = 168
#: Days of history after which the yearly cycle is modelled too (two years + slack).
YEARLY_AFTER_DAYS = 2 * 365 + 60
DEFAULT_PROFILE_WEEKS = 8


def daily_spec(history_days: int) -> SeriesSpec:
    """Weekly cycle; weekly and yearly once the history is long enough."""
    seasons = (7, 365) if history_days >= YEARLY_AFTER_DAYS else (7,)
    return SeriesSpec(freq="D", season_lengths=seasons, holidays=True)


def _fill(frame: pd.DataFrame, freq: str, end: pd.Timestamp | None = None) -> pd.DataFrame:
    """One row per store and period from its first period to its last (or ``end``)."""
    parts = []
    for uid, g in frame.groupby("unique_id", sort=True):
        last = g["ds"].max() if end is None else end
        idx = pd.date_range(g["ds"].min(), last, freq=freq)
        full = pd.DataFrame({"unique_id": uid, "ds": idx})
        parts.append(full.merge(g, on=["unique_id", "ds"], how="left"))
    if not parts:
        return pd.DataFrame({"unique_id": [], "ds": [], "y": []})
    out = pd.concat(parts, ignore_index=True)
    out["y"] = out["y"].fillna(0).astype("float64")
    return out


def entries_series(
    wh: Warehouse,
    grain: ForecastGrain,
    store_ids: tuple[str, ...] | None = None,
    date_to: date | None = None,
) -> pd.DataFrame:
    """Entries per store and local day or hour (``unique_id, ds, y``), gaps filled."""
    query = TrafficQuery(by=grain, store_ids=store_ids, date_to=date_to)
    raw = wh.to_pandas(TrafficInsight(wh, query).store_buckets_expr())
    frame = pd.DataFrame(
        {
            "unique_id": raw["store_id"].astype(str),
            "ds": pd.to_datetime(raw["bucket"]),
            "y": raw["entries"].astype("float64"),
        }
    )
    if grain == "day":
        end = pd.Timestamp(date_to) if date_to else None
        return _fill(frame, "D", end)
    # Whole days of hours, so every day has its 24 slots.
    end = (
        pd.Timestamp(date_to) + pd.Timedelta(hours=23)
        if date_to
        else frame["ds"].max().normalize() + pd.Timedelta(hours=23)
        if len(frame)
        else None
    )
    frame["ds"] = frame["ds"].dt.floor("h")
    starts = frame.groupby("unique_id")["ds"].transform("min").dt.normalize()
    frame = pd.concat(
        [frame, pd.DataFrame({"unique_id": frame["unique_id"], "ds": starts, "y": np.nan})]
    ).drop_duplicates(["unique_id", "ds"], keep="first")
    return _fill(frame, "h", end)


def hour_profile(
    hourly: pd.DataFrame, before: pd.Timestamp, weeks: int = DEFAULT_PROFILE_WEEKS
) -> pd.DataFrame:
    """Share of a weekday's entries per local hour (``unique_id, weekday, hour, share``)
    over the ``weeks`` weeks before ``before``, festival days left out."""
    start = before - pd.Timedelta(weeks=weeks)
    h = hourly[(hourly["ds"] < before) & (hourly["ds"] >= start)].copy()
    h["day"] = h["ds"].dt.normalize()
    festive = holiday_features(h["day"]).sum(axis=1).to_numpy() > 0
    h = h[~festive]
    h["weekday"] = h["ds"].dt.weekday
    h["hour"] = h["ds"].dt.hour
    sums = h.groupby(["unique_id", "weekday", "hour"])["y"].sum().reset_index()
    totals = sums.groupby(["unique_id", "weekday"])["y"].transform("sum")
    sums["share"] = np.where(totals > 0, sums["y"] / totals.where(totals > 0, 1), 0.0)
    return sums.drop(columns="y")


def spread_hourly(daily: pd.DataFrame, profile: pd.DataFrame, value: str) -> pd.DataFrame:
    """Daily values (``unique_id, ds, <value>``) spread over hours by ``profile``."""
    d = daily.assign(weekday=pd.to_datetime(daily["ds"]).dt.weekday)
    merged = d.merge(profile, on=["unique_id", "weekday"], how="inner")
    merged["ds"] = pd.to_datetime(merged["ds"]) + pd.to_timedelta(merged["hour"], unit="h")
    merged[value] = merged[value] * merged["share"]
    keep = [c for c in daily.columns if c not in ("ds", value)]
    return merged[[*keep, "ds", value]].sort_values(["unique_id", "ds"], ignore_index=True)


class TrafficForecastQuery(BaseModel):
    """Which stores, from which history, how far ahead."""

    store_ids: tuple[str, ...] | None = Field(default=None, description="Only these stores.")
    history_to: date | None = Field(
        default=None, description="Last local day of history (default: the last counted day)."
    )
    horizon_days: int = Field(default=14, ge=1, le=366, description="Days to forecast.")
    profile_weeks: int = Field(default=DEFAULT_PROFILE_WEEKS, ge=1, le=52)


@dataclass
class TrafficForecast:
    """Daily and hourly forecasts of entries per store."""

    history_to: date
    horizon_days: int
    seasons: tuple[int, ...]
    daily: pd.DataFrame  # store_id, ds, entries, baseline
    hourly: pd.DataFrame  # store_id, ds, entries
    generated_at: datetime = field(default_factory=datetime.now)

    def to_dict(self, grain: ForecastGrain = "day") -> dict[str, Any]:
        frame = self.daily if grain == "day" else self.hourly
        fmt = "%Y-%m-%d" if grain == "day" else "%Y-%m-%dT%H:%M"
        rows = [
            {
                "store_id": r["store_id"],
                "ds": pd.Timestamp(r["ds"]).strftime(fmt),
                "entries": round(float(r["entries"]), 1),
                **(
                    {"baseline": round(float(r["baseline"]), 1)}
                    if "baseline" in frame.columns
                    else {}
                ),
            }
            for r in frame.to_dict(orient="records")
        ]
        return {
            "grain": grain,
            "history_to": self.history_to.isoformat(),
            "horizon_days": self.horizon_days,
            "model": model_description(self.seasons),
            "forecast": rows,
        }


def model_description(seasons: tuple[int, ...]) -> str:
    cycles = " and ".join({7: "weekly", 365: "yearly"}.get(s, f"{s}-day") for s in seasons)
    return f"MSTL ({cycles}) + AutoARIMA with festival regressors, on log entries"


def history_end(wh: Warehouse, store_ids: tuple[str, ...] | None, to: date | None) -> date:
    end = to or last_traffic_day(wh, store_ids)
    if end is None:
        where = f" for stores {', '.join(store_ids)}" if store_ids else ""
        raise ForecastError(f"no counter readings{where}; import traffic_counts before forecasting")
    return end


def forecast_traffic(wh: Warehouse, query: TrafficForecastQuery | None = None) -> TrafficForecast:
    """Daily and hourly entries for the ``horizon_days`` after ``history_to``."""
    q = query or TrafficForecastQuery()
    end = history_end(wh, q.store_ids, q.history_to)
    daily = entries_series(wh, "day", q.store_ids, end)
    spec = daily_spec(int(daily.groupby("unique_id").size().max()))
    fc = forecast(daily, spec, q.horizon_days)
    hourly_hist = entries_series(wh, "hour", q.store_ids, end)
    profile = hour_profile(hourly_hist, pd.Timestamp(end) + pd.Timedelta(days=1), q.profile_weeks)
    daily_out = fc.rename(columns={"unique_id": "store_id", "forecast": "entries"})
    hourly_out = spread_hourly(
        daily_out[["store_id", "ds", "entries"]].rename(columns={"store_id": "unique_id"}),
        profile,
        "entries",
    ).rename(columns={"unique_id": "store_id"})
    return TrafficForecast(
        history_to=end,
        horizon_days=q.horizon_days,
        seasons=spec.season_lengths,
        daily=daily_out,
        hourly=hourly_out,
    )


@dataclass
class TrafficBacktest:
    """Rolling-origin backtest of the daily and hourly forecasts."""

    history_to: date
    daily: Backtest
    hourly: Backtest

    def to_dict(self) -> dict[str, Any]:
        return {
            "history_to": self.history_to.isoformat(),
            "daily": self.daily.to_dict(),
            "hourly": self.hourly.to_dict(),
        }


def _hourly_baseline(hourly: pd.DataFrame, frame: pd.DataFrame) -> np.ndarray:
    """Seasonal-naive over a week of hours: the value k weeks before, k the smallest
    number of weeks that reaches back to the history before the cut-off."""
    days_ahead = (frame["ds"].dt.normalize() - frame["cutoff"]).dt.days
    weeks_back = (days_ahead - 1) // 7 + 1
    source = frame["ds"] - pd.to_timedelta(weeks_back * 7, unit="D")
    lookup = hourly.set_index(["unique_id", "ds"])["y"]
    keys = pd.MultiIndex.from_arrays([frame["unique_id"], source])
    return lookup.reindex(keys).fillna(0).to_numpy(dtype=float)


def backtest_traffic(
    wh: Warehouse,
    store_ids: tuple[str, ...] | None = None,
    history_to: date | None = None,
    windows: int = 8,
    horizon_days: int = 7,
    profile_weeks: int = DEFAULT_PROFILE_WEEKS,
) -> TrafficBacktest:
    """Backtest on the last ``windows`` weeks of history (module doc)."""
    end = history_end(wh, store_ids, history_to)
    daily = entries_series(wh, "day", store_ids, end)
    spec = daily_spec(int(daily.groupby("unique_id").size().max()) - horizon_days * windows)
    day_bt = backtest(daily, spec, horizon_days, windows=windows, step=horizon_days)

    hourly = entries_series(wh, "hour", store_ids, end)
    parts = []
    for cutoff, g in day_bt.frame.groupby("cutoff"):
        after = pd.Timestamp(str(cutoff)) + pd.Timedelta(days=1)
        profile = hour_profile(hourly, after, profile_weeks)
        window = g[["unique_id", "ds", "cutoff", "forecast"]]
        parts.append(spread_hourly(window, profile, "forecast"))
    hourly_fc = pd.concat(parts, ignore_index=True)
    frame = hourly_fc.merge(hourly, on=["unique_id", "ds"], how="right")
    frame = frame[frame["cutoff"].notna()].copy()
    frame["forecast"] = frame["forecast"].fillna(0.0)
    frame["baseline"] = _hourly_baseline(hourly, frame)
    frame = frame[["unique_id", "ds", "cutoff", "y", "forecast", "baseline"]]
    hour_bt = score_frame(
        frame, hourly, HOURS_PER_WEEK, horizon_days * 24, windows, horizon_days * 24
    )
    return TrafficBacktest(history_to=end, daily=day_bt, hourly=hour_bt)
