"""The KPI layer: one catalog of metrics (:data:`KPIS`), a daily mart with their
numerators and denominators (``mart_kpi_daily``, :func:`build_kpi_mart`) and exact
roll-ups per day, week or month, store or chain (:func:`kpi_values`)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from storeops.kpi.catalog import KPI_MART, KPIS, Kpi
from storeops.kpi.values import KpiError, kpi_total, kpi_values

if TYPE_CHECKING:
    from storeops.marts.traffic_daily import MartBuild
    from storeops.warehouse import Warehouse
    from storeops.workspace import Workspace


def build_kpi_mart(
    ws_or_wh: Workspace | Warehouse,
    date_from: date | None = None,
    date_to: date | None = None,
    *,
    wh: Warehouse | None = None,
) -> MartBuild:
    """See :func:`storeops.marts.kpi_daily.build_kpi_mart` (imported when called: the
    mart module imports this package's formulas)."""
    from storeops.marts.kpi_daily import build_kpi_mart as build

    return build(ws_or_wh, date_from, date_to, wh=wh)


__all__ = ["KPIS", "KPI_MART", "Kpi", "KpiError", "build_kpi_mart", "kpi_total", "kpi_values"]
