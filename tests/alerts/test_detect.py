"""Detection on synthetic series: the weekly pattern is removed, a planted dip or
spike is found with its robust z-score, noise alone stays quiet, ``side`` and
consecutive-day thresholds behave as documented."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from storeops.alerts import detect

START = date(2026, 1, 5)  # a Monday
WEEKLY = np.array([0.85, 0.8, 0.85, 0.9, 1.05, 1.45, 1.4])


def series(days: int = 140, noise: float = 0.08, seed: int = 3, level: float = 300.0) -> pd.Series:
    rng = np.random.default_rng(seed)
    idx = [START + timedelta(days=i) for i in range(days)]
    values = level * WEEKLY[np.arange(days) % 7] * rng.lognormal(0, noise, days)
    return pd.Series(values, index=idx)


def test_the_weekly_pattern_is_removed_by_the_same_weekday_median() -> None:
    s = series(noise=0.0)
    baseline = detect.seasonal_baseline(detect.daily(s))
    # Without noise, the baseline is the value itself once 4 weeks are known.
    full = baseline.dropna()
    assert full.index[0] == pd.Timestamp(START + timedelta(days=28))
    np.testing.assert_allclose(full.to_numpy(), detect.daily(s)[full.index].to_numpy())


def test_noise_alone_stays_quiet_on_the_bad_side() -> None:
    # 20 years-worth of 8 % log-normal noise: how often does a day reach |z| 3.5?
    scores = []
    for seed in range(20):
        s = series(days=364, seed=seed)
        scores += [f.score or 0 for f in detect.anomalies(s, list(s.index[120:]), threshold=0)]
    z = np.array(scores)
    assert len(z) == 20 * 244
    assert 0.9 < z.std() < 1.2  # scaled like a normal z-score
    # Downward (the bad side of entries or sales): at most 1 day in 1000.
    assert (z <= -3.5).mean() < 0.001
    # Both sides: the right tail of a ratio is longer, still under 1 day in 200.
    assert (np.abs(z) >= 3.5).mean() < 0.005
    s = series(days=364, seed=11)
    assert detect.anomalies(s, list(s.index[120:]), threshold=3.5, side="down") == []


@pytest.mark.parametrize(
    "factor,side,fires",
    [
        (0.4, "both", True),
        (0.4, "down", True),
        (0.4, "up", False),
        (1.9, "both", True),
        (1.9, "up", True),
        (1.9, "down", False),
    ],
)
def test_a_planted_dip_or_spike_is_found_on_its_side(factor: float, side: str, fires: bool) -> None:
    s = series()
    day = s.index[120]
    s[day] *= factor
    found = detect.anomalies(s, [day, s.index[121]], threshold=3.5, side=side)  # type: ignore[arg-type]
    assert [f.day for f in found] == ([day] if fires else [])
    if fires:
        f = found[0]
        assert (f.score or 0) < -3.5 if factor < 1 else (f.score or 0) > 3.5
        # "Expected" is the weekday baseline: near the undisturbed value.
        assert f.expected == pytest.approx(s[day] / factor, rel=0.2)


def test_robust_z_matches_the_formula() -> None:
    s = series(days=100)
    day = s.index[90]
    s[day] *= 0.5
    [f] = detect.anomalies(s, [day], threshold=0.0, window_days=56, weeks=8)
    d = detect.daily(s)
    b = detect.seasonal_baseline(d, 8)
    r = d / b - 1
    window = r[pd.Timestamp(day) - pd.Timedelta(days=56) : pd.Timestamp(day) - pd.Timedelta(days=1)]
    window = window.dropna()
    med = window.median()
    mad = (window - med).abs().median()
    assert f.score == pytest.approx(0.6745 * (r[pd.Timestamp(day)] - med) / mad, abs=1e-3)


def test_relative_residuals_treat_weekdays_alike_and_absolute_ones_do_not() -> None:
    # A 50 % dip on a quiet Tuesday: relative residuals see it as clearly as on a
    # Saturday; absolute residuals judge it against the bigger weekend swings.
    s = series(days=140, noise=0.10, seed=5)
    tuesday = next(d for d in s.index[120:] if d.weekday() == 1)
    s[tuesday] *= 0.55
    [rel] = detect.anomalies(s, [tuesday], threshold=0.0, residual="relative")
    [absolute] = detect.anomalies(s, [tuesday], threshold=0.0, residual="absolute")
    assert (rel.score or 0) < (absolute.score or 0) < 0


def test_too_little_history_finds_nothing() -> None:
    s = series(days=30)
    s[s.index[-1]] *= 0.1
    assert detect.anomalies(s, [s.index[-1]], threshold=3.5) == []


def test_thresholds_with_consecutive_days_and_gaps() -> None:
    idx = [START + timedelta(days=i) for i in range(8)]
    s = pd.Series([5, 1, 1, 5, 1, 1, 1, 1], index=idx, dtype=float)
    found = detect.thresholds(s, idx, op="below", level=2, consecutive_days=3)
    assert [(f.day, f.streak) for f in found] == [(idx[6], 3), (idx[7], 4)]
    assert [f.day for f in detect.thresholds(s, idx, op="above", level=4)] == [idx[0], idx[3]]
    gap = s.drop(idx[5])  # a missing day breaks the streak
    assert detect.thresholds(gap, idx, op="below", level=2, consecutive_days=3) == []
    found = detect.thresholds(gap, idx, op="below", level=2, consecutive_days=2)
    assert [f.day for f in found] == [idx[2], idx[7]]
