"""The demo's calendar: weekday and hour curves, holidays, festivals and promo days.

All multipliers here are the planted truth; :mod:`storeops.demo.truth` records them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from storeops.analytics.retail_calendar import festival_periods

#: Store traffic by weekday, Monday first (weekends clearly higher).
WEEKDAY_TRAFFIC = (0.85, 0.80, 0.85, 0.90, 1.05, 1.45, 1.40)
#: Online orders by weekday, Monday first (flatter than stores).
WEEKDAY_ONLINE = (1.00, 0.95, 0.95, 1.00, 1.05, 1.10, 1.15)


@dataclass(frozen=True)
class Festival:
    """A recurring festival window with its traffic lift in stores and online."""

    name: str
    store_lift: float
    online_lift: float

    def window(self, year: int) -> tuple[date, date] | None:
        """First and last day (inclusive) of the festival period in ``year``: the
        product's own festival periods (:func:`festival_periods`), so what the demo
        plants is what the forecasts model."""
        return festival_periods(year).get(self.name)


FESTIVALS = (
    Festival("spring_festival", store_lift=1.6, online_lift=0.7),
    Festival("618", store_lift=1.2, online_lift=2.5),
    Festival("national_day", store_lift=1.7, online_lift=0.9),
    Festival("double_11", store_lift=1.15, online_lift=3.0),
)

#: 满200减40 runs on these days of every month (never on festival days).
PROMO_DAYS_OF_MONTH = (20, 21, 22)
PROMO_COUPON = "MJ200-40"
PROMO_THRESHOLD_FEN = 20_000
PROMO_DISCOUNT_FEN = 4_000
#: On promo days store conversion rises by this factor …
PROMO_CONVERSION_LIFT = 1.25
#: … and customers spend this much more before the coupon.
PROMO_SPEND_LIFT = 1.15
#: Share of promo-day orders over the threshold that redeem the coupon.
PROMO_REDEMPTION = 0.7


def _curve(
    hours: np.ndarray, peaks: tuple[tuple[float, float, float], ...], base: float
) -> np.ndarray:
    w = np.full(len(hours), base, dtype=float)
    mid = hours + 0.5
    for centre, width, height in peaks:
        w += height * np.exp(-(((mid - centre) / width) ** 2))
    return w


def store_hour_shares(open_hour: int, close_hour: int) -> np.ndarray:
    """Share of a day's entries per opening hour: lunchtime and evening peaks."""
    hours = np.arange(open_hour, close_hour)
    w = _curve(hours, ((12.5, 1.2, 0.7), (19.5, 1.5, 1.0)), base=0.5)
    return w / w.sum()


def online_hour_shares() -> np.ndarray:
    """Share of a day's online orders per hour of the day (0-23): night-owl peak."""
    w = _curve(np.arange(24), ((12.5, 1.5, 0.6), (21.5, 1.8, 1.0)), base=0.08)
    return w / w.sum()


@dataclass(frozen=True)
class Calendar:
    """Per-day attributes of the simulated period, as aligned arrays."""

    dates: list[date]
    weekday: np.ndarray  # 0 = Monday
    festival: np.ndarray  # index into FESTIVALS, -1 for none
    store_lift: np.ndarray
    online_lift: np.ndarray
    promo: np.ndarray  # bool

    @classmethod
    def build(cls, start: date, days: int) -> Calendar:
        dates = [start + timedelta(days=i) for i in range(days)]
        weekday = np.array([d.weekday() for d in dates], dtype=np.int64)
        festival = np.full(days, -1, dtype=np.int64)
        for k, fest in enumerate(FESTIVALS):
            for year in range(dates[0].year, dates[-1].year + 1):
                window = fest.window(year)
                if window is None:
                    continue
                lo, hi = window
                for i, d in enumerate(dates):
                    if lo <= d <= hi:
                        festival[i] = k
        store_lift = np.array(
            [FESTIVALS[f].store_lift if f >= 0 else 1.0 for f in festival], dtype=float
        )
        online_lift = np.array(
            [FESTIVALS[f].online_lift if f >= 0 else 1.0 for f in festival], dtype=float
        )
        promo = np.array([d.day in PROMO_DAYS_OF_MONTH for d in dates], dtype=bool) & (festival < 0)
        return cls(dates, weekday, festival, store_lift, online_lift, promo)

    def festival_days(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for i, f in enumerate(self.festival):
            if f >= 0:
                out.setdefault(FESTIVALS[f].name, []).append(self.dates[i].isoformat())
        return out
