"""Report periods and the ranges they are compared with."""

from __future__ import annotations

from datetime import date

from storeops.reports.periods import last_complete_period, period_for


def test_daily_period_compares_with_the_day_before_and_the_weekday_a_year_ago() -> None:
    p = period_for("daily", date(2026, 10, 30))
    assert (p.current.start, p.current.end) == (date(2026, 10, 30),) * 2
    assert p.previous.start == date(2026, 10, 29)
    assert p.last_year.start == date(2025, 10, 31)  # 364 days back: also a Friday
    assert p.last_year.start.weekday() == p.current.start.weekday()
    assert p.key == "2026-10-30" and p.grain == "day"


def test_weekly_period_is_monday_to_sunday_and_last_year_too() -> None:
    p = period_for("weekly", date(2026, 10, 21))  # a Wednesday
    assert (p.current.start, p.current.end) == (date(2026, 10, 19), date(2026, 10, 25))
    assert (p.previous.start, p.previous.end) == (date(2026, 10, 12), date(2026, 10, 18))
    assert p.key == "2026-W43" and p.grain == "week"
    assert period_for("weekly", date(2026, 10, 21)).last_year.start == date(2025, 10, 20)
    # Spring Festival week (2026-02-17) against Spring Festival week a year before
    # (2025-01-29), still Monday to Sunday.
    last = period_for("weekly", date(2026, 2, 18)).last_year
    assert last.start.weekday() == 0 and last.days == 7
    assert last.start <= date(2025, 1, 29) <= last.end


def test_monthly_period_is_the_calendar_month() -> None:
    p = period_for("monthly", date(2026, 3, 15))
    assert (p.current.start, p.current.end) == (date(2026, 3, 1), date(2026, 3, 31))
    assert (p.previous.start, p.previous.end) == (date(2026, 2, 1), date(2026, 2, 28))
    assert (p.last_year.start, p.last_year.end) == (date(2025, 3, 1), date(2025, 3, 31))
    december = period_for("monthly", date(2026, 12, 31))
    assert december.current.end == date(2026, 12, 31) and december.key == "2026-12"
    assert period_for("monthly", date(2026, 1, 2)).previous.start == date(2025, 12, 1)


def test_last_complete_period() -> None:
    monday = date(2026, 11, 2)
    assert last_complete_period("daily", monday).key == "2026-11-01"
    assert last_complete_period("weekly", monday).key == "2026-W44"
    assert last_complete_period("weekly", date(2026, 11, 1)).key == "2026-W43"  # a Sunday
    assert last_complete_period("monthly", monday).key == "2026-10"
    assert last_complete_period("monthly", date(2026, 11, 1)).key == "2026-10"
