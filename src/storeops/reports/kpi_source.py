"""Where a report's numbers come from: the KPI layer (``storeops.kpi``), behind a
narrow interface so that a report never defines or rolls up a metric itself.

Every range a report shows is one whole day, week or month
(:mod:`storeops.reports.periods`), so one ``kpi_values(grain=...)`` call per range
gives exactly one row per KPI (and store), rolled up by the KPI layer's own rules.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, Protocol

import pandas as pd

from storeops.reports.errors import ReportError
from storeops.reports.periods import DayRange
from storeops.warehouse import Warehouse


class KpiSpec(Protocol):
    """What a report needs to know about one KPI (``storeops.kpi.Kpi``)."""

    @property
    def id(self) -> str: ...

    @property
    def unit(self) -> str: ...

    @property
    def grain(self) -> str: ...

    @property
    def direction(self) -> str: ...

    def name(self, locale: str = ...) -> str: ...

    def definition(self, locale: str = ...) -> str: ...

    def format(self, value: float | None, locale: str = ...) -> str: ...


class KpiSource(Protocol):
    """The KPI catalog and its values per day, week or month."""

    @property
    def catalog(self) -> Mapping[str, KpiSpec]: ...

    def values(
        self,
        wh: Warehouse,
        kpi_ids: Sequence[str],
        *,
        grain: str,
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

    def values(
        self,
        wh: Warehouse,
        kpi_ids: Sequence[str],
        *,
        grain: str,
        date_from: date,
        date_to: date,
        stores: list[str] | None,
        chain: bool,
    ) -> pd.DataFrame:
        frame: pd.DataFrame = self._module.kpi_values(
            wh, list(kpi_ids), grain=grain, date_from=date_from, date_to=date_to,
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
    if not hasattr(module, "kpi_values"):
        raise ReportError("this storeops.kpi has no kpi_values(); reports cannot read KPIs")
    return KpiLayer(module)


def one_period(frame: pd.DataFrame, span: DayRange) -> dict[tuple[str, str], float | None]:
    """``(store_id, kpi) -> value`` of the row that starts the range (the KPI layer
    answers one row per whole day, week or month)."""
    if frame.empty:
        return {}
    starts = pd.to_datetime(frame["period_start"]).dt.date
    rows = frame[starts == span.start]
    out: dict[tuple[str, str], float | None] = {}
    for store, kpi, value in zip(rows["store_id"], rows["kpi"], rows["value"], strict=True):
        out[(str(store), str(kpi))] = None if pd.isna(value) else float(value)
    return out
