"""The per-customer summary that BG/NBD and Gamma-Gamma fit on, from purchases.

Time is counted in local business days. A purchase *occasion* is by default a
day with purchases (two orders on one day are one occasion, the usual retail
convention and that of Fader, Hardie & Lee's data); ``occasion="order"`` counts
every order, which matches a continuous-time purchase process such as the demo
simulator's.

- ``frequency``: occasions after the first one (repeat purchases);
- ``recency``: days from the first to the last purchase day;
- ``T``: days from the first purchase day to the last day of the calibration period;
- ``monetary_value``: mean spend per repeat occasion, in fen (0 without repeats).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

import ibis
import ibis.expr.types as ir

from storeops.analytics.purchases import purchases
from storeops.warehouse import Warehouse

Occasion = Literal["day", "order"]


def clv_summary_expr(
    wh: Warehouse,
    *,
    as_of: date,
    store_id: str | None = None,
    since: date | None = None,
    occasion: Occasion = "day",
) -> ir.Table:
    """Summary of purchases before ``as_of`` (exclusive), one row per customer."""
    p = purchases(wh, until=as_of, since=since, store_id=store_id)
    if occasion == "day":
        occ = p.group_by("customer_id", "day").aggregate(
            at=p.local_ts.min(), spend=p.total_fen.sum()
        )
    else:
        occ = p.select("customer_id", "day", at=p.local_ts, spend=p.total_fen)
    per = occ.group_by("customer_id").aggregate(
        first_day=occ.day.min(),
        last_day=occ.day.max(),
        days=occ.count(),
        repeat_spend=occ.spend.sum() - occ.spend.argmin(occ.at),
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
