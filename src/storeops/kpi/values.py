"""KPI values per day, week or month, per store or for the chain, from ``mart_kpi_daily``.

Roll-ups are exact because the mart keeps numerators and denominators (see
:mod:`storeops.kpi.catalog` for the kinds): a ratio over a month is Σ numerator /
Σ denominator of its days, never a mean of daily ratios; a level (``last``) is the
value of the period's last day with data. Weeks start on Monday (ISO), months on the
1st; ``period_start`` is that day.

``chain=True`` gives one row per period with ``store_id = "*"``: for KPIs with chain
rows in the mart (customers counted once across stores and online channels) and no
store filter, those rows; otherwise the stores' rows added up the same exact way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any, Literal

import numpy as np
import pandas as pd

from storeops.errors import StoreOpsError
from storeops.kpi.catalog import KPI_MART, KPIS, Kpi
from storeops.kpi.compute import CHAIN
from storeops.warehouse import Warehouse

Period = Literal["day", "week", "month"]
OUT_COLUMNS = ["store_id", "period_start", "kpi", "value", "numerator", "denominator"]


@dataclass(frozen=True)
class KpiValue:
    """One row of :func:`kpi_values`, typed."""

    store_id: str
    period_start: date
    kpi: str
    value: float | None
    numerator: float
    denominator: float

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["period_start"] = self.period_start.isoformat()
        return out


def value_rows(frame: pd.DataFrame) -> list[KpiValue]:
    """The rows of a :func:`kpi_values` frame as :class:`KpiValue` (NaN → None)."""
    out = []
    for rec in frame.to_dict(orient="records"):
        value = float(rec["value"])
        out.append(
            KpiValue(
                store_id=str(rec["store_id"]),
                period_start=date.fromisoformat(str(rec["period_start"])[:10]),
                kpi=str(rec["kpi"]),
                value=None if np.isnan(value) else value,
                numerator=float(rec["numerator"]),
                denominator=float(rec["denominator"]),
            )
        )
    return out


class KpiError(StoreOpsError, ValueError):
    """KPI values cannot be given as asked."""


def require_kpis(kpi_ids: Sequence[str]) -> list[Kpi]:
    unknown = [k for k in kpi_ids if k not in KPIS]
    if unknown:
        raise KpiError(
            f"unknown KPI {', '.join(unknown)}; known: {', '.join(KPIS)} (see `storeops kpi list`)"
        )
    return [KPIS[k] for k in kpi_ids]


def period_start(days: pd.Series, grain: Period) -> pd.Series:
    ts = pd.to_datetime(days)
    if grain == "week":
        ts = ts - pd.to_timedelta(ts.dt.weekday, unit="D")
    elif grain == "month":
        ts = ts.dt.to_period("M").dt.start_time
    elif grain != "day":
        raise KpiError(f"grain {grain!r}: use day, week or month")
    return ts.dt.date


def _daily(
    wh: Warehouse,
    kpi_ids: Sequence[str],
    date_from: date | None,
    date_to: date | None,
    stores: Sequence[str] | None,
    chain_rows: bool,
) -> pd.DataFrame:
    """Daily rows of ``kpi_ids``: chain rows, or store rows (of ``stores``)."""
    m = wh.mart(KPI_MART)
    m = m.filter(m.kpi.isin(list(kpi_ids)))
    if date_from is not None:
        m = m.filter(m.day >= date_from)
    if date_to is not None:
        m = m.filter(m.day <= date_to)
    if chain_rows:
        m = m.filter(m.store_id == CHAIN)
    elif stores is not None:
        m = m.filter(m.store_id.isin(list(stores)))
    else:
        m = m.filter(m.store_id != CHAIN)
    frame = wh.to_pandas(m.select("store_id", "day", "kpi", "numerator", "denominator"))
    frame["day"] = pd.to_datetime(frame["day"]).dt.date
    return frame


def _value(kpi: Kpi, num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        out = kpi.scale * num / den
    return np.where(den == 0, np.nan, out)


def _roll(frame: pd.DataFrame, kpi: Kpi, chain: bool) -> pd.DataFrame:
    """One row per store (or the chain) and period from daily rows of one KPI."""
    if kpi.kind == "last":
        # The last day with data per store and period; then stores combine.
        frame = frame.sort_values("day")
        frame = frame.groupby(["store_id", "period_start"], sort=False).tail(1)
    if chain:
        frame = frame.assign(store_id=CHAIN)
    agg = frame.groupby(["store_id", "period_start"], sort=True)[["numerator", "denominator"]]
    out = agg.sum().reset_index()
    if kpi.kind == "sum" or (kpi.kind == "last" and not kpi.level_ratio):
        out["denominator"] = 1.0
    out["value"] = _value(kpi, out["numerator"].to_numpy(), out["denominator"].to_numpy())
    return out.assign(kpi=kpi.id)


def kpi_values(
    wh: Warehouse,
    kpi_ids: Sequence[str],
    *,
    grain: Period = "day",
    date_from: date | None = None,
    date_to: date | None = None,
    stores: Sequence[str] | None = None,
    chain: bool = False,
) -> pd.DataFrame:
    """``store_id, period_start, kpi, value, numerator, denominator``, one row per store
    (or ``"*"`` with ``chain``), period and KPI; NULL value where the denominator is 0."""
    kpis = require_kpis(kpi_ids)
    if date_from is not None and date_to is not None and date_from > date_to:
        raise KpiError(f"--from {date_from} is after --to {date_to}; swap them")
    if grain not in ("day", "week", "month"):
        raise KpiError(f"grain {grain!r}: use day, week or month")
    if KPI_MART not in wh.con.list_tables():
        raise KpiError(
            f"{KPI_MART} is not built yet: run `storeops marts refresh` (or `storeops demo`)"
        )
    # Chain-grain KPIs have chain rows only: they answer for the chain (never for a
    # store filter); the others use their own chain rows when the whole chain is asked.
    own_chain = [
        k for k in kpis if stores is None and (k.grain == "chain_day" or (chain and k.chain_rows))
    ]
    from_stores = [k for k in kpis if k.grain != "chain_day" and k not in own_chain]
    frames = []
    for group, chain_rows in ((own_chain, True), (from_stores, False)):
        if group:
            ids = [k.id for k in group]
            frames.append(_daily(wh, ids, date_from, date_to, stores, chain_rows))
    out = []
    for frame in frames:
        if frame.empty:
            continue
        frame["period_start"] = period_start(frame["day"], grain)
        for kpi_id, part in frame.groupby("kpi", sort=False):
            out.append(_roll(part, KPIS[str(kpi_id)], chain))
    if not out:
        return pd.DataFrame({c: [] for c in OUT_COLUMNS})
    result = pd.concat(out, ignore_index=True)[OUT_COLUMNS]
    result["value"] = result["value"].astype("float64")
    return result.sort_values(["kpi", "store_id", "period_start"], ignore_index=True)


def rollup(daily: pd.DataFrame, kpi_id: str, grain: Period | None = None) -> pd.DataFrame:
    """Roll a one-store (or chain) :func:`kpi_values` frame of ``grain="day"`` up again:
    per week or month, or with ``grain=None`` over all its days in one row."""
    kpi = require_kpis([kpi_id])[0]
    frame = daily[daily["kpi"] == kpi_id]
    if frame.empty:
        return pd.DataFrame({c: [] for c in OUT_COLUMNS})
    days = pd.Series(frame["period_start"].to_numpy(), index=frame.index)
    if grain is None:
        starts = pd.Series(days.min(), index=frame.index)
    else:
        starts = period_start(days, grain)
    rolled = _roll(frame.assign(day=days, period_start=starts), kpi, chain=False)
    return rolled[OUT_COLUMNS]


def kpi_total(
    wh: Warehouse,
    kpi_id: str,
    *,
    date_from: date | None,
    date_to: date | None,
    store: str | None = None,
) -> float | None:
    """One KPI over a whole range for one store or (``store=None``) the chain."""
    frame = kpi_values(
        wh, [kpi_id], grain="day", date_from=date_from, date_to=date_to,
        stores=None if store is None else [store], chain=store is None,
    )  # fmt: skip
    rolled = rollup(frame, kpi_id)
    if rolled.empty:
        return None
    value = float(rolled["value"].iloc[0])
    return None if np.isnan(value) else value


__all__ = [
    "KpiError",
    "KpiValue",
    "Period",
    "kpi_total",
    "kpi_values",
    "period_start",
    "rollup",
    "value_rows",
]
