"""Benchmark: RFM + CLV fit + scoring end to end from the warehouse.

Builds a DuckDB workspace with N customers whose orders follow a BG/NBD process
(about 10 orders per customer; generation and loading are not timed), then times:

1. RFM scores and segments (Ibis on DuckDB) for every customer;
2. the CLV summary (Ibis), BG/NBD + Gamma-Gamma fit, and 90-day scores;

and reports the wall time of each step and the total. Target for 1,000,000
customers / 10,000,000 orders: under 10 s on 2 cores.
Usage: ``python bench/bench_customers.py [--customers N]``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa

from storeops.analytics.rfm import RfmInsight, RfmQuery
from storeops.marts.clv_scores import fit_clv
from storeops.workspace import init_workspace

TRUE = {"r": 2.0, "alpha": 30.0, "a": 0.6, "b": 8.0}


def simulate_orders(customers: int, seed: int = 5) -> pa.Table:
    """Orders whose per-customer summaries follow BG/NBD (daily resolution, one year)."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(TRUE["r"], 1 / TRUE["alpha"], customers)
    p = rng.beta(TRUE["a"], TRUE["b"], customers)
    age = rng.integers(30, 366, customers)  # days from first purchase to the end
    k = rng.poisson(lam * age)
    x = np.minimum(k, rng.geometric(p))  # the customer dies right after repeat purchase J
    # The x-th of k uniform arrival times on (0, age] is age * Beta(x, k - x + 1); the
    # earlier x - 1 repeats are uniform before it.
    tx = np.where(x > 0, age * rng.beta(np.maximum(x, 1), np.maximum(k - x + 1, 1)), 0.0)
    owner = np.repeat(np.arange(customers), x + 1)
    offsets = rng.random(len(owner)) * np.repeat(tx, x + 1)
    first_row = np.concatenate([[0], np.cumsum(x + 1)[:-1]])
    last_row = first_row + x
    offsets[last_row] = tx  # the last repeat purchase (or the first, when x = 0)
    offsets[first_row] = 0.0  # every customer's first purchase
    start = np.datetime64("2026-01-01T00:00") - np.repeat(age, x + 1).astype("timedelta64[D]")
    ts = start + (offsets * 86400).astype("timedelta64[s]") - np.timedelta64(8, "h")
    n = len(owner)
    return pa.table(
        {
            "order_id": pa.array(np.char.add("o", np.arange(n).astype(str))),
            "store_id": pa.array(["S1"] * n),
            "channel": pa.array(["store"] * n),
            "customer_id": pa.array(np.char.add("c", owner.astype(str))),
            "ts": pa.array(ts.astype("datetime64[us]")),
            "total_fen": pa.array(rng.gamma(4.0, 2500.0, n).astype("int64") + 100),
            "discount_fen": pa.array(np.zeros(n, dtype="int64")),
            "currency": pa.array(["CNY"] * n),
            "status": pa.array(["completed"] * n),
        }
    )


def build(root: Path, customers: int) -> int:
    ws = init_workspace(root)
    orders = simulate_orders(customers)
    with ws.warehouse() as wh:
        raw = wh.raw  # type: ignore[attr-defined]
        raw.execute(
            "INSERT INTO stores VALUES ('S1', 'Bench', 'Shanghai', 'Asia/Shanghai', 500, NULL)"
        )
        raw.register("bench_orders", orders)
        raw.execute(
            "INSERT INTO orders (order_id, store_id, channel, customer_id, ts, total_fen, "
            "discount_fen, currency, status) SELECT * FROM bench_orders"
        )
    return len(orders)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "ws"
        t0 = time.perf_counter()
        n_orders = build(root, args.customers)
        setup_s = time.perf_counter() - t0
        ws = init_workspace(root)
        with ws.warehouse() as wh:
            as_of = date(2026, 1, 1)
            t0 = time.perf_counter()
            rfm = RfmInsight(wh, RfmQuery(as_of=as_of)).calculate()
            rfm_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            fit = fit_clv(wh, as_of=as_of)
            clv_s = time.perf_counter() - t0
    print(
        json.dumps(
            {
                "benchmark": "customers_end_to_end",
                "customers": len(rfm.customers),
                "orders": n_orders,
                "setup_s": round(setup_s, 2),
                "rfm_s": round(rfm_s, 2),
                "clv_fit_and_score_s": round(clv_s, 2),
                "total_s": round(rfm_s + clv_s, 2),
                "target_s": 10,
                "bgnbd": fit.to_dict()["bgnbd"],
                "bgnbd_true": TRUE,
            }
        )
    )


if __name__ == "__main__":
    main()
