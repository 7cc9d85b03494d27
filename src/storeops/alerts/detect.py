"""Detection, as pure functions over one daily series (no database, no warehouse).

**Threshold**: the value is above (or below) a fixed level, optionally on each of the
last N days (gaps break the streak).

**Anomaly**: a robust z-score on the seasonal residual.

1. Seasonal residual against ``b(d) = median(value(d − 7k), k = 1…weeks)``, the
   median of the same weekday over the previous ``weeks`` weeks (at least half of them
   present): ``r(d) = value(d) / b(d) − 1`` (``relative``, the default) or
   ``r(d) = value(d) − b(d)`` (``absolute``). This removes the weekly pattern and the
   level, and a holiday or an outage among those weeks moves a median very little.
   Store KPIs vary in proportion to their level (a Saturday's entries swing by more
   people than a Tuesday's), so relative residuals put every weekday on one scale; a
   KPI whose usual value is 0 (or that can be negative) needs ``absolute``.
2. Robust z: over the residuals of the ``window_days`` days before ``d``,
   ``z(d) = 0.6745 · (r(d) − median(r)) / MAD(r)`` with ``MAD = median(|r − median(r)|)``
   (0.6745 makes it comparable with a normal z-score). Medians, not means: past
   anomalies in the window do not mask a new one.
3. It fires when ``|z| ≥ threshold`` — or, with ``side="bad"``, only when the value
   moved the bad way for the KPI's direction (a conversion collapse, not a promotion
   day's jump).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

import numpy as np
import pandas as pd

#: The MAD of a normal distribution is 0.6745 σ.
MAD_SCALE = 0.6745
#: Fewest residuals in the trailing window for a z-score to mean anything.
MIN_POINTS = 14


@dataclass(frozen=True)
class Finding:
    """One day on which a rule's condition holds."""

    day: date
    value: float
    expected: float | None
    score: float | None
    #: Days in a row the threshold held (1 for anomalies).
    streak: int = 1


def daily(values: pd.Series) -> pd.Series:
    """``values`` indexed by day on a complete daily index (missing days NaN)."""
    if values.empty:
        return values.astype(float)
    index = pd.DatetimeIndex(pd.to_datetime(values.index))
    s = pd.Series(values.to_numpy(dtype=float), index=index).sort_index()
    s = s[~s.index.duplicated(keep="last")]
    return s.reindex(pd.date_range(s.index.min(), s.index.max(), freq="D"))


def seasonal_baseline(s: pd.Series, weeks: int = 8) -> pd.Series:
    """Median of the same weekday over the previous ``weeks`` weeks (NaN with fewer
    than half of them)."""
    lags = pd.concat([s.shift(7 * k) for k in range(1, weeks + 1)], axis=1)
    baseline = lags.median(axis=1, skipna=True)
    return baseline.where(lags.count(axis=1) >= max(1, (weeks + 1) // 2))


def anomalies(
    values: pd.Series,
    days: list[date],
    *,
    threshold: float,
    window_days: int = 56,
    weeks: int = 8,
    side: Literal["both", "up", "down"] = "both",
    residual: Literal["relative", "absolute"] = "relative",
) -> list[Finding]:
    """The days of ``days`` whose robust z-score reaches ``threshold`` on ``side``."""
    s = daily(values)
    if s.empty:
        return []
    baseline = seasonal_baseline(s, weeks)
    relative = residual == "relative"
    residual_of = s / baseline.where(baseline > 0) - 1.0 if relative else s - baseline
    found = []
    for day in days:
        at = pd.Timestamp(day)
        if at not in s.index or np.isnan(s[at]) or np.isnan(residual_of[at]):
            continue
        window = residual_of[at - pd.Timedelta(days=window_days) : at - pd.Timedelta(days=1)]
        window = window.dropna()
        if len(window) < MIN_POINTS:
            continue
        centre = float(window.median())
        mad = float((window - centre).abs().median())
        if mad <= 0:
            continue
        z = MAD_SCALE * (float(residual_of[at]) - centre) / mad
        if abs(z) < threshold or (side == "up" and z < 0) or (side == "down" and z > 0):
            continue
        base = float(baseline[at])
        expected = base * (1.0 + centre) if relative else base + centre
        found.append(Finding(day, float(s[at]), expected, round(z, 3)))
    return found


def thresholds(
    values: pd.Series,
    days: list[date],
    *,
    op: Literal["above", "below"],
    level: float,
    consecutive_days: int = 1,
) -> list[Finding]:
    """The days of ``days`` on which the value was beyond ``level`` on that day and
    each of the ``consecutive_days − 1`` days before it."""
    s = daily(values)
    if s.empty:
        return []
    breach = (s > level) if op == "above" else (s < level)
    breach = breach & s.notna()
    # Length of the run of breaching days ending on each day.
    runs = breach.astype(int).groupby((~breach).cumsum()).cumsum()
    found = []
    for day in days:
        at = pd.Timestamp(day)
        if at in runs.index and runs[at] >= consecutive_days:
            found.append(Finding(day, float(s[at]), level, None, int(runs[at])))
    return found


def history_days(window_days: int, weeks: int) -> timedelta:
    """How far back an anomaly check on one day reads."""
    return timedelta(days=window_days + 7 * weeks + 1)
