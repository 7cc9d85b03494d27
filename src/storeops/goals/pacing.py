"""Pacing math of a goal, on plain numbers (no database): the expected value on the
straight path from baseline to target, the projected end value and the status.

- **expected** on day ``d`` = ``baseline + (target − baseline) × f``, with ``f`` the
  share of the time from start to deadline gone by on ``d`` (0 before the start, 1
  from the deadline on);
- **projected** end value: a straight line through the weekly values since the start,
  fitted with the Theil–Sen estimator (the median of the slopes between every pair of
  weeks, so one odd week — a holiday, a broken counter — does not tilt it), read at
  the deadline and kept within what the KPI can be (a share within 0 … 100 %, NPS
  within ±100, amounts at least 0); with a single week the projection is that week's
  value; none without weeks;
- **status**: ``achieved`` when the current value is at the target or beyond it (in
  the KPI's direction of good), ``on_track`` when it is at the expected value or
  beyond it, else ``behind``; ``no_data`` when there is no current value.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Literal

import numpy as np

from storeops.kpi.catalog import Kpi

Status = Literal["achieved", "on_track", "behind", "no_data"]


def elapsed_share(start: date, deadline: date, day: date) -> float:
    """Share of ``start`` … ``deadline`` gone by on ``day``, clipped to 0 … 1."""
    total = (deadline - start).days
    if total <= 0:
        return 1.0
    return min(max((day - start).days / total, 0.0), 1.0)


def expected_value(baseline: float, target: float, start: date, deadline: date, day: date) -> float:
    return baseline + (target - baseline) * elapsed_share(start, deadline, day)


def theil_sen(x: Sequence[float], y: Sequence[float]) -> tuple[float, float]:
    """Slope and intercept: median pairwise slope, then median of ``y − slope × x``."""
    xs, ys = np.asarray(x, dtype="float64"), np.asarray(y, dtype="float64")
    i, j = np.triu_indices(len(xs), k=1)
    dx = xs[j] - xs[i]
    keep = dx != 0
    slope = float(np.median((ys[j] - ys[i])[keep] / dx[keep])) if keep.any() else 0.0
    intercept = float(np.median(ys - slope * xs))
    return slope, intercept


def projected_value(points: Sequence[tuple[date, float]], deadline: date) -> float | None:
    """The Theil–Sen line through ``(day, value)`` points, read at ``deadline``."""
    clean = [(d, v) for d, v in points if v is not None and not np.isnan(v)]
    if not clean:
        return None
    if len(clean) == 1:
        return float(clean[0][1])
    origin = clean[0][0]
    x = [(d - origin).days for d, _ in clean]
    slope, intercept = theil_sen(x, [v for _, v in clean])
    return intercept + slope * (deadline - origin).days


def status_of(kpi: Kpi, current: float | None, expected: float, target: float) -> Status:
    if current is None:
        return "no_data"
    if kpi.better(current, target):
        return "achieved"
    if kpi.better(current, expected):
        return "on_track"
    return "behind"
