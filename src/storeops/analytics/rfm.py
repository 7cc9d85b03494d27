"""RFM: recency, frequency and monetary scores, and the segments built on them.

Scores run 1–5 by quantile over the customers in the window: a customer's score
is ``1 + floor(5 * percent_rank)`` (capped at 5), so tied values share a score and
the result does not depend on row order. Recency is scored in reverse (the most
recent buyers get 5).

Two segmentations are computed from the scores:

- the four **operating segments** of Chinese retail plans — ``vip`` (高价值),
  ``potential`` (潜力), ``dormant`` (沉睡) and ``new`` (新客), decided in that
  precedence: new, dormant, vip, potential;
- the eleven classic **named segments** (Champions … Lost) from the recency
  score and the mean of the frequency and monetary scores.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd
from pydantic import BaseModel, Field, model_validator

from storeops.analytics.purchases import purchases
from storeops.errors import StoreOpsError
from storeops.warehouse import Warehouse

OPERATING_SEGMENTS = ("vip", "potential", "dormant", "new")
OPERATING_LABELS = {
    "vip": ("高价值", "High-value VIP"),
    "potential": ("潜力", "Potential"),
    "dormant": ("沉睡", "Dormant"),
    "new": ("新客", "New"),
}

#: (segment, recency scores, mean FM score range [low, high]) — first match wins.
NAMED_SEGMENTS: tuple[tuple[str, tuple[int, ...], tuple[float, float]], ...] = (
    ("Champions", (5,), (4.0, 5.0)),
    ("Loyal Customers", (3, 4), (4.0, 5.0)),
    ("Potential Loyalists", (4, 5), (2.5, 4.0)),
    ("New Customers", (5,), (1.0, 1.5)),
    ("Promising", (4, 5), (1.0, 2.5)),
    ("Need Attention", (3,), (2.5, 4.0)),
    ("About To Sleep", (3,), (1.0, 2.5)),
    ("Cannot Lose Them", (1,), (4.0, 5.0)),
    ("At Risk", (1, 2), (2.5, 5.0)),
    ("Hibernating", (2,), (1.0, 2.5)),
    ("Lost", (1,), (1.0, 2.5)),
)


class RfmError(StoreOpsError, ValueError):
    """The RFM query cannot be answered as asked."""


class RfmQuery(BaseModel):
    """What to score: the window, the store, the segment rules."""

    as_of: date = Field(description="First day after the window (exclusive end).")
    window_days: int | None = Field(
        default=365, ge=1, description="Length of the window in days; None = all history."
    )
    store_id: str | None = Field(default=None, description="Only purchases in this store.")
    new_days: int = Field(
        default=30, ge=1, description="First purchase within this many days = new."
    )
    dormant_days: int = Field(
        default=180, ge=1, description="No purchase for this many days = dormant."
    )
    vip_min_score: int = Field(default=4, ge=1, le=5, description="F and M scores for VIP.")

    @model_validator(mode="after")
    def _dormant_after_new(self) -> RfmQuery:
        if self.dormant_days <= self.new_days:
            raise ValueError("dormant_days must be larger than new_days")
        return self


def _score(col: ir.NumericColumn, *, reverse: bool = False) -> ir.IntegerValue:
    order = col.desc() if reverse else col.asc()
    rank = ibis.percent_rank().over(order_by=order)
    return ibis.least((rank * 5).floor().cast("int64") + 1, 5)


@dataclass
class RfmResult:
    customers: pd.DataFrame
    segments: pd.DataFrame
    top_decile_revenue_share: float
    query: RfmQuery

    def to_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.query.as_of.isoformat(),
            "window_days": self.query.window_days,
            "store_id": self.query.store_id,
            "customers": len(self.customers),
            "top_decile_revenue_share": round(self.top_decile_revenue_share, 4),
            "segments": self.segments.to_dict(orient="records"),
        }


class RfmInsight:
    """RFM scores and segments per customer (``to_expr``) and their summary (``calculate``)."""

    def __init__(self, wh: Warehouse, query: RfmQuery) -> None:
        self.wh = wh
        self.query = query

    def to_expr(self) -> ir.Table:
        q = self.query
        since = q.as_of - timedelta(days=q.window_days) if q.window_days else None
        p = purchases(self.wh, since=since, until=q.as_of, store_id=q.store_id)
        per_customer = p.group_by("customer_id").aggregate(
            # One purchase row per order (order_id is the natural key), so count() counts orders.
            frequency=p.count(),
            monetary_fen=p.total_fen.sum(),
            first_day=p.day.min(),
            last_day=p.day.max(),
        )
        # Recency in whole days from the last purchase day to the day before as_of.
        as_of = ibis.literal(q.as_of)
        t = per_customer.mutate(
            recency_days=as_of.delta(per_customer.last_day, unit="day") - 1,
            tenure_days=as_of.delta(per_customer.first_day, unit="day") - 1,
        )
        t = t.mutate(
            r_score=_score(t.recency_days, reverse=True),
            f_score=_score(t.frequency),
            m_score=_score(t.monetary_fen),
        )
        fm = (t.f_score + t.m_score).cast("float64") / 2
        operating = ibis.cases(
            *[
                ((t.tenure_days < q.new_days) & (t.frequency == 1), "new"),
                (t.recency_days >= q.dormant_days, "dormant"),
                ((t.f_score >= q.vip_min_score) & (t.m_score >= q.vip_min_score), "vip"),
            ],
            else_="potential",
        )
        named = ibis.cases(
            *[
                (t.r_score.isin(list(r)) & (fm >= lo) & (fm <= hi), name)
                for name, r, (lo, hi) in NAMED_SEGMENTS
            ],
            else_="Other",
        )
        return t.mutate(segment=operating, named_segment=named)

    def calculate(self) -> RfmResult:
        frame = self.wh.to_pandas(self.to_expr().order_by("customer_id"))
        if frame.empty:
            raise RfmError(
                f"no purchases by known customers before {self.query.as_of}"
                + (f" in store {self.query.store_id}" if self.query.store_id else "")
                + ": import orders with customer_id first (storeops import orders FILE)."
            )
        frame["monetary_fen"] = frame["monetary_fen"].astype("int64")
        total_revenue = float(frame["monetary_fen"].sum())
        segments = (
            frame.groupby("segment")
            .agg(customers=("customer_id", "size"), revenue_fen=("monetary_fen", "sum"))
            .reindex(list(OPERATING_SEGMENTS), fill_value=0)
            .reset_index()
        )
        segments["customer_share"] = segments["customers"] / len(frame)
        segments["revenue_share"] = (
            segments["revenue_fen"] / total_revenue if total_revenue else 0.0
        )
        segments["label_zh"] = segments["segment"].map(lambda s: OPERATING_LABELS[s][0])
        segments["label_en"] = segments["segment"].map(lambda s: OPERATING_LABELS[s][1])
        top_n = max(1, round(len(frame) * 0.1))
        top = frame["monetary_fen"].nlargest(top_n).sum()
        share = float(top / total_revenue) if total_revenue else 0.0
        return RfmResult(frame, segments, share, self.query)
