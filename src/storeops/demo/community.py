"""Community groups (WeCom), their members and message activity (no message text)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from storeops.demo._util import categorical, day_number, fmt_ids, rng_for
from storeops.demo.config import DemoConfig
from storeops.demo.customers import Customers
from storeops.demo.stores import StoreProfile

GROUPS_PER_STORE = 2
#: Members join this many days (exponential mean) after their first purchase.
JOIN_DELAY_DAYS = 20.0
LEAVE_SHARE = 0.12
#: Staff posts per group per day, and the kinds they post.
STAFF_POSTS_PER_DAY = 2.0
STAFF_KINDS = (("text", 0.35), ("coupon", 0.2), ("product", 0.25), ("link", 0.1), ("image", 0.1))
#: Share of current members who click a coupon/product/link post (click rate 15-25%).
CLICK_RATE = 0.20
#: Member messages per member per day, and their kinds.
MEMBER_MESSAGES_PER_DAY = 0.03
MEMBER_KINDS = (("sign_in", 0.4), ("text", 0.35), ("reaction", 0.15), ("image", 0.1))


@dataclass
class Community:
    groups: pa.Table
    members: pa.Table
    messages: pa.Table


def simulate_community(
    cfg: DemoConfig, stores: list[StoreProfile], customers: Customers
) -> Community:
    rng = rng_for(cfg.seed, 60)
    day0 = day_number(cfg.start_date)
    n_groups = len(stores) * GROUPS_PER_STORE
    g_store = np.repeat(np.arange(len(stores)), GROUPS_PER_STORE)
    g_created = (day0 - rng.integers(30, 400, n_groups)) * 86_400 + 10 * 3600
    group_ids = fmt_ids("G", np.arange(1, n_groups + 1), 4)
    groups = pa.table(
        {
            "group_id": group_ids,
            "name": [
                f"{stores[s].name}会员福利群{k % GROUPS_PER_STORE + 1}"
                for k, s in enumerate(g_store)
            ],
            "platform": np.full(n_groups, "wecom"),
            "store_id": np.array([s.store_id for s in stores])[g_store],
            "created_at": pa.array(g_created.astype("datetime64[s]")),
        }
    )
    end = (day_number(cfg.end_date) + 1) * 86_400
    who = np.flatnonzero(customers.in_community)
    first_seen = (
        customers.table["first_seen_at"].to_numpy().astype("datetime64[s]").astype(np.int64)[who]
    )
    joined = first_seen + (rng.exponential(JOIN_DELAY_DAYS, len(who)) * 86_400).astype(np.int64)
    inside = joined < end
    who, joined = who[inside], joined[inside]
    group = customers.home_store[who] * GROUPS_PER_STORE + rng.integers(
        0, GROUPS_PER_STORE, len(who)
    )
    leaves = rng.random(len(who)) < LEAVE_SHARE
    left = joined + (rng.exponential(60.0, len(who)) * 86_400).astype(np.int64)
    leaves &= left < end
    order = np.lexsort((joined, group))
    who, joined, group, leaves, left = (
        who[order],
        joined[order],
        group[order],
        leaves[order],
        left[order],
    )
    members = pa.table(
        {
            "group_id": group_ids.take(pa.array(group)),
            "customer_id": pa.array(customers.ids[who]),
            "joined_at": pa.array(joined.astype("datetime64[s]")),
            "left_at": pa.array(np.where(leaves, left, 0).astype("datetime64[s]"), mask=~leaves),
        }
    )

    # Messages, day by day per group (a few dozen rows a day in all: loops are cheap).
    rows: list[tuple[int, int, int, str, int, int]] = []  # group, customer, ts, kind, clicks, role
    s_kinds = np.array([k for k, _ in STAFF_KINDS])
    s_w = np.array([w for _, w in STAFF_KINDS])
    m_kinds = np.array([k for k, _ in MEMBER_KINDS])
    m_w = np.array([w for _, w in MEMBER_KINDS])
    for g in range(n_groups):
        sel = group == g
        gj, gl, gw = joined[sel], np.where(leaves[sel], left[sel], np.iinfo(np.int64).max), who[sel]
        for d in range(cfg.days):
            noon = (day0 + d) * 86_400 + 12 * 3600
            if noon < g_created[g]:
                continue
            current = np.flatnonzero((gj <= noon) & (gl > noon))
            for _ in range(rng.poisson(STAFF_POSTS_PER_DAY)):
                kind = str(s_kinds[categorical(rng, s_w, 1)[0]])
                clicks = (
                    int(rng.binomial(len(current), CLICK_RATE))
                    if kind in ("coupon", "product", "link")
                    else -1
                )
                ts = (day0 + d) * 86_400 + int(rng.integers(9 * 3600, 21 * 3600))
                rows.append((g, -1, ts, kind, clicks, 1))
            if len(current):
                n_msg = rng.poisson(MEMBER_MESSAGES_PER_DAY * len(current))
                senders = gw[current[rng.integers(0, len(current), n_msg)]]
                kinds = m_kinds[categorical(rng, m_w, n_msg)]
                times = (day0 + d) * 86_400 + rng.integers(8 * 3600, 23 * 3600, n_msg)
                rows.extend(
                    (g, int(c), int(t), str(k), -1, 0)
                    for c, t, k in zip(senders, times, kinds, strict=True)
                )
    rows.sort(key=lambda r: (r[2], r[0]))
    n = len(rows)
    arr_g = np.array([r[0] for r in rows], dtype=np.int64)
    arr_c = np.array([r[1] for r in rows], dtype=np.int64)
    arr_clicks = np.array([r[4] for r in rows], dtype=np.int64)
    arr_role = np.array([r[5] for r in rows], dtype=np.int64)
    messages = pa.table(
        {
            "message_id": fmt_ids("GM", np.arange(1, n + 1), 8),
            "group_id": group_ids.take(pa.array(arr_g)),
            "customer_id": pa.array(
                customers.ids[np.maximum(arr_c, 0)].astype(str), mask=arr_c < 0
            ),
            "sender_role": pa.array(np.where(arr_role == 1, "staff", "member")),
            "ts": pa.array(np.array([r[2] for r in rows], dtype="datetime64[s]")),
            "kind": pa.array([r[3] for r in rows]),
            "clicks": pa.array(np.maximum(arr_clicks, 0), mask=arr_clicks < 0),
        }
    )
    return Community(groups=groups, members=members, messages=messages)
