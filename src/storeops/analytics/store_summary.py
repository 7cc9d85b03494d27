"""Store performance summary: entries, transactions, conversion, ATV, repeat purchase.

Per store, over an optional range of local business days (``date_from`` …
``date_to``, both inclusive, in each store's own time zone):

- **entries** (客流) — sum of ``traffic_counts.ins``;
- **transactions** — store-channel orders that count as sales: status
  ``completed`` or ``partially_refunded`` (a cancelled or fully refunded order is
  no sale, as in :mod:`storeops.analytics.purchases`);
- **conversion** (成交转化率) = transactions / entries;
- **ATV** (客单价) = sales_fen / transactions, where sales_fen is the sum of those
  orders' ``total_fen`` (paid after discounts, before later refunds);
- **repeat-purchase rate** (复购率) = customers with at least two such orders at the
  store in the range / customers with at least one (anonymous sales excluded).

A store without counters has no entries and no conversion (NULL, never 0).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

import ibis
import ibis.expr.types as ir
from pydantic import BaseModel, Field, model_validator

from storeops.analytics.values import float_or_none, int_or_none
from storeops.errors import StoreOpsError
from storeops.warehouse import Warehouse

#: Order statuses that count as a transaction.
SALE_STATUSES = ("completed", "partially_refunded")
SALES_CHANNEL = "store"


def sale_orders(wh: Warehouse) -> ir.Table:
    """Orders that count as transactions: store channel, a sale status and a store.

    The one definition shared by the store summary and store performance
    (:mod:`storeops.analytics.performance`).
    """
    o = wh.table("orders")
    return o.filter(
        (o.channel == SALES_CHANNEL) & o.status.isin(SALE_STATUSES) & o.store_id.notnull()
    )


class StoreSummaryError(StoreOpsError, ValueError):
    """The store summary cannot be computed as asked."""


class StoreSummaryQuery(BaseModel):
    """Which days and stores to summarise."""

    date_from: date | None = Field(default=None, description="First local day (inclusive).")
    date_to: date | None = Field(default=None, description="Last local day (inclusive).")
    store_ids: tuple[str, ...] | None = Field(default=None, description="Only these stores.")

    @model_validator(mode="after")
    def _ordered(self) -> StoreSummaryQuery:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError(
                f"date_from {self.date_from} is after date_to {self.date_to}; swap them"
            )
        return self


@dataclass(frozen=True)
class StoreSummaryRow:
    store_id: str
    name: str
    entries: int | None
    transactions: int
    sales_fen: int
    conversion: float | None
    atv_fen: float | None
    customers: int
    repeat_customers: int
    repeat_purchase_rate: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class StoreSummary:
    """The store-performance table as one Ibis expression (``to_expr``) and rows."""

    def __init__(self, wh: Warehouse, query: StoreSummaryQuery | None = None) -> None:
        self.wh = wh
        self.query = query or StoreSummaryQuery()

    def _in_range(self, day: ir.DateValue) -> ir.BooleanValue:
        q = self.query
        cond: ir.BooleanValue = ibis.literal(True)
        if q.date_from is not None:
            cond = cond & (day >= q.date_from)
        if q.date_to is not None:
            cond = cond & (day <= q.date_to)
        return cond

    def _local_day(self, ts: ir.TimestampValue, tz: ir.StringValue) -> ir.DateValue:
        return self.wh.local_time(ts, tz).date()

    def to_expr(self) -> ir.Table:
        wh = self.wh
        stores = wh.table("stores").select("store_id", "name", "timezone")
        if self.query.store_ids is not None:
            stores = stores.filter(stores.store_id.isin(self.query.store_ids))
        zones = stores.select(s_id="store_id", tz="timezone")

        tc = wh.table("traffic_counts")
        tc = tc.join(zones, tc.store_id == zones.s_id)
        tc = tc.filter(self._in_range(self._local_day(tc.interval_start, tc.tz)))
        entries = tc.group_by(t_id=tc.store_id).aggregate(entries=tc.ins.sum())

        o = sale_orders(wh)
        o = o.join(zones, o.store_id == zones.s_id)
        o = o.filter(self._in_range(self._local_day(o.ts, o.tz)))
        sales = o.group_by(o_id=o.store_id).aggregate(
            transactions=o.order_id.count(), sales_fen=o.total_fen.sum()
        )
        known = o.filter(o.customer_id.notnull())
        per_customer = known.group_by(["store_id", "customer_id"]).aggregate(n=known.count())
        repeat = per_customer.group_by(r_id=per_customer.store_id).aggregate(
            customers=per_customer.count(),
            repeat_customers=(per_customer.n >= 2).cast("int64").sum(),
        )

        t = stores.left_join(entries, stores.store_id == entries.t_id)
        t = t.left_join(sales, t.store_id == sales.o_id)
        t = t.left_join(repeat, t.store_id == repeat.r_id)
        transactions = t.transactions.fill_null(0)
        sales_fen = t.sales_fen.fill_null(0)
        customers = t.customers.fill_null(0)
        repeat_customers = t.repeat_customers.fill_null(0)
        return t.select(
            store_id=t.store_id,
            name=t.name,
            entries=t.entries,
            transactions=transactions,
            sales_fen=sales_fen,
            conversion=transactions.cast("float64") / t.entries.nullif(0).cast("float64"),
            atv_fen=sales_fen.cast("float64") / transactions.nullif(0).cast("float64"),
            customers=customers,
            repeat_customers=repeat_customers,
            repeat_purchase_rate=repeat_customers.cast("float64")
            / customers.nullif(0).cast("float64"),
        ).order_by("store_id")

    def calculate(self) -> list[StoreSummaryRow]:
        df = self.wh.execute(self.to_expr())
        rows = []
        for rec in df.to_dict(orient="records"):
            rows.append(
                StoreSummaryRow(
                    store_id=str(rec["store_id"]),
                    name=str(rec["name"]),
                    entries=int_or_none(rec["entries"]),
                    transactions=int(rec["transactions"]),
                    sales_fen=int(rec["sales_fen"]),
                    conversion=float_or_none(rec["conversion"]),
                    atv_fen=float_or_none(rec["atv_fen"]),
                    customers=int(rec["customers"]),
                    repeat_customers=int(rec["repeat_customers"]),
                    repeat_purchase_rate=float_or_none(rec["repeat_purchase_rate"]),
                )
            )
        return rows


def store_summary(
    wh: Warehouse, *, date_from: date | None = None, date_to: date | None = None
) -> list[StoreSummaryRow]:
    """Shortcut: the summary rows for all stores over the given local days."""
    return StoreSummary(wh, StoreSummaryQuery(date_from=date_from, date_to=date_to)).calculate()
