"""Purchases: the base relation of the customer analytics.

A purchase is an order that counts as a sale to a known customer — status
``completed`` or ``partially_refunded`` (a fully refunded or cancelled order is
not a purchase) — with its time in the store's local wall clock and its local
business ``day``. Online orders without a store use the workspace's default
time zone.
"""

from __future__ import annotations

from datetime import date

import ibis
import ibis.expr.types as ir

from storeops.warehouse import Warehouse

PURCHASE_STATUSES = ("completed", "partially_refunded")
CUSTOMER_MAP_MART = "mart_customer_map"


def apply_customer_map(wh: Warehouse, facts: ir.Table, column: str = "customer_id") -> ir.Table:
    """Replace source customer ids by resolved ones where identity resolution ran.

    Facts keep the id their source recorded; ``mart_customer_map`` (written by
    ``storeops customers resolve``) says which customer each belongs to now, so
    merges and unmerges apply to all history at read time.
    """
    if CUSTOMER_MAP_MART not in wh.con.list_tables():
        return facts
    m = wh.mart(CUSTOMER_MAP_MART).select(_rec="record_id", _cust="customer_id")
    joined = facts.left_join(m, facts[column] == m._rec)
    return joined.mutate(**{column: joined._cust.coalesce(joined[column])}).drop("_rec", "_cust")


def purchases(
    wh: Warehouse,
    *,
    until: date | None = None,
    since: date | None = None,
    store_id: str | None = None,
) -> ir.Table:
    """Purchases by known customers with ``local_ts`` and ``day`` columns.

    ``since`` / ``until`` bound the local day (inclusive / exclusive).
    """
    orders = wh.table("orders")
    stores = wh.table("stores").select("store_id", store_tz="timezone")
    o = orders.filter(orders.status.isin(PURCHASE_STATUSES), orders.customer_id.notnull())
    if store_id is not None:
        o = o.filter(o.store_id == store_id)
    o = o.left_join(stores, o.store_id == stores.store_id).drop("store_id_right")
    tz = o.store_tz.coalesce(ibis.literal(wh.settings.default_timezone))
    local_ts = wh.local_time(o.ts, tz)
    o = o.mutate(local_ts=local_ts, day=local_ts.date()).drop("store_tz")
    o = apply_customer_map(wh, o)
    if since is not None:
        o = o.filter(o.day >= since)
    if until is not None:
        o = o.filter(o.day < until)
    return o
