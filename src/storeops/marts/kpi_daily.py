"""``mart_kpi_daily``: every KPI of the catalog per store (and chain) and local day.

Long format, one row per store, day and KPI: ``store_id`` (``"*"`` for a chain row),
``day``, ``kpi``, ``numerator``, ``denominator`` and ``value`` (= scale × numerator /
denominator, NULL when the denominator is 0). Keeping the numerator and denominator
makes any roll-up exact (:func:`storeops.kpi.kpi_values`).

It reads ``mart_store_performance_daily`` (so it runs after the daily marts in
:data:`storeops.marts.refresh.MART_STEPS`; it builds that mart first when missing),
the canonical tables and, given a workspace, the ops database (liabilities, coupons).

**Range.** ``date_from``/``date_to`` replace only those local days; the trailing
windows still look at all history, so a range rebuild gives the same rows as a full
one for its days.
"""

from __future__ import annotations

from datetime import date

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa

from storeops.kpi import compute
from storeops.kpi.catalog import KPI_MART, KPIS
from storeops.marts.traffic_daily import MartBuild
from storeops.warehouse import Warehouse
from storeops.workspace import Workspace

__all__ = ["KPI_MART", "SCHEMA", "build_kpi_mart", "kpi_daily_frame"]

SCHEMA = pa.schema(
    [
        ("store_id", pa.string()),
        ("day", pa.date32()),
        ("kpi", pa.string()),
        ("numerator", pa.float64()),
        ("denominator", pa.float64()),
        ("value", pa.float64()),
    ]
)


def kpi_daily_frame(wh: Warehouse, ws: Workspace | None = None) -> pd.DataFrame:
    """Every KPI row over all days (ops KPIs only with a workspace)."""
    perf = compute.performance_frame(wh)
    days = compute.day_range(perf, [])
    frames = [
        *compute.performance_kpis(perf),
        compute.capture_rate(wh),
        *compute.window_kpis(wh, days),
        compute.retention(wh),
        compute.new_members(wh),
        compute.private_domain_share(wh),
        *compute.survey_kpis(wh, perf),
        compute.inventory_turnover(wh, perf),
    ]
    if ws is not None and len(days):
        frames += compute.ops_kpis(ws.ops_engine(), ws.settings.default_timezone, days)
    frame = pd.concat([f for f in frames if not f.empty] or [compute.empty()], ignore_index=True)
    scale = frame["kpi"].map({k: v.scale for k, v in KPIS.items()}).astype("float64")
    den = frame["denominator"].to_numpy(dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        value = scale.to_numpy() * frame["numerator"].to_numpy(dtype="float64") / den
    frame["value"] = np.where(den == 0, np.nan, value)
    return frame


def _table(frame: pd.DataFrame) -> pa.Table:
    return pa.table(
        {
            "store_id": pa.array(frame["store_id"].astype(str).tolist(), pa.string()),
            "day": pa.array(frame["day"].tolist(), pa.date32()),
            "kpi": pa.array(frame["kpi"].astype(str).tolist(), pa.string()),
            "numerator": pa.array(frame["numerator"], pa.float64(), from_pandas=True),
            "denominator": pa.array(frame["denominator"], pa.float64(), from_pandas=True),
            "value": pa.array(frame["value"], pa.float64(), from_pandas=True),
        },
        schema=SCHEMA,
    )


def build_kpi_mart(
    ws_or_wh: Workspace | Warehouse,
    date_from: date | None = None,
    date_to: date | None = None,
    *,
    wh: Warehouse | None = None,
) -> MartBuild:
    """Recompute ``mart_kpi_daily`` for the local days in range (open ends: all days).

    Pass a :class:`Workspace` to include the ops-database KPIs (and ``wh`` to reuse an
    open warehouse); a bare :class:`Warehouse` builds the warehouse KPIs only.
    """
    if isinstance(ws_or_wh, Workspace):
        if wh is None:
            with ws_or_wh.warehouse() as opened:
                return _build(opened, ws_or_wh, date_from, date_to)
        return _build(wh, ws_or_wh, date_from, date_to)
    return _build(ws_or_wh, None, date_from, date_to)


def _build(
    wh: Warehouse, ws: Workspace | None, date_from: date | None, date_to: date | None
) -> MartBuild:
    frame = kpi_daily_frame(wh, ws)
    inside = pd.Series(True, index=frame.index)
    if date_from is not None:
        inside &= frame["day"] >= date_from
    if date_to is not None:
        inside &= frame["day"] <= date_to
    fresh = _table(frame[inside])
    parts = [fresh]
    ranged = date_from is not None or date_to is not None
    if (
        ranged
        and KPI_MART in wh.con.list_tables()
        and wh.mart(KPI_MART).schema() == (ibis.schema(SCHEMA))
    ):
        old = wh.mart(KPI_MART)
        keep = ibis.literal(True)
        if date_from is not None:
            keep &= old.day >= date_from
        if date_to is not None:
            keep &= old.day <= date_to
        parts.insert(0, wh.to_pyarrow(old.filter(~keep)).cast(SCHEMA))
    table = pa.concat_tables(parts).sort_by(
        [("kpi", "ascending"), ("store_id", "ascending"), ("day", "ascending")]
    )
    wh.write_mart(KPI_MART, table)
    return MartBuild(KPI_MART, date_from, date_to, fresh.num_rows)
