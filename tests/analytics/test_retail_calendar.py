"""Last year's comparable range: weekday-aligned, or aligned on Spring Festival."""

from __future__ import annotations

from datetime import date

import pytest

from storeops.analytics.retail_calendar import (
    SPRING_FESTIVAL,
    ComparableRange,
    festival_periods,
    festivals,
    last_year_range,
)


def test_a_normal_week_maps_to_52_weeks_earlier_on_the_same_weekdays() -> None:
    got = last_year_range(date(2026, 6, 15), date(2026, 6, 21))  # Monday … Sunday
    assert got == ComparableRange(date(2025, 6, 16), date(2025, 6, 22), 364, "weekday-aligned")
    assert got.date_from.weekday() == 0 and got.date_to.weekday() == 6


def test_a_range_holding_spring_festival_is_aligned_on_last_years_spring_festival() -> None:
    got = last_year_range(date(2026, 2, 10), date(2026, 2, 23))  # holds 2026-02-17
    assert got == ComparableRange(
        date(2025, 1, 22), date(2025, 2, 4), 384, "Spring Festival-aligned"
    )
    # The festival is the 8th day of the range in both years.
    assert (date(2025, 1, 29) - got.date_from).days == (date(2026, 2, 17) - date(2026, 2, 10)).days


def test_within_21_days_of_spring_festival_counts_as_near() -> None:
    # 2026-03-10 is 21 days after 2026-02-17; 2026-03-11 is 22 days after.
    near = last_year_range(date(2026, 3, 10), date(2026, 3, 16))
    assert (near.reason, near.date_from) == ("Spring Festival-aligned", date(2025, 2, 19))
    far = last_year_range(date(2026, 3, 11), date(2026, 3, 17))
    assert (far.reason, far.date_from) == ("weekday-aligned", date(2025, 3, 12))
    # Late January 2026 is within 21 days before the festival.
    before = last_year_range(date(2026, 1, 20), date(2026, 1, 27))
    assert (before.reason, before.shift_days) == ("Spring Festival-aligned", 384)
    # An earlier festival moves the range forward less than a year: 2027-02-06 vs 2026-02-17.
    early = last_year_range(date(2027, 2, 6), date(2027, 2, 6))
    assert (early.date_from, early.shift_days) == (date(2026, 2, 17), 354)


def test_across_a_29_february_weekdays_still_match() -> None:
    # 2025-03-03 is a Monday; 364 days back is Monday 2024-03-04 (2025-03-04 by date).
    got = last_year_range(date(2025, 3, 3), date(2025, 3, 9))
    assert got == ComparableRange(date(2024, 3, 4), date(2024, 3, 10), 364, "weekday-aligned")
    # Back across 2024-02-29 the calendar date drifts by two days: 2024-03-04 → 2023-03-06.
    leap = last_year_range(date(2024, 3, 4), date(2024, 3, 10))
    assert (leap.date_from, leap.date_to) == (date(2023, 3, 6), date(2023, 3, 12))
    assert leap.date_from.weekday() == date(2024, 3, 4).weekday()
    # Spring Festival-aligned over the leap day: 2024-02-10 vs 2023-01-22 is 384 days.
    sf = last_year_range(date(2024, 2, 26), date(2024, 3, 1))
    assert (sf.reason, sf.date_from, sf.date_to) == (
        "Spring Festival-aligned",
        date(2023, 2, 7),
        date(2023, 2, 11),
    )


def test_outside_the_table_falls_back_to_weekdays() -> None:
    # 2015 has a Spring Festival but 2014 is not in the table.
    got = last_year_range(date(2015, 2, 16), date(2015, 2, 22))
    assert (got.reason, got.date_from) == ("weekday-aligned", date(2014, 2, 17))
    with pytest.raises(ValueError, match="after"):
        last_year_range(date(2026, 2, 2), date(2026, 2, 1))


def test_festival_table() -> None:
    assert len(SPRING_FESTIVAL) == 21 and min(SPRING_FESTIVAL) == 2015
    assert max(SPRING_FESTIVAL) == 2035
    # Published dates (Hong Kong Observatory lunar calendar).
    assert SPRING_FESTIVAL[2015] == date(2015, 2, 19)
    assert SPRING_FESTIVAL[2020] == date(2020, 1, 25)
    assert SPRING_FESTIVAL[2025] == date(2025, 1, 29)
    assert SPRING_FESTIVAL[2033] == date(2033, 1, 31)
    # Chinese New Year always falls between 21 January and 20 February.
    assert all(date(y, 1, 21) <= d <= date(y, 2, 20) for y, d in SPRING_FESTIVAL.items())
    assert SPRING_FESTIVAL[2024] == date(2024, 2, 10)
    assert SPRING_FESTIVAL[2027] == date(2027, 2, 6)
    assert festivals(2026) == {
        "spring_festival": date(2026, 2, 17),
        "618": date(2026, 6, 18),
        "national_day": date(2026, 10, 1),
        "double_11": date(2026, 11, 11),
    }
    assert "spring_festival" not in festivals(2040)


def test_festival_periods() -> None:
    periods = festival_periods(2026)
    # Spring Festival: three shopping days before, the first week of the holiday after.
    assert periods["spring_festival"] == (date(2026, 2, 14), date(2026, 2, 23))
    assert periods["national_day"] == (date(2026, 10, 1), date(2026, 10, 7))
    assert periods["618"] == (date(2026, 6, 16), date(2026, 6, 18))
    assert periods["double_11"] == (date(2026, 11, 9), date(2026, 11, 11))
    assert "spring_festival" not in festival_periods(2040)
