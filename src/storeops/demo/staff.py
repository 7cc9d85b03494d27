"""Staff shifts from the scheduling tool: early and late shifts plus a manager."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from storeops.demo._util import day_number, rng_for
from storeops.demo.config import DemoConfig
from storeops.demo.stores import StoreProfile

#: The scheduling tool keeps this many days of history.
STAFF_DAYS = 90


def simulate_shifts(cfg: DemoConfig, stores: list[StoreProfile]) -> pa.Table:
    rng = rng_for(cfg.seed, 40)
    days = min(STAFF_DAYS, cfg.days)
    day0 = day_number(cfg.window_start(days))
    rows_store, rows_staff, rows_start, rows_end, rows_role = [], [], [], [], []
    open_s, close_s = cfg.open_hour * 3600, cfg.close_hour * 3600
    mid = (open_s + close_s) // 2
    for store in stores:
        team = store.staff_on_floor * 2
        for d in range(days):
            base = (day0 + d) * 86_400
            # Half the team works early, half late; who is on which shift rotates daily.
            people = np.roll(np.arange(team), d)
            for i, person in enumerate(people):
                early = i < store.staff_on_floor
                start = open_s - 1800 if early else mid - 3600
                end = mid + 3600 if early else close_s + 1800
                jitter = int(rng.integers(-5, 6)) * 60
                rows_store.append(store.store_id)
                rows_staff.append(f"{store.store_id}-ST{person + 1:02d}")
                rows_start.append(base + start + jitter)
                rows_end.append(base + end + jitter)
                rows_role.append("cashier" if i % store.staff_on_floor == 0 else "sales")
            rows_store.append(store.store_id)
            rows_staff.append(f"{store.store_id}-MGR")
            rows_start.append(base + open_s)
            rows_end.append(base + open_s + 9 * 3600)
            rows_role.append("manager")
    return pa.table(
        {
            "store_id": rows_store,
            "staff_id": rows_staff,
            "shift_start": pa.array(np.array(rows_start, dtype="datetime64[s]")),
            "shift_end": pa.array(np.array(rows_end, dtype="datetime64[s]")),
            "role": rows_role,
        }
    )
