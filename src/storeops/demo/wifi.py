"""Wi-Fi probe sightings: visitors moving through zones, staff devices, passers-by."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from storeops.demo._util import categorical, day_number, fmt_ids, rng_for
from storeops.demo.config import DemoConfig
from storeops.demo.stores import ZONES, StoreProfile
from storeops.demo.traffic import minute_shares

#: Share of visitors whose phone answers probes (the rest randomise MACs or have Wi-Fi off).
DEVICE_SHARE = 0.45
#: A visitor's phone probes about once a minute; staff phones idle longer between probes.
VISITOR_PROBE_SECONDS = 60
STAFF_PROBE_SECONDS = 180
#: Share of passers-by whose phone is caught once, weakly, by the entrance sensor.
PASSER_SIGHTING_SHARE = 0.10
#: Devices that are always there: staff phones plus one POS tablet per store.
EXTRA_FIXED_DEVICES = 1


def sensor_id(store_id: str, zone_id: str) -> str:
    return f"{store_id}-{zone_id}-AP1"


def staff_device_hashes(cfg: DemoConfig, store_index: int, store: StoreProfile) -> list[str]:
    n = store.staff_on_floor * 2 + EXTRA_FIXED_DEVICES
    ids = np.arange(n, dtype=np.uint64) + np.uint64((store_index + 1) * 1_000)
    return list(
        fmt_ids("ff", ids + np.uint64(cfg.seed % 997) * np.uint64(10**6), 14, 16).to_pylist()
    )


def simulate_store_wifi(
    cfg: DemoConfig,
    store: StoreProfile,
    store_index: int,
    entries: np.ndarray,
    passers: np.ndarray,
) -> pa.Table:
    """``entries``/``passers``: per day of the Wi-Fi window (local days, oldest first)."""
    rng = rng_for(cfg.seed, 30, store_index)
    days = len(entries)
    first_day = day_number(cfg.window_start(cfg.wifi_days))
    opening = cfg.open_hour * 3600
    closing = cfg.close_hour * 3600

    # Visitors: arrival minute from the traffic curve, then zones in a random order.
    visits = rng.binomial(entries, DEVICE_SHARE)
    v_day = np.repeat(np.arange(days), visits)
    nv = len(v_day)
    arrival = opening + categorical(rng, minute_shares(cfg), nv) * 60 + rng.integers(0, 60, nv)
    z_prob = np.array([z[4] for z in ZONES])
    z_dwell = np.array([z[3] for z in ZONES]) * 60.0
    visited = rng.random((nv, len(ZONES))) < z_prob[None, :]
    visited[:, 0] = True  # everyone crosses the entrance zone first
    rank = rng.random((nv, len(ZONES)))
    rank[:, 0] = -1.0
    rank[~visited] = np.inf
    order = np.argsort(rank, axis=1)
    n_z = visited.sum(axis=1)
    stay_visit = np.repeat(np.arange(nv), n_z)
    stay_zone = order[visited[np.arange(nv)[:, None], order]]  # row-major: visit by visit
    dwell = rng.exponential(z_dwell[stay_zone])
    dwell = np.maximum(dwell, 20.0)
    first_of_visit = np.r_[0, np.cumsum(n_z)[:-1]]
    cum = np.cumsum(dwell)
    start_in_visit = cum - dwell - np.repeat(cum[first_of_visit] - dwell[first_of_visit], n_z)
    stay_start = arrival[stay_visit] + start_in_visit
    n_sight = 1 + (dwell // VISITOR_PROBE_SECONDS).astype(np.int64)
    s_stay = np.repeat(np.arange(len(stay_zone)), n_sight)
    s_k = np.arange(len(s_stay)) - np.repeat(np.r_[0, np.cumsum(n_sight)[:-1]], n_sight)
    s_ts = stay_start[s_stay] + s_k * VISITOR_PROBE_SECONDS + rng.integers(0, 20, len(s_stay))
    s_zone = stay_zone[s_stay]
    s_dev = stay_visit[s_stay]
    s_day = v_day[s_dev]
    s_rssi = np.clip(np.round(rng.normal(-62, 8, len(s_stay))), -90, -30)
    inside = s_ts < closing
    visitor_hash = fmt_ids(
        "", rng.integers(0, 2**62, nv, dtype=np.int64).astype(np.uint64), 16, 16
    ).to_numpy(zero_copy_only=False)

    # Passers-by: one weak sighting at the entrance sensor.
    caught = rng.binomial(passers, PASSER_SIGHTING_SHARE)
    p_day = np.repeat(np.arange(days), caught)
    npb = len(p_day)
    p_ts = opening + categorical(rng, minute_shares(cfg), npb) * 60 + rng.integers(0, 60, npb)
    passer_hash = fmt_ids(
        "", rng.integers(0, 2**62, npb, dtype=np.int64).astype(np.uint64), 16, 16
    ).to_numpy(zero_copy_only=False)

    # Staff and fixed devices: every few minutes through opening hours, near the till.
    staff = np.array(staff_device_hashes(cfg, store_index, store))
    ticks = np.arange(opening, closing, STAFF_PROBE_SECONDS)
    f_dev = np.tile(np.repeat(np.arange(len(staff)), len(ticks)), days)
    f_day = np.repeat(np.arange(days), len(staff) * len(ticks))
    f_ts = np.tile(np.tile(ticks, len(staff)), days) + (f_dev * 7) % 60
    f_zone = np.where(f_dev % 3 == 0, len(ZONES) - 1, 1 + f_dev % (len(ZONES) - 1))

    zones = np.array([sensor_id(store.store_id, z[0]) for z in ZONES])
    zone_codes = np.array([z[0] for z in ZONES])
    day_col = np.r_[s_day[inside], p_day, f_day]
    ts = (first_day + day_col) * 86_400 + np.r_[s_ts[inside], p_ts, f_ts]
    zone_idx = np.r_[s_zone[inside], np.zeros(npb, np.int64), f_zone]
    device = np.r_[visitor_hash[s_dev[inside]], passer_hash, staff[f_dev]]
    rssi = np.r_[s_rssi[inside], rng.integers(-95, -84, npb), rng.integers(-60, -40, len(f_dev))]
    order = np.lexsort((device, ts))
    return pa.table(
        {
            "store_id": pa.array(np.full(len(ts), store.store_id)),
            "zone_id": pa.array(zone_codes[zone_idx][order]),
            "sensor_id": pa.array(zones[zone_idx][order]),
            "ts": pa.array(ts[order].astype("datetime64[s]")),
            "device_hash": pa.array(device[order].astype(str)),
            "rssi": pa.array(rssi[order].astype(np.int64)),
        }
    )
