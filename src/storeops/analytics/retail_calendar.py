"""The retail calendar: the festivals storeops knows and last year's comparable days.

**Festivals.** Spring Festival (春节, Chinese New Year's Day, 1st day of the 1st lunar
month) moves every year; :data:`SPRING_FESTIVAL` lists it for 2015–2035. The fixed-date
festivals are 618 (June 18), National Day (国庆, October 1) and Double 11 (双十一,
November 11).

**Same period last year** (同比) for a range of local days ``date_from`` … ``date_to``
(both inclusive), by :func:`last_year_range`:

1. **Spring Festival-aligned** — when some Spring Festival day *S* lies within
   :data:`SPRING_FESTIVAL_WINDOW_DAYS` (21) days of the range, i.e.
   ``date_from - 21 <= S <= date_to + 21``, and the table also has the Spring Festival
   *S'* of the year before, the range moves back by ``S - S'`` days, so the festival
   falls on the same day of the range in both years (2026-02-10 … 2026-02-23 holds
   2026-02-17 and maps to 2025-01-22 … 2025-02-04, which holds 2025-01-29). The
   weekdays then usually differ.
2. **weekday-aligned** — otherwise the range moves back 364 days (52 weeks), so every
   day keeps its weekday (Monday 2026-06-15 maps to Monday 2025-06-16). The calendar
   date drifts by a day a year (two across a 29 February) and fixed-date festivals can
   fall one or two days off; that is the usual retail trade-off.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

#: Spring Festival (Chinese New Year's Day) per year.
SPRING_FESTIVAL: dict[int, date] = {
    2015: date(2015, 2, 19),
    2016: date(2016, 2, 8),
    2017: date(2017, 1, 28),
    2018: date(2018, 2, 16),
    2019: date(2019, 2, 5),
    2020: date(2020, 1, 25),
    2021: date(2021, 2, 12),
    2022: date(2022, 2, 1),
    2023: date(2023, 1, 22),
    2024: date(2024, 2, 10),
    2025: date(2025, 1, 29),
    2026: date(2026, 2, 17),
    2027: date(2027, 2, 6),
    2028: date(2028, 1, 26),
    2029: date(2029, 2, 13),
    2030: date(2030, 2, 3),
    2031: date(2031, 1, 23),
    2032: date(2032, 2, 11),
    2033: date(2033, 1, 31),
    2034: date(2034, 2, 19),
    2035: date(2035, 2, 8),
}

#: Fixed-date festivals as (month, day).
FIXED_FESTIVALS: dict[str, tuple[int, int]] = {
    "618": (6, 18),
    "national_day": (10, 1),
    "double_11": (11, 11),
}

#: Festival *periods* that move traffic, as days before and after the festival day
#: (both inclusive): Spring Festival shopping for new clothes in the days before it
#: and visits in its first week; the National Day Golden Week (黄金周, October 1–7);
#: the 618 and Double 11 sales, which peak in the days up to the festival day.
FESTIVAL_PERIODS: dict[str, tuple[int, int]] = {
    "spring_festival": (3, 6),
    "618": (2, 0),
    "national_day": (0, 6),
    "double_11": (2, 0),
}

#: A range within this many days of Spring Festival is compared on Spring Festival.
SPRING_FESTIVAL_WINDOW_DAYS = 21
#: Weekday-aligned comparison: 52 weeks back.
WEEKDAY_SHIFT_DAYS = 364

Alignment = Literal["weekday-aligned", "Spring Festival-aligned"]


def festivals(year: int) -> dict[str, date]:
    """The festivals storeops knows in ``year`` (Spring Festival only for 2015–2035)."""
    days = {name: date(year, m, d) for name, (m, d) in FIXED_FESTIVALS.items()}
    if year in SPRING_FESTIVAL:
        days["spring_festival"] = SPRING_FESTIVAL[year]
    return dict(sorted(days.items(), key=lambda item: item[1]))


def festival_periods(year: int) -> dict[str, tuple[date, date]]:
    """First and last day (inclusive) of each festival period in ``year``
    (:data:`FESTIVAL_PERIODS` around the days of :func:`festivals`)."""
    periods = {}
    for name, day in festivals(year).items():
        before, after = FESTIVAL_PERIODS[name]
        periods[name] = (day - timedelta(days=before), day + timedelta(days=after))
    return periods


@dataclass(frozen=True)
class ComparableRange:
    """Last year's days to compare a range with, and why these."""

    date_from: date
    date_to: date
    shift_days: int
    reason: Alignment


def last_year_range(date_from: date, date_to: date) -> ComparableRange:
    """Last year's comparable range for ``date_from`` … ``date_to`` (see the module doc)."""
    if date_from > date_to:
        raise ValueError(f"date_from {date_from} is after date_to {date_to}")
    window = timedelta(days=SPRING_FESTIVAL_WINDOW_DAYS)
    for year in range(date_from.year, date_to.year + 2):
        festival = SPRING_FESTIVAL.get(year)
        before = SPRING_FESTIVAL.get(year - 1)
        if festival is None or before is None:
            continue
        if date_from - window <= festival <= date_to + window:
            shift = (festival - before).days
            return ComparableRange(
                date_from - timedelta(days=shift),
                date_to - timedelta(days=shift),
                shift,
                "Spring Festival-aligned",
            )
    back = timedelta(days=WEEKDAY_SHIFT_DAYS)
    return ComparableRange(date_from - back, date_to - back, WEEKDAY_SHIFT_DAYS, "weekday-aligned")
