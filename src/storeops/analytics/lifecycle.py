"""Lifecycle: how the active customers of each period came to be active.

For each period (day, week or month, in store-local days) every customer who
bought in it is exactly one of:

- ``new`` — their first purchase ever falls in this period;
- ``returning`` — they also bought in the previous period;
- ``resurrecting`` — they bought before, but not in the previous period;

and every customer who bought in the previous period but not in this one is
``dormant`` in this period. Periods are calendar periods: weeks start on Monday.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

import ibis
import ibis.expr.types as ir
import pandas as pd
from pydantic import BaseModel, Field, model_validator

from storeops.analytics.purchases import purchases
from storeops.warehouse import Warehouse

Period = Literal["day", "week", "month"]
STATUSES = ("new", "returning", "resurrecting", "dormant")
_UNIT = {"day": "D", "week": "W", "month": "M"}


class LifecycleQuery(BaseModel):
    period: Period = "week"
    since: date = Field(description="First local day shown (inclusive).")
    until: date = Field(description="Last local day shown (exclusive).")
    store_id: str | None = None

    @model_validator(mode="after")
    def _ordered(self) -> LifecycleQuery:
        if self.until <= self.since:
            raise ValueError("until must be after since")
        return self


def _step(period: Period) -> ir.IntervalScalar:
    return {
        "day": ibis.interval(days=1),
        "week": ibis.interval(days=7),
        "month": ibis.interval(months=1),
    }[period]


@dataclass
class LifecycleResult:
    table: pd.DataFrame  # period, status, customers
    query: LifecycleQuery

    def chart_data(self) -> dict[str, Any]:
        """Series per status for a stacked bar chart (dormant plotted negative)."""
        pivot = (
            self.table.pivot_table(
                index="period", columns="status", values="customers", aggfunc="sum"
            )
            .reindex(columns=list(STATUSES), fill_value=0)
            .fillna(0)
            .astype(int)
        )
        return {
            "periods": [p.isoformat() for p in pivot.index],
            "series": {
                s: [(-v if s == "dormant" else v) for v in pivot[s].tolist()] for s in STATUSES
            },
        }


class LifecycleInsight:
    def __init__(self, wh: Warehouse, query: LifecycleQuery) -> None:
        self.wh = wh
        self.query = query

    def to_expr(self) -> ir.Table:
        q = self.query
        step = _step(q.period)
        # All history up to `until` is needed to tell new from resurrecting.
        p = purchases(self.wh, until=q.until, store_id=q.store_id)
        active = p.select(
            "customer_id", period=p.day.truncate(_UNIT[q.period]).cast("date")
        ).distinct()
        w = ibis.window(group_by=active.customer_id, order_by=active.period)
        a = active.mutate(
            first=active.period.min().over(ibis.window(group_by=active.customer_id)),
            prev=active.period.lag().over(w),
            next=active.period.lead().over(w),
        )
        status = ibis.cases(
            (a.period == a.first, "new"),
            (a.prev.notnull() & (a.prev + step == a.period), "returning"),
            else_="resurrecting",
        )
        active_rows = a.select("customer_id", "period", status=status)
        dormant_rows = a.filter(a.next.isnull() | (a.next != a.period + step)).select(
            "customer_id", period=(a.period + step).cast("date"), status=ibis.literal("dormant")
        )
        rows = active_rows.union(dormant_rows)
        rows = rows.filter((rows.period >= q.since) & (rows.period < q.until))
        return (
            rows.group_by("period", "status")
            .aggregate(customers=rows.customer_id.count())
            .order_by("period", "status")
        )

    def calculate(self) -> LifecycleResult:
        table = self.wh.to_pandas(self.to_expr())
        table["period"] = pd.to_datetime(table["period"]).dt.date
        table["customers"] = table["customers"].astype(int)
        return LifecycleResult(table, self.query)
