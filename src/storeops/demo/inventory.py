"""Daily stock on hand per store and SKU, consistent with store sales.

Policy: every Monday each SKU is replenished up to a level of about two weeks of
its expected sales (at least a few units); sales draw it down during the week. Slow
movers keep their shelf stock almost untouched, which is what sell-through and
slow-moving-stock analytics should find.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from storeops.demo.calendar import Calendar
from storeops.demo.config import DemoConfig
from storeops.demo.products import Catalogue
from storeops.demo.stores import StoreProfile

COVER_DAYS = 14
MIN_STOCK = 4


def simulate_inventory(
    cfg: DemoConfig,
    cal: Calendar,
    stores: list[StoreProfile],
    catalogue: Catalogue,
    sold: np.ndarray,
) -> pa.Table:
    """``sold``: units sold per (store, sku, day) over the whole period."""
    n_days = sold.shape[2]
    first = n_days - min(cfg.inventory_days, n_days)
    mean_daily = sold.mean(axis=2)
    level = np.maximum(np.ceil(mean_daily * COVER_DAYS), MIN_STOCK).astype(np.int64)
    week = np.cumsum(cal.weekday == 0)  # replenishment happens on Mondays (before opening)
    on_hand = np.empty_like(sold)
    for w in np.unique(week):
        idx = np.flatnonzero(week == w)
        on_hand[:, :, idx] = level[:, :, None] - np.cumsum(sold[:, :, idx], axis=2)
    on_hand = np.maximum(on_hand, 0)[:, :, first:]
    s, k, d = np.meshgrid(
        np.arange(len(stores)),
        np.arange(len(catalogue.sku)),
        np.arange(on_hand.shape[2]),
        indexing="ij",
    )
    dates = np.array(cal.dates[first:], dtype="datetime64[D]")
    return pa.table(
        {
            "store_id": pa.array(np.array([x.store_id for x in stores])[s.ravel()]),
            "sku": pa.array(catalogue.sku[k.ravel()]),
            "date": pa.array(dates[d.ravel()]),
            "on_hand": pa.array(on_hand.ravel().astype(np.int64)),
        }
    )
