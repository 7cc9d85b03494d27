"""Daily store-performance mart: storeops vs hand-written DuckDB SQL, side by side.

    python bench/bench_store_performance.py [--stores 100] [--days 365] [--orders 20000000]
                                            [--data DIR] [--repeat 2]

Generates, straight into a workspace's DuckDB warehouse with ``range()`` (no CSV
import), ``--stores`` stores in Asia/Shanghai with ``--days`` days of one-minute
counts at two entrances over 12 opening hours (100 x 365 -> 52.6M ``traffic_counts``
rows), ``--orders`` orders (10 % online, 3 % cancelled, 2 % partially refunded; one
order in three has two lines) and five shifts per store and day (four sales, one
manager). Then, in the same process and on the same file, ``--repeat`` times each:

* storeops: ``build_store_performance_daily`` — the Ibis expressions of
  ``storeops.analytics.performance`` by local day, written as
  ``mart_store_performance_daily`` through ``Warehouse.write_mart``;
* hand-written: one DuckDB SQL statement giving the same rows.

It asserts that both give the same rows and prints the best time of each, the ratio
and one JSON line (``make bench`` collects it). ``--data DIR`` keeps the generated
workspace in DIR and reuses it on the next run (generation takes about a minute).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import pandas as pd

from storeops.marts.traffic_daily import PERFORMANCE_MART, build_store_performance_daily
from storeops.warehouse.duckdb_backend import DuckDBWarehouse
from storeops.workspace import Workspace, init_workspace, open_workspace

FIRST_DAY = "2025-01-01"


def generate(ws: Workspace, stores: int, days: int, orders: int) -> None:
    """Fill the canonical tables with deterministic pseudo-random data (DuckDB SQL)."""
    with ws.warehouse() as wh:
        assert isinstance(wh, DuckDBWarehouse)
        con = wh.raw
        con.execute("SET preserve_insertion_order = false")
        con.execute(
            f"""INSERT INTO stores (store_id, name, city, timezone, area_m2)
            SELECT 'S' || lpad(s::VARCHAR, 3, '0'), 'Store ' || s, 'Shanghai',
                   'Asia/Shanghai', 120.0 + 5 * s
            FROM range({stores}) r(s)"""
        )
        # Open 10:00-22:00 local (02:00-14:00 UTC), a reading per entrance and minute.
        con.execute(
            f"""INSERT INTO traffic_counts
            SELECT 'S' || lpad(s::VARCHAR, 3, '0') AS store_id, 'E' || (e + 1) AS entrance_id,
                   TIMESTAMP '{FIRST_DAY} 02:00:00' + to_days(d::INTEGER)
                       + to_minutes(m::BIGINT) AS interval_start,
                   60 AS interval_seconds,
                   (hash(s, d, e, m) % 11)::BIGINT AS ins,
                   (hash(m, e, d, s) % 11)::BIGINT AS outs,
                   CASE WHEN e = 0 THEN (hash(d, s, m) % 40)::BIGINT END AS passers_by
            FROM range({stores}) a(s), range({days}) b(d), range(2) c(e), range(720) t(m)"""
        )
        con.execute(
            f"""INSERT INTO orders (order_id, store_id, channel, customer_id, ts, total_fen,
                                    discount_fen, currency, payment, status)
            SELECT 'O' || lpad(i::VARCHAR, 9, '0'),
                   'S' || lpad((i % {stores})::VARCHAR, 3, '0'),
                   CASE WHEN i % 10 = 9 THEN 'online' ELSE 'store' END,
                   NULL,
                   TIMESTAMP '{FIRST_DAY} 02:00:00'
                       + to_days(((i // {stores}) % {days})::INTEGER)
                       + to_seconds((hash(i) % 43200)::BIGINT),
                   (1000 + hash(i, 1) % 50000)::BIGINT, 0, 'CNY', 'wechat_pay',
                   CASE WHEN i % 33 = 0 THEN 'cancelled'
                        WHEN i % 50 = 1 THEN 'partially_refunded' ELSE 'completed' END
            FROM range({orders}) r(i)"""
        )
        con.execute(
            f"""INSERT INTO order_lines (order_id, line_no, sku, quantity, unit_price_fen,
                                         discount_fen, amount_fen)
            SELECT 'O' || lpad(i::VARCHAR, 9, '0'), n + 1, 'P' || (hash(i, n) % 500),
                   (1 + hash(n, i) % 3)::BIGINT, 1000, 0, 1000
            FROM range({orders}) r(i), range(2) k(n)
            WHERE n = 0 OR i % 3 = 0"""
        )
        # Sales A 10-16, B 10-16, C 16-22, D 13:30-19:30; manager M 09-21 (local).
        con.execute(
            f"""INSERT INTO staff_shifts
            SELECT 'S' || lpad(s::VARCHAR, 3, '0'), 'S' || s || '-' || w.staff,
                   TIMESTAMP '{FIRST_DAY} 00:00:00' + to_days(d::INTEGER) + w.start_utc,
                   TIMESTAMP '{FIRST_DAY} 00:00:00' + to_days(d::INTEGER) + w.end_utc,
                   w.role
            FROM range({stores}) a(s), range({days}) b(d),
                 (VALUES ('A', INTERVAL 2 HOUR, INTERVAL 8 HOUR, 'sales'),
                         ('B', INTERVAL 2 HOUR, INTERVAL 8 HOUR, 'sales'),
                         ('C', INTERVAL 8 HOUR, INTERVAL 14 HOUR, 'sales'),
                         ('D', INTERVAL 330 MINUTE, INTERVAL 690 MINUTE, 'sales'),
                         ('M', INTERVAL 1 HOUR, INTERVAL 13 HOUR, 'manager'))
                     w(staff, start_utc, end_utc, role)"""
        )
        con.execute("CHECKPOINT")


#: The same result in plain DuckDB SQL, written by hand as fast as we could: readings and
#: sales summed per UTC hour first, then moved by each store's UTC offset (right for
#: these stores, whose offsets are whole hours; storeops checks that per zone), units
#: from the lines joined once to the sale orders, shifts expanded into their hours.
HAND_SQL = """
WITH st AS (
    SELECT store_id, area_m2,
           timezone(timezone, TIMESTAMPTZ '2025-07-01 00:00:00+00')
             - TIMESTAMP '2025-07-01 00:00:00' AS off
    FROM stores
),
e AS (
    SELECT c.store_id, c.utc_hour + st.off AS hour, c.entries
    FROM (SELECT store_id, date_trunc('hour', interval_start) AS utc_hour, sum(ins) AS entries
          FROM traffic_counts GROUP BY ALL) c
    JOIN st USING (store_id)
),
so AS (
    SELECT order_id, store_id, total_fen, date_trunc('hour', ts) AS utc_hour
    FROM orders
    WHERE channel = 'store' AND status IN ('completed', 'partially_refunded')
),
s AS (
    SELECT store_id, utc_hour, count(*) AS transactions, sum(total_fen) AS sales_fen
    FROM so GROUP BY ALL
),
u AS (
    SELECT so.store_id, so.utc_hour, sum(l.quantity) AS units
    FROM order_lines l JOIN so USING (order_id)
    GROUP BY ALL
),
o AS (
    SELECT s.store_id, s.utc_hour + st.off AS hour, s.transactions, s.sales_fen,
           coalesce(u.units, 0) AS units
    FROM s LEFT JOIN u USING (store_id, utc_hour) JOIN st USING (store_id)
),
g AS (SELECT store_id, hour FROM e UNION SELECT store_id, hour FROM o),
sh AS (
    SELECT DISTINCT s.store_id, s.staff_id,
           date_trunc('hour', s.shift_start + st.off) + to_hours(k) AS hour
    FROM staff_shifts s JOIN st USING (store_id),
         range(CAST(ceil(epoch(s.shift_end + st.off
                     - date_trunc('hour', s.shift_start + st.off)) / 3600) AS BIGINT)) r(k)
    WHERE s.role = 'sales'
),
f AS (SELECT store_id, hour, count(*) AS staff FROM sh GROUP BY ALL),
h AS (
    SELECT g.store_id, g.hour, e.entries, coalesce(o.transactions, 0) AS transactions,
           coalesce(o.sales_fen, 0) AS sales_fen, coalesce(o.units, 0) AS units,
           coalesce(f.staff, 0) AS staff
    FROM g LEFT JOIN e USING (store_id, hour) LEFT JOIN o USING (store_id, hour)
           LEFT JOIN f USING (store_id, hour)
),
d AS (
    SELECT store_id, CAST(hour AS DATE) AS day, sum(entries) AS entries,
           sum(transactions) AS transactions, sum(sales_fen) AS sales_fen,
           sum(units) AS units, sum(staff) AS staff_hours
    FROM h GROUP BY ALL
)
SELECT d.store_id, d.day, d.entries, d.transactions, d.sales_fen, d.units, d.staff_hours,
       d.transactions / nullif(d.entries, 0) AS conversion,
       d.sales_fen / nullif(d.transactions, 0) AS atv_fen,
       d.units / nullif(d.transactions, 0) AS upt,
       d.sales_fen / nullif(d.entries, 0) AS sales_per_visitor_fen,
       d.sales_fen / nullif(st.area_m2, 0) AS sales_per_m2_fen,
       d.entries / nullif(d.staff_hours, 0) AS star
FROM d JOIN st USING (store_id)
ORDER BY store_id, day
"""


def hand_written(wh: DuckDBWarehouse) -> pd.DataFrame:
    return wh.raw.execute(HAND_SQL).df()


def through_storeops(wh: DuckDBWarehouse) -> pd.DataFrame:
    build_store_performance_daily(wh)
    return wh.to_pandas(wh.mart(PERFORMANCE_MART).order_by("store_id", "day"))


def _normalised(df: pd.DataFrame) -> pd.DataFrame:
    out = df.sort_values(["store_id", "day"]).reset_index(drop=True)
    out["day"] = pd.to_datetime(out["day"]).dt.date
    for col in ("entries", "transactions", "sales_fen", "units", "staff_hours"):
        out[col] = out[col].astype("Int64")
    return out


def _timed(
    wh: DuckDBWarehouse, repeat: int
) -> tuple[dict[str, list[float]], pd.DataFrame, pd.DataFrame]:
    """Wall and CPU seconds (all threads) of each, taking turns so that both see the
    same load and caches. CPU seconds move less than wall time when other processes
    share the cores."""
    runs: dict[str, list[float]] = {"hand": [], "ours": [], "hand_cpu": [], "ours_cpu": []}
    expected = got = pd.DataFrame()
    for _ in range(repeat):
        for key, fn in (("hand", hand_written), ("ours", through_storeops)):
            cpu, start = time.process_time(), time.perf_counter()
            result = fn(wh)
            runs[key].append(time.perf_counter() - start)
            runs[f"{key}_cpu"].append(time.process_time() - cpu)
            if key == "hand":
                expected = result
            else:
                got = result
    return runs, expected, got


def _list(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", type=int, default=100)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--orders", type=int, default=20_000_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--data", type=Path, help="Keep (and reuse) the generated workspace.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="storeops-bench-") as tmp:
        root = args.data or Path(tmp) / "ws"
        marker = root / f"bench-{args.stores}x{args.days}-{args.orders}.done"
        generate_s = 0.0
        if not marker.is_file():
            start = time.perf_counter()
            if root.exists() and any(root.iterdir()):
                raise SystemExit(f"{root} holds other data; pass an empty or new --data folder")
            ws = init_workspace(root)
            generate(ws, args.stores, args.days, args.orders)
            marker.touch()
            generate_s = time.perf_counter() - start
        ws = open_workspace(root)
        with ws.warehouse() as wh:
            assert isinstance(wh, DuckDBWarehouse)
            counts = {t: wh.count(t) for t in ("traffic_counts", "orders", "order_lines")}
            load = os.getloadavg()[0]
            runs, expected, got = _timed(wh, args.repeat)
            load_after = os.getloadavg()[0]
        pd.testing.assert_frame_equal(_normalised(got), _normalised(expected), check_dtype=False)
    hand_s, ours_s = min(runs["hand"]), min(runs["ours"])
    hand_cpu, ours_cpu = min(runs["hand_cpu"]), min(runs["ours_cpu"])
    ratio = ours_s / hand_s
    # Each run's ratio against the hand-written run just before it (same moment's load).
    paired = sorted(o / h for o, h in zip(runs["ours"], runs["hand"], strict=True))
    median_ratio = paired[len(paired) // 2]
    print(
        f"data: {args.stores} stores x {args.days} days; "
        + ", ".join(f"{name} {n:,}" for name, n in counts.items())
    )
    if generate_s:
        print(f"generated in {generate_s:.1f} s")
    line = "{:<26}{:>7.2f} s wall (runs {}), {:>6.2f} s CPU"
    print(line.format("hand-written DuckDB SQL", hand_s, _list(runs["hand"]), hand_cpu))
    print(line.format("storeops mart (Ibis)", ours_s, _list(runs["ours"]), ours_cpu))
    print(
        f"ratio {ratio:.2f} wall, {ours_cpu / hand_cpu:.2f} CPU (target <= 1.5; storeops "
        f"< 15 s); rows equal: {len(got):,}; load before/after {load:.2f}/{load_after:.2f}"
    )
    print(f"median of the per-run ratios (each run against the one before it): {median_ratio:.2f}")
    print(
        json.dumps(
            {
                "bench": "store_performance_daily_mart",
                "stores": args.stores,
                "days": args.days,
                **counts,
                "rows": len(got),
                "hand_sql_s": round(hand_s, 3),
                "storeops_s": round(ours_s, 3),
                "hand_sql_runs_s": [round(x, 3) for x in runs["hand"]],
                "storeops_runs_s": [round(x, 3) for x in runs["ours"]],
                "ratio": round(ratio, 3),
                "hand_sql_cpu_s": round(hand_cpu, 3),
                "storeops_cpu_s": round(ours_cpu, 3),
                "cpu_ratio": round(ours_cpu / hand_cpu, 3),
                "median_paired_ratio": round(median_ratio, 3),
                "load_1min_before_after": [round(load, 2), round(load_after, 2)],
                "cpus": os.cpu_count(),
            }
        )
    )


if __name__ == "__main__":
    main()
