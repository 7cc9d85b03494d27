"""People-counter readings at one-minute resolution during opening hours."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from storeops.demo._util import day_number, local_seconds_to_ts, rng_for
from storeops.demo.anomalies import PlantedAnomaly, silence_counters
from storeops.demo.calendar import WEEKDAY_TRAFFIC, Calendar, store_hour_shares
from storeops.demo.config import DemoConfig
from storeops.demo.stores import StoreProfile

#: Day-to-day noise (weather, events nearby) on a store's expected entries.
DAY_NOISE_SIGMA = 0.10


@dataclass
class StoreTraffic:
    """One store's counter readings plus its daily totals (for the sales side)."""

    table: pa.Table
    entries_per_day: np.ndarray  # (days,)


def minute_shares(cfg: DemoConfig) -> np.ndarray:
    """Share of a day's entries per opening minute (flat within each hour)."""
    return np.repeat(store_hour_shares(cfg.open_hour, cfg.close_hour) / 60.0, 60)


def simulate_store_traffic(
    cfg: DemoConfig,
    cal: Calendar,
    store: StoreProfile,
    store_index: int,
    planted: list[PlantedAnomaly] | None = None,
) -> StoreTraffic:
    """``planted`` counter outages zero the readings, not the visitors: the daily
    totals for the sales side (``entries_per_day``) are the people who really came."""
    rng = rng_for(cfg.seed, 10, store_index)
    days = len(cal.dates)
    noise = rng.lognormal(-(DAY_NOISE_SIGMA**2) / 2, DAY_NOISE_SIGMA, days)
    daily = (
        store.entries_per_day * np.asarray(WEEKDAY_TRAFFIC)[cal.weekday] * cal.store_lift * noise
    )
    shares = minute_shares(cfg)
    n_min = len(shares)
    codes = [code for code, _, _ in store.entrances]
    ent_share = np.array([store.entrance_shares[c] for c in codes])
    lam = daily[:, None, None] * ent_share[None, :, None] * shares[None, None, :]
    ins = rng.poisson(lam)
    # Passers-by follow the same curves; the capture rate links the two counts.
    pass_ratio = (1.0 - store.capture_rate) / store.capture_rate
    passers = rng.poisson(lam * pass_ratio)
    # Visitors leave after about the store's mean visit length; whoever is still
    # inside at closing time is counted out in the last minute (daily reset).
    lag = max(1, round(store.mean_visit_minutes))
    outs = np.zeros_like(ins)
    outs[:, :, lag:] = ins[:, :, : n_min - lag]
    outs[:, :, -1] += ins[:, :, n_min - lag :].sum(axis=2)
    visitors = ins.sum(axis=(1, 2))
    silence_counters((ins, outs, passers), planted or [], store_index, cfg.open_hour)

    day0 = day_number(cal.dates[0])
    day_idx = np.arange(days, dtype=np.int64)
    minute_of_day = cfg.open_hour * 60 + np.arange(n_min, dtype=np.int64)
    local = (
        (day0 + day_idx)[:, None, None] * 86_400 + minute_of_day[None, None, :] * 60
    ) + np.zeros((1, len(codes), 1), dtype=np.int64)
    size = ins.size
    table = pa.table(
        {
            "store_id": pa.array(np.full(size, store.store_id)),
            "entrance_id": pa.array(
                np.broadcast_to(np.array(codes)[None, :, None], ins.shape).ravel()
            ),
            "interval_start": local_seconds_to_ts(local.ravel()),
            "interval_seconds": pa.array(np.full(size, 60, dtype=np.int64)),
            "ins": pa.array(ins.ravel().astype(np.int64)),
            "outs": pa.array(outs.ravel().astype(np.int64)),
            "passers_by": pa.array(passers.ravel().astype(np.int64)),
        }
    )
    return StoreTraffic(table=table, entries_per_day=visitors)
