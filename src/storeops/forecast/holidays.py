"""Holiday regressors for the forecasts: one 0/1 column per festival period.

A day inside a festival period of :func:`storeops.analytics.retail_calendar.
festival_periods` (Spring Festival, Golden Week, 618, Double 11) gets 1 in that
festival's column. The model learns one effect per festival from the history, so a
festival that moves (Spring Festival) is still recognised next year.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from storeops.analytics.retail_calendar import FESTIVAL_PERIODS, festival_periods

#: Regressor columns, in a fixed order.
HOLIDAY_COLUMNS: tuple[str, ...] = tuple(f"festival_{name}" for name in FESTIVAL_PERIODS)


def holiday_features(ds: pd.Series) -> pd.DataFrame:
    """0/1 festival columns for the local days (or hours) in ``ds``."""
    stamps = pd.to_datetime(pd.Series(ds)).reset_index(drop=True)
    days = stamps.dt.normalize()
    out = pd.DataFrame(
        {column: np.zeros(len(days)) for column in HOLIDAY_COLUMNS}, index=days.index
    )
    if days.empty:
        return out
    for year in range(days.min().year, days.max().year + 1):
        for name, (first, last) in festival_periods(year).items():
            inside = (days >= pd.Timestamp(first)) & (days <= pd.Timestamp(last))
            out.loc[inside.to_numpy(), f"festival_{name}"] = 1.0
    return out
