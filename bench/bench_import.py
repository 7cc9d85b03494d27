"""Import throughput: ``import_file`` with full validation vs a bare DuckDB ``read_csv``.

    python bench/bench_import.py [--rows N]      # default 10,000,000

Generates an orders CSV (plus the stores and customers it references) with DuckDB,
then times, on fresh workspaces and the same file:

* bare: ``CREATE TABLE t AS SELECT * FROM read_csv('orders.csv')`` in a DuckDB file;
* storeops: ``import_file(workspace, "orders", "orders.csv")`` (checksum, parse,
  type/range/choice/required/referential checks, de-duplication, quarantine,
  load record, one transaction).

Prints a table and one JSON line with the figures (collected by ``make bench``).
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import duckdb

from storeops.ingest import import_file
from storeops.workspace import init_workspace

STORES = 50
CUSTOMERS = 100_000


def generate(folder: Path, rows: int) -> dict[str, Path]:
    con = duckdb.connect()
    files = {name: folder / f"{name}.csv" for name in ("stores", "customers", "orders")}
    con.execute(
        f"""COPY (SELECT 'S' || lpad(i::VARCHAR, 3, '0') AS store_id, 'Store ' || i AS name,
                   'Shanghai' AS city, 'Asia/Shanghai' AS timezone
            FROM range({STORES}) r(i)) TO '{files["stores"]}' (HEADER)"""
    )
    con.execute(
        f"""COPY (SELECT 'C' || lpad(i::VARCHAR, 7, '0') AS customer_id
            FROM range({CUSTOMERS}) r(i)) TO '{files["customers"]}' (HEADER)"""
    )
    # ~1 in 100,000 rows is bad (negative amount) so the quarantine path is exercised.
    con.execute(
        f"""COPY (SELECT 'O' || lpad(i::VARCHAR, 10, '0') AS order_id,
                   'S' || lpad((i % {STORES})::VARCHAR, 3, '0') AS store_id,
                   'store' AS channel,
                   CASE WHEN i % 3 = 0 THEN ''
                        ELSE 'C' || lpad((i % {CUSTOMERS})::VARCHAR, 7, '0') END AS customer_id,
                   strftime(TIMESTAMP '2025-01-01' + to_seconds(i % 31536000),
                            '%Y-%m-%d %H:%M:%S') AS ts,
                   CASE WHEN i % 100000 = 99999 THEN -1 ELSE (i * 37) % 100000 END AS total_fen,
                   (i * 7) % 500 AS discount_fen, 'CNY' AS currency, '' AS coupon_code,
                   'wechat_pay' AS payment, 'completed' AS status
            FROM range({rows}) r(i)) TO '{files["orders"]}' (HEADER)"""
    )
    con.close()
    return files


def bare_read_csv(folder: Path, csv_file: Path) -> float:
    con = duckdb.connect(str(folder / "bare.duckdb"))
    start = time.perf_counter()
    con.execute(f"CREATE TABLE t AS SELECT * FROM read_csv('{csv_file}')")
    con.execute("CHECKPOINT")
    elapsed = time.perf_counter() - start
    con.close()
    return elapsed


def storeops_import(folder: Path, files: dict[str, Path]) -> tuple[float, dict[str, object]]:
    ws = init_workspace(folder / "ws")
    import_file(ws, "stores", files["stores"])
    import_file(ws, "customers", files["customers"])
    with ws.warehouse() as wh:
        start = time.perf_counter()
        result = import_file(wh, "orders", files["orders"])
        wh.raw.execute("CHECKPOINT")  # type: ignore[attr-defined]
        elapsed = time.perf_counter() - start
    return elapsed, result.to_dict()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="storeops-bench-") as tmp:
        folder = Path(tmp)
        files = generate(folder, args.rows)
        size_mb = files["orders"].stat().st_size / 1e6
        bare_s = bare_read_csv(folder, files["orders"])
        ours_s, result = storeops_import(folder, files)
    bare_rps = args.rows / bare_s
    ours_rps = args.rows / ours_s
    ratio = ours_rps / bare_rps
    print(f"orders.csv: {args.rows:,} rows, {size_mb:,.0f} MB")
    print(f"{'bare DuckDB read_csv':<28}{bare_s:>8.2f} s {bare_rps:>14,.0f} rows/s")
    print(f"{'storeops import_file':<28}{ours_s:>8.2f} s {ours_rps:>14,.0f} rows/s")
    print(f"ratio (target >= 0.5): {ratio:.2f}")
    print(f"result: {result}")
    print(
        json.dumps(
            {
                "bench": "import_orders_csv",
                "rows": args.rows,
                "bare_read_csv_s": round(bare_s, 3),
                "bare_rows_per_s": round(bare_rps),
                "import_file_s": round(ours_s, 3),
                "import_rows_per_s": round(ours_rps),
                "ratio": round(ratio, 3),
                "loaded": result["loaded"],
                "quarantined": result["quarantined"],
                "machine": f"{platform.machine()}, {__import__('os').cpu_count()} cores",
            }
        )
    )


if __name__ == "__main__":
    main()
