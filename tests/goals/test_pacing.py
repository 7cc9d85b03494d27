"""Pacing math on hand-built numbers: the straight path, Theil–Sen projection, status."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from storeops.goals.pacing import (
    elapsed_share,
    expected_value,
    projected_value,
    status_of,
    theil_sen,
)
from storeops.kpi import KPIS

START, DEADLINE = date(2026, 1, 1), date(2026, 12, 31)  # 364 days


def test_expected_value_on_the_straight_path() -> None:
    # DESIGN.md: conversion 3.2 % -> 6 %.
    assert expected_value(0.032, 0.06, START, DEADLINE, START) == 0.032
    assert expected_value(0.032, 0.06, START, DEADLINE, date(2026, 7, 2)) == pytest.approx(
        0.032 + 0.028 * 182 / 364
    )
    assert expected_value(0.032, 0.06, START, DEADLINE, DEADLINE) == pytest.approx(0.06)
    # Before the start the path is at the baseline, after the deadline at the target.
    assert expected_value(0.032, 0.06, START, DEADLINE, date(2025, 6, 1)) == 0.032
    assert expected_value(0.032, 0.06, START, DEADLINE, date(2027, 6, 1)) == 0.06
    # A KPI whose good direction is down walks down the same way.
    assert expected_value(20.0, 14.0, START, DEADLINE, date(2026, 7, 2)) == pytest.approx(17.0)
    assert elapsed_share(START, START, START) == 1.0


def test_theil_sen_is_exact_on_a_line_and_ignores_an_outlier() -> None:
    x = [0, 7, 14, 21, 28, 35]
    y = [0.03 + 0.0002 * v for v in x]
    slope, intercept = theil_sen(x, y)
    assert (slope, intercept) == (pytest.approx(0.0002), pytest.approx(0.03))
    y[2] = 0.5  # one broken week
    slope, intercept = theil_sen(x, y)
    assert (slope, intercept) == (pytest.approx(0.0002), pytest.approx(0.03))


def test_projected_value() -> None:
    weeks = [(START + timedelta(weeks=w), 30.0 + 0.5 * w) for w in range(8)]
    # The line reaches 30 + 0.5 x (364 / 7) = 56 at the deadline.
    assert projected_value(weeks, DEADLINE) == pytest.approx(56.0)
    assert projected_value(weeks[:1], DEADLINE) == 30.0  # one week: flat
    assert projected_value([], DEADLINE) is None
    assert projected_value([(START, float("nan"))], DEADLINE) is None


@pytest.mark.parametrize(
    ("kpi", "current", "expected", "target", "status"),
    [
        ("conversion", 0.061, 0.05, 0.06, "achieved"),
        ("conversion", 0.06, 0.05, 0.06, "achieved"),  # at the target counts
        ("conversion", 0.052, 0.05, 0.06, "on_track"),
        ("conversion", 0.049, 0.05, 0.06, "behind"),
        ("conversion", None, 0.05, 0.06, "no_data"),
        # Down is good: below the path is ahead of it.
        ("inventory_turnover_days", 13.9, 17.0, 14.0, "achieved"),
        ("inventory_turnover_days", 16.5, 17.0, 14.0, "on_track"),
        ("inventory_turnover_days", 17.5, 17.0, 14.0, "behind"),
        ("complaint_rate", 0.002, 0.0015, 0.001, "behind"),
    ],
)
def test_status(
    kpi: str, current: float | None, expected: float, target: float, status: str
) -> None:
    assert status_of(KPIS[kpi], current, expected, target) == status


def test_projection_is_kept_within_what_the_kpi_can_be() -> None:
    assert KPIS["repeat_purchase_rate"].clamp(1.327) == 1.0
    assert KPIS["nps"].clamp(114.3) == 100.0 and KPIS["nps"].clamp(-130.0) == -100.0
    assert KPIS["complaint_rate"].clamp(-0.001) == 0.0
    assert KPIS["sales"].clamp(5e9) == 5e9
