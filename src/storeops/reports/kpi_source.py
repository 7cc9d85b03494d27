"""Where a report's numbers come from: the KPI layer (``storeops.kpi``), behind a
narrow interface so that a report never defines a metric itself.

A report asks for *daily* KPI rows (``kpi_values(..., grain="day")``) for each range
it shows (the period, the previous period, last year's) and rolls them up with the
KPI's own ``kind`` — the same rule the KPI layer uses for weeks and months (ratios as
sum(numerator) / sum(denominator), sums as sums, levels as the last day's value) —
because last year's comparable range need not start on a Monday or the 1st.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, Protocol

import pandas as pd

from storeops.reports.errors import ReportError
from storeops.warehouse import Warehouse


class KpiSpec(Protocol):
    """What a report needs to know about one KPI (``storeops.kpi.Kpi``)."""

    id: str
    unit: str
    grain: str
    direction: str
    kind: str

    def name(self, locale: str) -> str: ...

    def definition(self, locale: str) -> str: ...

    def format(self, value: float | None, locale: str) -> str: ...


class KpiSource(Protocol):
    """The KPI catalog and its daily values."""

    @property
    def catalog(self) -> Mapping[str, KpiSpec]: ...

    def daily(
        self,
        wh: Warehouse,
        kpi_ids: Sequence[str],
        *,
        date_from: date,
        date_to: date,
        stores: list[str] | None,
        chain: bool,
    ) -> pd.DataFrame:
        """Columns ``store_id, period_start, kpi, value, numerator, denominator``."""
        ...


class KpiLayer:
    """:class:`KpiSource` over ``storeops.kpi`` (``KPIS`` and ``kpi_values``)."""

    def __init__(self, module: Any) -> None:
        self._module = module

    @property
    def catalog(self) -> Mapping[str, KpiSpec]:
        kpis: Mapping[str, KpiSpec] = self._module.KPIS
        return kpis

    def daily(
        self,
        wh: Warehouse,
        kpi_ids: Sequence[str],
        *,
        date_from: date,
        date_to: date,
        stores: list[str] | None,
        chain: bool,
    ) -> pd.DataFrame:
        frame: pd.DataFrame = self._module.kpi_values(
            wh, list(kpi_ids), grain="day", date_from=date_from, date_to=date_to,
            stores=stores, chain=chain,
        )  # fmt: skip
        return frame


def kpi_layer() -> KpiSource:
    """The installed KPI layer; a clear error when this storeops has none."""
    try:
        module = importlib.import_module("storeops.kpi")
    except ImportError as exc:
        raise ReportError(
            f"reports need the KPI layer (storeops.kpi), which could not be imported: {exc}"
        ) from None
    return KpiLayer(module)


def roll_up(kind: str, rows: pd.DataFrame) -> float | None:
    """One value for a range of daily rows of one KPI (and one store or the chain)."""
    if rows.empty:
        return None
    if kind == "ratio":
        numerator = float(rows["numerator"].fillna(0).sum())
        denominator = float(rows["denominator"].fillna(0).sum())
        return numerator / denominator if denominator else None
    if kind == "last":
        known = rows.dropna(subset=["value"]).sort_values("period_start")
        return None if known.empty else float(known["value"].iloc[-1])
    if kind == "sum":
        known = rows.dropna(subset=["numerator"])
        return None if known.empty else float(known["numerator"].sum())
    raise ReportError(f"KPI kind {kind!r} cannot be rolled up; expected ratio, sum or last")
