"""Customer marts for the dashboard's customers page, per store and for the chain.

Rows with ``store_id = "*"`` are the chain; the other rows belong to one store, so a
store manager's page filters by store and never sees another store's customers.

- ``mart_dashboard_rfm`` — customers and spend per RFM cell (R score × F score) and
  operating segment (:class:`~storeops.analytics.rfm.RfmInsight`, 365-day window;
  a store's rows score only the purchases made in that store);
- ``mart_dashboard_lifecycle`` — new / returning / resurrecting / dormant customers
  per week for the last :data:`LIFECYCLE_WEEKS` weeks
  (:class:`~storeops.analytics.lifecycle.LifecycleInsight`);
- ``mart_dashboard_clv`` — the distribution of the 90-day CLV (``mart_clv_scores``,
  fitted here with :func:`~storeops.marts.clv_scores.fit_clv`) in :data:`CLV_BINS`
  bins shared by every store; a customer counts in their *main store* (where they
  placed most orders, ties to the lower store id);
- ``mart_dashboard_at_risk`` — per main store the :data:`AT_RISK_ROWS` customers with
  the most past spend at risk, ``spend_fen × (1 − P(alive))`` among those with
  P(alive) below one half, with the churn probability when ``mart_churn_scores``
  exists. Customers appear by their pseudonymous id only.

Everything is recomputed from the purchases as of the day after the last one.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa

from storeops.analytics.lifecycle import LifecycleInsight, LifecycleQuery
from storeops.analytics.purchases import purchases
from storeops.analytics.rfm import RfmInsight, RfmQuery
from storeops.marts.churn_scores import CHURN_MART
from storeops.marts.clv_scores import SCORES_MART, ClvError, default_as_of, fit_clv
from storeops.marts.frames import write_frame_mart
from storeops.warehouse import Warehouse
from storeops.workspace import Workspace

RFM_MART = "mart_dashboard_rfm"
LIFECYCLE_MART = "mart_dashboard_lifecycle"
CLV_MART = "mart_dashboard_clv"
AT_RISK_MART = "mart_dashboard_at_risk"
#: ``store_id`` of chain-level rows.
CHAIN = "*"
LIFECYCLE_WEEKS = 26
CLV_BINS = 20
AT_RISK_ROWS = 50

SCHEMAS: dict[str, pa.Schema] = {
    RFM_MART: pa.schema(
        [
            ("store_id", pa.string()),
            ("segment", pa.string()),
            ("r_score", pa.int64()),
            ("f_score", pa.int64()),
            ("customers", pa.int64()),
            ("monetary_fen", pa.int64()),
        ]
    ),
    LIFECYCLE_MART: pa.schema(
        [
            ("store_id", pa.string()),
            ("period", pa.date32()),
            ("status", pa.string()),
            ("customers", pa.int64()),
        ]
    ),
    CLV_MART: pa.schema(
        [
            ("store_id", pa.string()),
            ("bin", pa.int64()),
            ("low_fen", pa.float64()),
            ("high_fen", pa.float64()),
            ("customers", pa.int64()),
        ]
    ),
    AT_RISK_MART: pa.schema(
        [
            ("store_id", pa.string()),
            ("customer_id", pa.string()),
            ("p_alive", pa.float64()),
            ("spend_fen", pa.int64()),
            ("orders", pa.int64()),
            ("last_day", pa.date32()),
            ("days_since_last", pa.int64()),
            ("expected_clv_fen", pa.float64()),
            ("churn_probability", pa.float64()),
            ("value_at_risk_fen", pa.float64()),
        ]
    ),
}


def _write(wh: Warehouse, name: str, frame: pd.DataFrame) -> int:
    return write_frame_mart(wh, name, frame, SCHEMAS[name])


def _store_ids(wh: Warehouse) -> list[str]:
    frame = wh.to_pandas(wh.table("stores").select("store_id").order_by("store_id"))
    return [str(s) for s in frame["store_id"]]


def rfm_cells(wh: Warehouse, as_of: date, stores: list[str]) -> pd.DataFrame:
    parts = []
    for scope in [None, *stores]:
        t = RfmInsight(wh, RfmQuery(as_of=as_of, store_id=scope)).to_expr()
        cells = t.group_by("segment", "r_score", "f_score").aggregate(
            customers=t.count(), monetary_fen=t.monetary_fen.sum()
        )
        parts.append(wh.to_pandas(cells).assign(store_id=scope or CHAIN))
    return pd.concat(parts, ignore_index=True)


def lifecycle_weeks(wh: Warehouse, as_of: date, stores: list[str]) -> pd.DataFrame:
    last_monday = as_of - timedelta(days=as_of.weekday())
    since = last_monday - timedelta(weeks=LIFECYCLE_WEEKS - 1)
    parts = []
    for scope in [None, *stores]:
        query = LifecycleQuery(period="week", since=since, until=as_of, store_id=scope)
        table = LifecycleInsight(wh, query).calculate().table
        parts.append(table.assign(store_id=scope or CHAIN))
    return pd.concat(parts, ignore_index=True)


def customer_stores(wh: Warehouse, as_of: date) -> pd.DataFrame:
    """Per customer: main store, orders, spend and last purchase day before ``as_of``."""
    p = purchases(wh, until=as_of)
    per = p.group_by("customer_id", "store_id").aggregate(
        n=p.count(), spend=p.total_fen.sum(), last=p.day.max()
    )
    frame = wh.to_pandas(per)
    totals = frame.groupby("customer_id").agg(
        orders=("n", "sum"), spend_fen=("spend", "sum"), last_day=("last", "max")
    )
    in_store = frame.dropna(subset=["store_id"]).sort_values(
        ["customer_id", "n", "store_id"], ascending=[True, False, True]
    )
    main = in_store.drop_duplicates("customer_id").set_index("customer_id")["store_id"]
    return totals.assign(main_store=main).reset_index()


def clv_histogram(scored: pd.DataFrame) -> pd.DataFrame:
    """Customers per CLV bin, for the chain and per main store, on shared bin edges
    (0 to the 99th percentile; the last bin also holds everything above)."""
    values = scored["expected_clv_fen"].astype(float).clip(lower=0)
    top = float(np.quantile(values, 0.99)) if len(values) else 0.0
    edges = np.linspace(0.0, max(top, 1.0), CLV_BINS + 1)
    index = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, CLV_BINS - 1)
    binned = scored.assign(bin=index)
    parts = [binned.assign(store_id=CHAIN), binned.dropna(subset=["main_store"])]
    parts[1] = parts[1].assign(store_id=parts[1]["main_store"])
    counts = pd.concat(parts).groupby(["store_id", "bin"]).size().rename("customers").reset_index()
    counts["low_fen"] = edges[counts["bin"]]
    counts["high_fen"] = edges[counts["bin"] + 1]
    return counts


def at_risk(scored: pd.DataFrame, as_of: date, churn: pd.DataFrame | None) -> pd.DataFrame:
    risky = scored[scored["p_alive"] < 0.5].copy()
    risky["value_at_risk_fen"] = risky["spend_fen"] * (1 - risky["p_alive"])
    risky["days_since_last"] = [(as_of - pd.Timestamp(d).date()).days for d in risky["last_day"]]
    if churn is not None and not churn.empty:
        risky = risky.merge(
            churn[["customer_id", "churn_probability"]], on="customer_id", how="left"
        )
    risky = risky.sort_values(["value_at_risk_fen", "customer_id"], ascending=[False, True])
    chain = risky.head(AT_RISK_ROWS).assign(store_id=CHAIN)
    stores = risky.dropna(subset=["main_store"])
    stores = stores.assign(store_id=stores["main_store"]).groupby("store_id").head(AT_RISK_ROWS)
    return pd.concat([chain, stores], ignore_index=True)


def build_customer_marts(ws: Workspace, wh: Warehouse) -> int:
    """All four customer marts; empty marts when nobody has bought yet."""
    try:
        as_of = default_as_of(wh)
    except ClvError:
        return sum(_write(wh, name, pd.DataFrame()) for name in SCHEMAS)
    stores = _store_ids(wh)
    rows = _write(wh, RFM_MART, rfm_cells(wh, as_of, stores))
    rows += _write(wh, LIFECYCLE_MART, lifecycle_weeks(wh, as_of, stores))
    try:
        fit_clv(wh, as_of=as_of)
    except ClvError:  # fewer than ten buyers: no model, no distribution
        rows += _write(wh, CLV_MART, pd.DataFrame())
        return rows + _write(wh, AT_RISK_MART, pd.DataFrame())
    scores = wh.to_pandas(wh.mart(SCORES_MART))
    scored = scores.merge(customer_stores(wh, as_of), on="customer_id", how="inner")
    churn = wh.to_pandas(wh.mart(CHURN_MART)) if CHURN_MART in wh.con.list_tables() else None
    rows += _write(wh, CLV_MART, clv_histogram(scored))
    rows += _write(wh, AT_RISK_MART, at_risk(scored, as_of, churn))
    return rows
