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
    if since is not None:
        o = o.filter(o.day >= since)
    if until is not None:
        o = o.filter(o.day < until)
    return o
