"""Customer 360 profiles: one row per customer, built from orders, lines and community.

Columns (money in fen, days are store-local):
``customer_id, first_purchase_day, last_purchase_day, orders, spend_fen, atv_fen,
channels`` (comma-separated, sorted), ``channel_count, favourite_store, favourite_category,
coupon_orders, coupon_share, community_groups, community_messages,
days_since_last_purchase`` (as of the profile date).
"""

from __future__ import annotations

from datetime import date

import ibis
import ibis.expr.types as ir

from storeops.analytics.purchases import apply_customer_map, purchases
from storeops.warehouse import Warehouse

PROFILES_MART = "mart_customer_profiles"


def _favourite(t: ir.Table, key: str, weight: ir.Value, name: str) -> ir.Table:
    """Per customer, the ``key`` with the largest ``weight`` (ties: smallest key)."""
    scored = t.group_by("customer_id", key).aggregate(_w=weight)
    rank = ibis.row_number().over(
        group_by=scored.customer_id, order_by=[scored._w.desc(), scored[key].asc()]
    )
    top = scored.mutate(_rank=rank)
    return top.filter(top._rank == 0).select("customer_id", **{name: top[key]})


def profiles_expr(wh: Warehouse, *, as_of: date) -> ir.Table:
    p = purchases(wh, until=as_of)
    base = p.group_by("customer_id").aggregate(
        first_purchase_day=p.day.min(),
        last_purchase_day=p.day.max(),
        orders=p.count(),
        spend_fen=p.total_fen.sum(),
        coupon_orders=p.coupon_code.notnull().sum(),
        channels=p.channel.collect(distinct=True).sort().join(","),
        channel_count=p.channel.nunique(),
    )
    base = base.mutate(
        atv_fen=(base.spend_fen / base.orders).round().cast("int64"),
        coupon_share=base.coupon_orders.cast("float64") / base.orders,
        days_since_last_purchase=ibis.literal(as_of).delta(base.last_purchase_day, unit="day") - 1,
    )
    in_store = p.filter(p.store_id.notnull())
    fav_store = _favourite(in_store, "store_id", in_store.order_id.nunique(), "favourite_store")
    lines = wh.table("order_lines")
    products = wh.table("products").select("sku", "category")
    pl = p.select("order_id", "customer_id").join(lines, "order_id").join(products, "sku")
    pl = pl.filter(pl.category.notnull())
    fav_cat = _favourite(pl, "category", pl.amount_fen.sum(), "favourite_category")

    members = apply_customer_map(wh, wh.table("community_members"))
    groups = members.group_by("customer_id").aggregate(community_groups=members.group_id.nunique())
    msgs = wh.table("community_messages")
    msgs = apply_customer_map(wh, msgs.filter(msgs.customer_id.notnull() & (msgs.ts < as_of)))
    messages = msgs.group_by("customer_id").aggregate(community_messages=msgs.count())

    out = base
    for extra in (fav_store, fav_cat, groups, messages):
        out = out.left_join(extra, "customer_id").drop("customer_id_right")
    return out.mutate(
        community_groups=out.community_groups.coalesce(0),
        community_messages=out.community_messages.coalesce(0),
    ).order_by("customer_id")
