"""POS commits per second and their latency, on PostgreSQL and on SQLite.

    .venv/bin/python bench/bench_pos_commit.py [--seconds 20] [--connections 16] [--db both]

For each database: a fresh workspace whose ops database is a throwaway PostgreSQL
server (initdb in a temporary folder, as in the tests) or the default SQLite file;
500 members with stored value and points; a threshold promotion (满200减40) that
every basket reaches. `storeops serve` (uvicorn, one worker, the real app: API-key
authentication, store scope, the promotions quote, then one transaction with the
offers' records, points paid, stored value spent, points earned and the feed row) runs
in a subprocess; a second process keeps ``--connections`` keep-alive connections busy
(closed loop), each commit with its own Idempotency-Key and order id and a random
member paying part with points and stored value. Reports commits/s and latency
p50/p99/max, checks every answer was 200 and that the ledger's trial balance is 0.
The machine's load average is printed with the figures: the CPU may be shared.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.postgres_server starts the throwaway PostgreSQL
sys.path.insert(0, str(ROOT / "bench"))

from serving import storeops_serve  # noqa: E402

MEMBERS = 500


def _prepare(root: Path, db: str) -> tuple[str, Any]:
    from storeops.access import create_key
    from storeops.loyalty import PointsLedger, StoredValue, enrol
    from storeops.promotions.model import make_program
    from storeops.promotions.service import PromotionService
    from storeops.workspace import init_workspace, open_workspace

    init_workspace(root)
    if db == "postgresql":
        from tests.postgres_server import fresh_database

        url = fresh_database(f"bench_pos_{os.getpid()}")
        with (root / "storeops.toml").open("a", encoding="utf-8") as fh:
            fh.write(f'ops_database_url = "{url}"\n')
    ws = open_workspace(root)
    engine = ws.ops_engine()
    points, sv = PointsLedger(engine), StoredValue(engine, bonuses=())
    for i in range(MEMBERS):
        enrol(engine, f"M{i}")
        sv.top_up(f"M{i}", 10_000_000, key=f"top-{i}")
        points.earn(f"M{i}", 1_000_000, key=f"pts-{i}", reference=f"seed-{i}")
    promos = PromotionService(engine)
    promos.create_program(make_program("MJ-200", "threshold", {"tiers": [[20_000, 4_000]]}))
    key = create_key(engine, "bench till", "pos", store_id="S1")["key"]
    return key, engine


def _body(order: str, rng: random.Random) -> bytes:
    return json.dumps(
        {
            "store_id": "S1",
            "order_id": order,
            "member_id": f"M{rng.randrange(MEMBERS)}",
            "lines": [
                {"sku": "A1", "unit_price_fen": 12_900, "quantity": 2, "category": "apparel"},
                {"sku": "S7", "unit_price_fen": 3_900, "quantity": 1, "category": "socks"},
            ],
            "points_to_use": 100,
            "stored_value_fen": 5_000,
            "payment": "wechat_pay",
        }
    ).encode()


async def _drive(port: int, api_key: str, seconds: float, conns: int, tag: str) -> dict[str, Any]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors: list[str] = []
    counter = iter(range(10**9))
    stop = time.perf_counter() + seconds

    async def connection(worker: int) -> None:
        rng = random.Random(worker)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while time.perf_counter() < stop:
            n = next(counter)
            body = _body(f"{tag}{n}", rng)
            head = (
                "POST /api/pos/commit HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                "Content-Type: application/json\r\n"
                f"Authorization: Bearer {api_key}\r\nIdempotency-Key: {tag}-{n:010d}\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            )
            started = time.perf_counter()
            writer.write(head.encode() + body)
            answer = await reader.readuntil(b"\r\n\r\n")
            status = int(answer[9:12])
            length = 0
            for line in answer.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            payload = await reader.readexactly(length)
            if status != 200 and len(errors) < 3:
                errors.append(payload.decode(errors="replace")[:300])
            latencies.append(time.perf_counter() - started)
            statuses[status] = statuses.get(status, 0) + 1
        writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(connection(i) for i in range(conns)))
    wall = time.perf_counter() - t0
    lat = sorted(latencies)
    return {
        "commits": len(lat),
        "commits_per_s": round(len(lat) / wall, 1),
        "p50_ms": round(statistics.median(lat) * 1000, 1),
        "p99_ms": round(lat[int(len(lat) * 0.99) - 1] * 1000, 1),
        "max_ms": round(lat[-1] * 1000, 1),
        "statuses": statuses,
        "errors": errors,
    }


def run(db: str, seconds: float, conns: int) -> dict[str, Any]:
    from storeops.loyalty import trial_balance

    root = Path(tempfile.mkdtemp(prefix=f"bench-pos-{db}-"))
    try:
        api_key, engine = _prepare(root, db)
        with storeops_serve(root) as server:
            port = server.port  # type: ignore[attr-defined]
            asyncio.run(_drive(port, api_key, 2, 2, "warm"))
            result = asyncio.run(_drive(port, api_key, seconds, conns, "run"))
        result["trial_balance"] = trial_balance(engine)
        result["db"] = db
        result["load_average"] = [round(x, 2) for x in os.getloadavg()]
        return result
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--db", choices=["postgresql", "sqlite", "both"], default="both")
    args = parser.parse_args(argv)
    dbs = ["postgresql", "sqlite"] if args.db == "both" else [args.db]
    for db in dbs:
        r = run(db, args.seconds, args.connections)
        print(json.dumps(r))
        ok = set(r["statuses"]) == {200} and all(v == 0 for v in r["trial_balance"].values())
        print(
            f"{db}: {r['commits_per_s']} commits/s, p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, "
            f"max {r['max_ms']} ms over {r['commits']} commits; all 200 and balanced: {ok}; "
            f"load {r['load_average']}"
        )
        if not ok:
            raise SystemExit(f"{db}: some commits failed or the ledger does not balance")


if __name__ == "__main__":
    main()
