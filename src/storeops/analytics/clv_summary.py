"""The per-customer summary that BG/NBD and Gamma-Gamma fit on, from purchases.

Time is counted in local business days, purchases are collapsed per day (two
orders on one day are one purchase occasion, as in Fader, Hardie & Lee's data):

- ``frequency``: purchase days after the first one (repeat purchases);
- ``recency``: days from the first to the last purchase day;
- ``T``: days from the first purchase day to the last day of the calibration period;
- ``monetary_value``: mean spend per repeat purchase day, in fen (0 without repeats).
"""

from __future__ import annotations

from datetime import date, timedelta

import ibis
import ibis.expr.types as ir

from storeops.analytics.purchases import purchases
from storeops.warehouse import Warehouse


def clv_summary_expr(
    wh: Warehouse, *, as_of: date, store_id: str | None = None, since: date | None = None
) -> ir.Table:
    """Summary of purchases before ``as_of`` (exclusive), one row per customer."""
    p = purchases(wh, until=as_of, since=since, store_id=store_id)
    daily = p.group_by("customer_id", "day").aggregate(spend=p.total_fen.sum())
    per = daily.group_by("customer_id").aggregate(
        first_day=daily.day.min(),
        last_day=daily.day.max(),
        days=daily.count(),
        repeat_spend=daily.spend.sum() - daily.spend.argmin(daily.day),
    )
    end = ibis.literal(as_of - timedelta(days=1))
    frequency = per.days - 1
    return per.select(
        "customer_id",
        frequency=frequency,
        recency=per.last_day.delta(per.first_day, unit="day").cast("float64"),
        T=end.delta(per.first_day, unit="day").cast("float64"),
        monetary_value=ibis.cases(
            (frequency > 0, per.repeat_spend.cast("float64") / frequency), else_=0.0
        ),
    )
