"""Orders, order lines and refunds from every channel.

Where each order comes from:

- **members** buy at the times the BG/NBD process gives them (see ``customers``);
- **anonymous store sales**: each store-day converts ``Binomial(entries, conversion)``
  visitors; whatever the members did not account for is an anonymous sale;
- **online guests** (buyers not linked to a member) on the mini-program and Taobao
  follow the online weekday curve and the festival lifts (618, Double 11).

Every order's spend is drawn from the Gamma-Gamma model, then filled with catalogue
items: line amounts always add up to the order total, in fen.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from storeops.demo._util import categorical, day_number, fmt_ids, rng_for, split_int
from storeops.demo.calendar import (
    PROMO_CONVERSION_LIFT,
    PROMO_COUPON,
    PROMO_DISCOUNT_FEN,
    PROMO_REDEMPTION,
    PROMO_SPEND_LIFT,
    PROMO_THRESHOLD_FEN,
    WEEKDAY_ONLINE,
    Calendar,
    online_hour_shares,
    store_hour_shares,
)
from storeops.demo.config import DemoConfig
from storeops.demo.customers import CHANNELS, GAMMA_GAMMA, Customers
from storeops.demo.products import N_PAIRS, PAIR_ORDER_SHARE, Catalogue
from storeops.demo.stores import StoreProfile

#: Guest (non-member) online orders per day for a 6-store merchant, by channel.
GUEST_ORDERS_PER_DAY = {"mini_program": 5.0, "taobao": 9.0}
ONLINE_CANCEL_RATE = 0.02
REFUND_RATE = 0.03
FULL_REFUND_SHARE = 2 / 3
REFUND_REASONS = ("size", "quality", "changed_mind", "late_delivery")
_PAYMENTS_STORE = (
    ("wechat_pay", 0.55),
    ("alipay", 0.30),
    ("bank_card", 0.07),
    ("cash", 0.04),
    ("stored_value", 0.04),
)
_PAYMENT_ONLINE = {"mini_program": "wechat_pay", "taobao": "alipay", "community": "wechat_pay"}
_ID_PREFIX = {"store": "PO", "mini_program": "MP", "taobao": "TB", "community": "CG"}


@dataclass
class Sales:
    orders: pa.Table
    lines: pa.Table
    refunds: pa.Table
    # Per order (aligned with ``orders``) for the truth and other generators.
    channel: np.ndarray
    store: np.ndarray
    customer: np.ndarray
    day: np.ndarray
    total_fen: np.ndarray
    status: np.ndarray
    promo: np.ndarray
    # Per line (aligned with ``lines``).
    line_order: np.ndarray
    line_sku: np.ndarray
    line_qty: np.ndarray


def simulate_sales(
    cfg: DemoConfig,
    cal: Calendar,
    stores: list[StoreProfile],
    entries: np.ndarray,
    customers: Customers,
    catalogue: Catalogue,
) -> Sales:
    """``entries`` is (stores, days): counted entries per store-day."""
    rng = rng_for(cfg.seed, 4)
    n_stores, n_days = entries.shape
    day0 = day_number(cfg.start_date)

    # 1. Member purchases (BG/NBD).
    m_day = np.floor(customers.purchase_time).astype(np.int64)
    m_channel = customers.purchase_channel
    m_store = customers.purchase_store
    m_local = customers.purchase_local
    m_customer = customers.purchase_customer

    # 2. Anonymous store sales fill each store-day up to its conversion draw.
    conv = (
        np.array([s.conversion_rate for s in stores])[:, None]
        * np.where(cal.promo, PROMO_CONVERSION_LIFT, 1.0)[None, :]
    )
    transactions = rng.binomial(entries, np.minimum(conv, 1.0))
    is_member_store = m_channel == 0
    member_sd = np.zeros((n_stores, n_days), dtype=np.int64)
    np.add.at(member_sd, (m_store[is_member_store], m_day[is_member_store]), 1)
    anon_sd = np.maximum(transactions - member_sd, 0)
    a_store = np.repeat(np.repeat(np.arange(n_stores), n_days), anon_sd.ravel())
    a_day = np.repeat(np.tile(np.arange(n_days), n_stores), anon_sd.ravel())
    hours = cfg.open_hour + categorical(
        rng, store_hour_shares(cfg.open_hour, cfg.close_hour), len(a_day)
    )
    a_local = (day0 + a_day) * 86_400 + hours * 3600 + rng.integers(0, 3600, len(a_day))

    # 3. Online guests.
    g_parts = []
    scale = n_stores / 6.0
    for name, per_day in GUEST_ORDERS_PER_DAY.items():
        lam = per_day * scale * np.asarray(WEEKDAY_ONLINE)[cal.weekday] * cal.online_lift
        counts = rng.poisson(lam)
        d = np.repeat(np.arange(n_days), counts)
        h = categorical(rng, online_hour_shares(), len(d))
        g_parts.append(
            (
                np.full(len(d), CHANNELS.index(name)),
                d,
                (day0 + d) * 86_400 + h * 3600 + rng.integers(0, 3600, len(d)),
            )
        )

    channel = np.concatenate([m_channel, np.zeros(len(a_day), np.int64)] + [g[0] for g in g_parts])
    store = np.concatenate([m_store, a_store] + [np.full(len(g[1]), -1) for g in g_parts])
    customer = np.concatenate(
        [m_customer, np.full(len(a_day), -1)] + [np.full(len(g[1]), -1) for g in g_parts]
    )
    day = np.concatenate([m_day, a_day] + [g[1] for g in g_parts])
    local = np.concatenate([m_local, a_local] + [g[2] for g in g_parts])
    order = np.lexsort((channel, store, local))
    channel, store, customer, day, local = (
        channel[order],
        store[order],
        customer[order],
        day[order],
        local[order],
    )
    n = len(channel)

    # Spend: members keep their own mean-spend rate, others draw one from the population.
    gg = GAMMA_GAMMA
    nu = np.where(
        customer >= 0, customers.nu[np.maximum(customer, 0)], rng.gamma(gg["q"], 1.0 / gg["v"], n)
    )
    promo = cal.promo[day]
    spend = rng.gamma(gg["p"], 1.0, n) / nu * np.where(promo, PROMO_SPEND_LIFT, 1.0)
    spend_fen = np.maximum(np.round(spend * 100).astype(np.int64), 1_000)

    lines = _fill_baskets(rng, spend_fen, catalogue)
    l_order, l_sku, l_qty, l_gross, l_order_gross = lines

    coupon = promo & (l_order_gross >= PROMO_THRESHOLD_FEN) & (rng.random(n) < PROMO_REDEMPTION)
    total = np.maximum(spend_fen - np.where(coupon, PROMO_DISCOUNT_FEN, 0), 0)
    discount = l_order_gross - total
    l_discount = split_int(discount, l_gross.astype(float), l_order)
    l_amount = l_gross - l_discount

    # Payments and statuses.
    pay_names = np.array([p for p, _ in _PAYMENTS_STORE])
    payment = pay_names[categorical(rng, np.array([w for _, w in _PAYMENTS_STORE]), n)]
    payment[(customer < 0) & (payment == "stored_value")] = "wechat_pay"
    for name, method in _PAYMENT_ONLINE.items():
        payment[channel == CHANNELS.index(name)] = method
    status = np.full(n, "completed", dtype=object)
    online = (channel == 1) | (channel == 2)
    status[online & (rng.random(n) < ONLINE_CANCEL_RATE)] = "cancelled"

    refunds, status = _refunds(
        rng, cfg, status, local, total, l_order, catalogue.sku[l_sku], l_qty, l_amount
    )

    ids = np.empty(n, dtype=object)
    for k, name in enumerate(CHANNELS):
        sel = channel == k
        ids[sel] = np.asarray(
            fmt_ids(_ID_PREFIX[name], np.arange(1, int(sel.sum()) + 1), 9).to_numpy(
                zero_copy_only=False
            )
        )
    store_ids = np.array([s.store_id for s in stores] + [""], dtype=object)[store]
    orders = pa.table(
        {
            "order_id": pa.array(ids, pa.string()),
            "store_id": pa.array(store_ids, pa.string(), mask=store < 0),
            "channel": pa.array(np.array(CHANNELS, dtype=object)[channel], pa.string()),
            "customer_id": pa.array(
                customers.ids[np.maximum(customer, 0)], pa.string(), mask=customer < 0
            ),
            "ts": pa.array(local.astype("datetime64[s]")),
            "total_fen": pa.array(total),
            "discount_fen": pa.array(discount),
            "currency": pa.array(np.full(n, "CNY")),
            "coupon_code": pa.array(np.where(coupon, PROMO_COUPON, ""), mask=~coupon),
            "payment": pa.array(payment, pa.string()),
            "status": pa.array(status, pa.string()),
        }
    )
    starts = np.r_[0, np.flatnonzero(np.diff(l_order)) + 1]
    line_no = np.arange(len(l_order)) - np.repeat(starts, np.diff(np.r_[starts, len(l_order)]))
    lines_t = pa.table(
        {
            "order_id": pa.array(ids[l_order], pa.string()),
            "line_no": pa.array(line_no + 1),
            "sku": pa.array(catalogue.sku[l_sku]),
            "quantity": pa.array(l_qty),
            "unit_price_fen": pa.array(catalogue.price_fen[l_sku]),
            "discount_fen": pa.array(l_discount),
            "amount_fen": pa.array(l_amount),
        }
    )
    refunds = refunds.set_column(
        1, "order_id", pa.array(ids[refunds["order_id"].to_numpy()], pa.string())
    )
    return Sales(
        orders=orders,
        lines=lines_t,
        refunds=refunds,
        channel=channel,
        store=store,
        customer=customer,
        day=day,
        total_fen=total,
        status=status.astype(str),
        promo=promo,
        line_order=l_order,
        line_sku=l_sku,
        line_qty=l_qty,
    )


def _fill_baskets(
    rng: np.random.Generator, spend_fen: np.ndarray, cat: Catalogue
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Pick catalogue items worth about ``spend_fen`` per order.

    Each line gets a share of the budget and a popular SKU priced within it; the
    cheapest line's quantity then tops the basket up to at least the spend, and the
    small excess becomes the member/markdown discount. Planted pairs replace the
    first two lines of a share of multi-line orders (sold as a bundle).
    """
    n = len(spend_fen)
    n_lines = np.minimum(1 + rng.poisson(np.maximum(spend_fen / 35_000 - 0.5, 0.0)), 8)
    owner = np.repeat(np.arange(n), n_lines)
    w = rng.gamma(2.0, 1.0, len(owner))
    budget = spend_fen[owner] * w / np.bincount(owner, weights=w)[owner]
    by_price = np.argsort(cat.price_fen, kind="stable")
    ps = cat.price_fen[by_price]
    cum = np.cumsum(cat.popularity[by_price])
    kmax = np.maximum(np.searchsorted(ps, budget, side="right"), 1)
    j = np.minimum(
        np.searchsorted(cum, rng.random(len(owner)) * cum[kmax - 1], side="right"), kmax - 1
    )
    sku = by_price[j]

    starts = np.r_[0, np.cumsum(n_lines)[:-1]]
    if len(cat.pairs):
        planted = (n_lines >= 2) & (rng.random(n) < PAIR_ORDER_SHARE)
        k = rng.integers(0, min(N_PAIRS, len(cat.pairs)), n)
        sku[starts[planted]] = cat.pairs[k[planted], 0]
        sku[starts[planted] + 1] = cat.pairs[k[planted], 1]

    # Cheapest line first inside each order.
    price = cat.price_fen[sku]
    order = np.lexsort((price, owner))
    sku, price = sku[order], price[order]
    qty = np.ones(len(owner), dtype=np.int64)
    gross_sum = np.bincount(owner, weights=price, minlength=n).astype(np.int64)
    gap = spend_fen - gross_sum
    first_price = price[starts]
    extra = np.where(gap > 0, -(-gap // first_price), 0)
    qty[starts] += extra
    gross = qty * price
    order_gross = gross_sum + extra * first_price
    return owner, sku, qty, gross, order_gross


def _refunds(
    rng: np.random.Generator,
    cfg: DemoConfig,
    status: np.ndarray,
    local: np.ndarray,
    total: np.ndarray,
    l_order: np.ndarray,
    l_sku_name: np.ndarray,
    l_qty: np.ndarray,
    l_amount: np.ndarray,
) -> tuple[pa.Table, np.ndarray]:
    n = len(status)
    end_local = (day_number(cfg.end_date) + 1) * 86_400
    when = local + rng.integers(86_400, 10 * 86_400, n)
    chosen = (status == "completed") & (rng.random(n) < REFUND_RATE) & (when < end_local)
    full = chosen & (rng.random(n) < FULL_REFUND_SHARE)
    partial = chosen & ~full
    status = status.copy()
    status[full] = "refunded"
    status[partial] = "partially_refunded"
    starts = np.r_[0, np.flatnonzero(np.diff(l_order)) + 1]
    # A partial refund returns one unit of the order's first line.
    p_idx = np.flatnonzero(partial)
    p_line = starts[p_idx]
    p_amount = l_amount[p_line] // l_qty[p_line]
    f_idx = np.flatnonzero(full)
    order_idx = np.r_[f_idx, p_idx]
    k = len(order_idx)
    sort = np.argsort(when[order_idx], kind="stable")
    order_idx = order_idx[sort]
    whole = np.r_[np.ones(len(f_idx), bool), np.zeros(len(p_idx), bool)][sort]
    sku = np.r_[np.full(len(f_idx), "", dtype=object), l_sku_name[p_line]][sort]
    amount = np.r_[total[f_idx], p_amount][sort]
    reasons = np.array(REFUND_REASONS)[rng.integers(0, len(REFUND_REASONS), k)]
    table = pa.table(
        {
            "refund_id": fmt_ids("RF", np.arange(1, k + 1), 8),
            "order_id": pa.array(order_idx),  # replaced by the order id by the caller
            "sku": pa.array(sku, pa.string(), mask=whole),
            "quantity": pa.array(np.ones(k, dtype=np.int64), mask=whole),
            "amount_fen": pa.array(amount),
            "ts": pa.array(when[order_idx].astype("datetime64[s]")),
            "reason": pa.array(reasons),
        }
    )
    return table, status
