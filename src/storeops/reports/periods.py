"""The days a report covers, and the days it is compared with.

A **daily** report covers one local business day, a **weekly** one a Monday-to-Sunday
week, a **monthly** one a calendar month. Each is compared with

- the **previous period** of the same length (the day before, the week before, the
  month before), and
- the **same period last year**: for days the comparable day of
  :func:`storeops.analytics.retail_calendar.last_year_range` (364 days back, so
  weekdays line up, or aligned on Spring Festival near it); for weeks the same shift
  rounded to whole weeks, so last year's range is a Monday-to-Sunday week too; for a
  month the same calendar month a year earlier, as merchants compare months.

Every range is therefore one whole day, week or month, which the KPI layer rolls up
exactly (``kpi_values(grain=...)``).

Without a date a report covers the last *complete* period before today: yesterday,
last week, last month.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from storeops.analytics.retail_calendar import last_year_range
from storeops.kpi.values import Period

ReportKind = Literal["daily", "weekly", "monthly"]
KINDS: tuple[ReportKind, ...] = ("daily", "weekly", "monthly")


@dataclass(frozen=True)
class DayRange:
    """Local business days ``start`` … ``end``, both inclusive."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def each_day(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range(self.days)]

    def label(self) -> str:
        if self.start == self.end:
            return self.start.isoformat()
        return f"{self.start.isoformat()} – {self.end.isoformat()}"


#: The KPI layer's grain for each kind of report.
GRAINS: dict[str, Period] = {"daily": "day", "weekly": "week", "monthly": "month"}


@dataclass(frozen=True)
class ReportPeriod:
    """A report's own days plus the two ranges it is compared with."""

    kind: ReportKind
    current: DayRange
    previous: DayRange
    last_year: DayRange

    @property
    def grain(self) -> Period:
        return GRAINS[self.kind]

    @property
    def key(self) -> str:
        """A stable name for the period: ``2026-10-31``, ``2026-W44``, ``2026-10``."""
        start = self.current.start
        if self.kind == "daily":
            return start.isoformat()
        if self.kind == "weekly":
            year, week, _ = start.isocalendar()
            return f"{year}-W{week:02d}"
        return f"{start.year}-{start.month:02d}"


def _month(year: int, month: int) -> DayRange:
    first = date(year, month, 1)
    following = date(year + month // 12, month % 12 + 1, 1)
    return DayRange(first, following - timedelta(days=1))


def period_for(kind: ReportKind, day: date) -> ReportPeriod:
    """The ``kind`` period that contains ``day``."""
    if kind == "daily":
        current = DayRange(day, day)
        previous = DayRange(day - timedelta(days=1), day - timedelta(days=1))
    elif kind == "weekly":
        monday = day - timedelta(days=day.weekday())
        current = DayRange(monday, monday + timedelta(days=6))
        previous = DayRange(monday - timedelta(days=7), monday - timedelta(days=1))
    elif kind == "monthly":
        current = _month(day.year, day.month)
        before = current.start - timedelta(days=1)
        previous = _month(before.year, before.month)
        last = _month(day.year - 1, day.month)
        return ReportPeriod(kind, current, previous, last)
    else:  # pragma: no cover - guarded by the Literal and the CLI
        raise ValueError(f"unknown report kind {kind!r}; choose one of {', '.join(KINDS)}")
    shift = last_year_range(current.start, current.end).shift_days
    if kind == "weekly":
        shift = round(shift / 7) * 7
    back = timedelta(days=shift)
    return ReportPeriod(kind, current, previous, DayRange(current.start - back, current.end - back))


def last_complete_period(kind: ReportKind, today: date) -> ReportPeriod:
    """The latest ``kind`` period that ended before ``today``."""
    if kind == "daily":
        return period_for(kind, today - timedelta(days=1))
    if kind == "weekly":
        return period_for(kind, today - timedelta(days=today.weekday() + 1))
    return period_for(kind, today.replace(day=1) - timedelta(days=1))
