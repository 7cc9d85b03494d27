"""The churn mart: features at cut-offs, labels after them, out-of-time validation,
and today's churn risk with a win-back (唤醒) list of valuable customers at risk.

Time split, with ``H`` the horizon and ``end`` the day after the last purchase:

- train: features as of ``end - 2H``, label = no purchase in ``[end - 2H, end - H)``;
- test: features as of ``end - H``, label = no purchase in ``[end - H, end)``;
- score: a model refitted on the test cut-off predicts churn after ``end``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa

from storeops.analytics.clv_summary import clv_summary_expr
from storeops.analytics.profiles import profiles_expr
from storeops.analytics.purchases import purchases
from storeops.marts.clv_scores import ClvError, default_as_of
from storeops.models.churn import ChurnModel, ChurnReport
from storeops.models.clv import BetaGeoModel
from storeops.warehouse import Warehouse

CHURN_MART = "mart_churn_scores"


def features(wh: Warehouse, as_of: date, horizon_days: int = 90) -> pd.DataFrame:
    """Profile features plus BG/NBD P(alive) and expected purchases over the horizon."""
    prof = wh.to_pandas(profiles_expr(wh, as_of=as_of))
    summary = wh.to_pandas(clv_summary_expr(wh, as_of=as_of))
    model = BetaGeoModel().fit(summary)
    summary["p_alive"] = model.expected_probability_alive(
        summary["frequency"], summary["recency"], summary["T"]
    )
    summary["expected_purchases"] = model.expected_purchases(
        horizon_days, summary["frequency"], summary["recency"], summary["T"]
    )
    frame = prof.merge(
        summary[["customer_id", "p_alive", "expected_purchases", "T"]], on="customer_id"
    )
    frame["tenure_days"] = frame["T"]
    return frame.drop(columns="T")


def labels(wh: Warehouse, since: date, until: date) -> pd.Series:
    """Customers who bought in ``[since, until)``."""
    p = purchases(wh, since=since, until=until)
    return wh.to_pandas(p.select("customer_id").distinct())["customer_id"]


def _labelled(wh: Warehouse, cutoff: date, horizon: int) -> pd.DataFrame:
    frame = features(wh, cutoff, horizon)
    bought = set(labels(wh, cutoff, cutoff + timedelta(days=horizon)))
    frame["churned"] = (~frame["customer_id"].isin(bought)).astype(int)
    return frame


@dataclass
class ChurnRun:
    report: ChurnReport
    scores: pd.DataFrame  # customer_id, churn_probability, p_alive, spend_fen, win_back


def run_churn(
    wh: Warehouse, *, horizon_days: int = 90, end: date | None = None, value_quantile: float = 0.8
) -> ChurnRun:
    end = end or default_as_of(wh)
    first = wh.execute(purchases(wh).day.min())
    if first is None or pd.Timestamp(first).date() > end - timedelta(days=3 * horizon_days):
        raise ClvError(
            f"churn validation needs at least {3 * horizon_days} days of purchases "
            f"(three horizons); use a shorter --horizon or import more history"
        )
    train = _labelled(wh, end - timedelta(days=2 * horizon_days), horizon_days)
    test = _labelled(wh, end - timedelta(days=horizon_days), horizon_days)
    report = ChurnModel().fit(train).evaluate(len(train), test)

    current = features(wh, end, horizon_days)
    model = ChurnModel().fit(test)
    current["churn_probability"] = model.expected_churn_probability(current)
    threshold = float(np.quantile(current["spend_fen"], value_quantile))
    current["win_back"] = (current["churn_probability"] >= 0.5) & (
        current["spend_fen"] >= threshold
    )
    scores = current[
        [
            "customer_id",
            "churn_probability",
            "p_alive",
            "spend_fen",
            "days_since_last_purchase",
            "win_back",
        ]
    ].sort_values("churn_probability", ascending=False, kind="stable")
    scores = scores.assign(as_of=end)
    wh.write_mart(CHURN_MART, pa.Table.from_pandas(scores, preserve_index=False))
    return ChurnRun(report, scores)
