"""Daily KPI values for rules: read from the KPI mart ``mart_kpi_daily``.

One row per store (``"*"`` for the chain) per local day per KPI, with its ``value``
(the catalog's definition in :mod:`storeops.kpi`). Rules read the daily grain
directly: an alert is about one store on one day.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from storeops.kpi import KPIS
from storeops.warehouse import Warehouse

KPI_MART = "mart_kpi_daily"
CHAIN = "*"


def kpi_days(
    wh: Warehouse, kpi: str, stores: list[str] | None, date_from: date, date_to: date
) -> pd.DataFrame:
    """``store_id, day, value`` of ``kpi`` for ``stores`` (None: every store; the chain
    row for chain-level KPIs) from ``date_from`` to ``date_to`` inclusive."""
    t = wh.mart(KPI_MART)
    expr = t.filter(t.kpi == kpi, t.day >= date_from, t.day <= date_to)
    if stores is not None:
        expr = expr.filter(t.store_id.isin(stores))
    elif KPIS[kpi].grain == "chain_day":
        expr = expr.filter(t.store_id == CHAIN)
    else:
        expr = expr.filter(t.store_id != CHAIN)
    frame = wh.to_pandas(expr.select("store_id", "day", "value"))
    frame["day"] = pd.to_datetime(frame["day"]).dt.date
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce")
    return frame


def last_day(wh: Warehouse) -> date | None:
    """The latest day in the KPI mart (the day evaluations default to)."""
    t = wh.mart(KPI_MART)
    value = wh.execute(t.day.max())
    if value is None or pd.isna(value):
        return None
    return pd.Timestamp(value).date()
