"""App and mini-program events in Segment shape, written in chunks.

Each session views products, and may add one to the cart, start checkout and
complete the order, with known step probabilities (the funnel truth). Chunks use
their own random streams, so the benchmark size (``--events 100000000``) is written
chunk by chunk without holding the events in memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from storeops.demo._util import categorical, day_number, fmt_ids, rng_for, utc_offsets
from storeops.demo.calendar import online_hour_shares
from storeops.demo.config import DemoConfig
from storeops.demo.products import CATEGORIES, Catalogue

FUNNEL = ("Product Viewed", "Product Added", "Checkout Started", "Order Completed")
#: P(step k+1 | step k) within a session.
STEP_CONVERSION = {"Product Added": 0.30, "Checkout Started": 0.55, "Order Completed": 0.65}
#: Extra product views per session ~ Poisson(this).
EXTRA_VIEWS_MEAN = 1.5
#: Share of devices whose user is logged in (userId = a customer id).
LOGGED_IN_SHARE = 0.6
SESSIONS_PER_DEVICE = 1.5
_OS = ("iOS", "Android")
_APP_CHANNEL = ("mini_program", "mini_program", "own_site")
_EVENTS_PER_SESSION = 1 + EXTRA_VIEWS_MEAN + 0.30 * (1 + 0.55 * (1 + 0.65))


@dataclass
class EventCounts:
    """Realised counts, for the truth."""

    sessions: int = 0
    events: int = 0
    steps: tuple[int, int, int, int] = (0, 0, 0, 0)


def iter_event_chunks(
    cfg: DemoConfig, catalogue: Catalogue, customer_ids: np.ndarray, counts: EventCounts
) -> Iterator[pa.Table]:
    """Yield tables of (line, message_id) per chunk; updates ``counts`` as it goes."""
    total = cfg.n_events
    if total == 0:
        return
    est_sessions = max(1, int(total / _EVENTS_PER_SESSION))
    n_devices = max(1, int(est_sessions / SESSIONS_PER_DEVICE))
    first_day = day_number(cfg.window_start(cfg.event_days))
    n_days = min(cfg.event_days, cfg.days)
    utc_offset = int(utc_offsets(cfg.timezone, cfg.end_date, 1)[0])
    written = 0
    chunk = 0
    steps = np.zeros(4, dtype=np.int64)
    while written < total:
        rng = rng_for(cfg.seed, 20, chunk)
        want = min(cfg.events_chunk, total - written)
        n_sess = int(want / _EVENTS_PER_SESSION) + 16
        table, per_step, used = _sessions(
            rng,
            n_sess,
            want,
            written,
            catalogue,
            customer_ids,
            n_devices,
            first_day,
            n_days,
            cfg.seed,
            utc_offset,
        )
        steps += per_step
        counts.sessions += used
        written += table.num_rows
        chunk += 1
        yield table
    counts.events = written
    counts.steps = (int(steps[0]), int(steps[1]), int(steps[2]), int(steps[3]))


def _sessions(
    rng: np.random.Generator,
    n_sess: int,
    want: int,
    offset: int,
    cat: Catalogue,
    customer_ids: np.ndarray,
    n_devices: int,
    first_day: int,
    n_days: int,
    seed: int,
    utc_offset: int,
) -> tuple[pa.Table, np.ndarray, int]:
    views = 1 + rng.poisson(EXTRA_VIEWS_MEAN, n_sess)
    added = rng.random(n_sess) < STEP_CONVERSION["Product Added"]
    checkout = added & (rng.random(n_sess) < STEP_CONVERSION["Checkout Started"])
    completed = checkout & (rng.random(n_sess) < STEP_CONVERSION["Order Completed"])
    n_ev = views + added + checkout + completed
    # Trim the last sessions so the chunk holds exactly ``want`` events.
    cum = np.cumsum(n_ev)
    if cum[-1] < want:
        extra = want - cum[-1]
        views[-1] += extra
        n_ev[-1] += extra
        cum = np.cumsum(n_ev)
    sess = np.repeat(np.arange(n_sess), n_ev)[:want]
    k = np.arange(want) - np.repeat(np.r_[0, cum[:-1]], n_ev)[:want]
    v = views[sess]
    # Step of each event: 0 for views, then 1, 2, 3.
    step = np.where(k < v, 0, k - v + 1)
    per_step = np.bincount(step, minlength=4)[:4]

    device = rng.integers(0, n_devices, n_sess)
    start = (
        (first_day + rng.integers(0, n_days, n_sess)) * 86_400
        + categorical(rng, online_hour_shares(), n_sess) * 3600
        + rng.integers(0, 3600, n_sess)
    )
    # Sessions are laid out on the local clock; Segment timestamps are UTC.
    ts = start[sess] + k * 40 + rng.integers(0, 30, want) - utc_offset
    sku_idx = categorical(rng, cat.popularity, n_sess * 2).reshape(n_sess, 2)
    view_sku = np.where(k % 2 == 0, sku_idx[sess, 0], sku_idx[sess, 1])
    sku = np.where(step == 0, view_sku, sku_idx[sess, 0])
    price = cat.price_fen[sku]

    # Device identity: a stable hash per device, logged in for a share of devices.
    logged = (device * 2_654_435_761 + seed) % 1000 < LOGGED_IN_SHARE * 1000
    user = customer_ids[(device * 40_503 + seed) % len(customer_ids)]
    anon = fmt_ids(
        "a-", device.astype(np.uint64) * np.uint64(2_654_435_761) % np.uint64(2**48), 12, 16
    )
    msg = fmt_ids("m-", np.arange(offset, offset + want, dtype=np.uint64), 12, 16)
    ev_names = np.array(FUNNEL)[step]
    ts_text = pc.strftime(pa.array(ts.astype("datetime64[s]")), format="%Y-%m-%dT%H:%M:%SZ")
    user_json = np.where(
        logged[sess], np.char.add(np.char.add('"', user[sess].astype(str)), '"'), "null"
    )
    cat_names = np.array([c[0] for c in CATEGORIES])[cat.category[sku]]
    price_text = pc.cast(pa.array(price / 100.0), pa.string())
    sku_text = pa.array(cat.sku[sku].astype(str))
    props_product = pc.binary_join_element_wise(
        '{"product_id":"',
        sku_text,
        '","category":"',
        pa.array(cat_names),
        '","price":',
        price_text,
        ',"currency":"CNY"}',
        "",
    )
    order_id = fmt_ids("APP", sess.astype(np.uint64) + np.uint64(offset), 12)
    props_order = pc.binary_join_element_wise(
        '{"order_id":"', order_id, '","total":', price_text, ',"currency":"CNY"}', ""
    )
    props = pc.if_else(pa.array(step == 3), props_order, props_product)
    os_name = np.array(_OS)[device % 2][sess]
    app_channel = np.array(_APP_CHANNEL)[device % 3][sess]
    context = pc.binary_join_element_wise(
        '{"app":{"name":"storeops-demo","version":"2.3.0"},"os":{"name":"',
        pa.array(os_name),
        '"},"channel":"',
        pa.array(app_channel),
        '"}',
        "",
    )
    line = pc.binary_join_element_wise(
        '{"messageId":"',
        msg,
        '","type":"track","event":"',
        pa.array(ev_names),
        '","userId":',
        pa.array(user_json),
        ',"anonymousId":"',
        anon.take(pa.array(sess)),
        '","timestamp":"',
        ts_text,
        '","properties":',
        props,
        ',"context":',
        context,
        "}",
        "",
    )
    order = np.argsort(ts, kind="stable")
    return pa.table({"line": line.take(pa.array(order))}), per_step, int(sess[-1]) + 1
