"""POS commits per second and their latency, on PostgreSQL and on SQLite.

    .venv/bin/python bench/bench_pos_commit.py [--seconds 20] [--connections 8]
        [--db both] [--workers N] [--rate 300] [--pg-setting name=value ...]

For each database: a fresh workspace whose ops database is a PostgreSQL server of the
benchmark's own (initdb in a temporary folder; durable: ``fsync`` and
``synchronous_commit`` on, plus any ``--pg-setting``) or the default SQLite file; 500
members with stored value and points; a threshold promotion (满200减40) that every
basket reaches. `storeops serve --workers N` (uvicorn, the real app: API-key
authentication, store scope, then one transaction with the promotions' quote and
records, points paid, stored value spent, points earned and the feed row) runs in a
subprocess; this process keeps ``--connections`` keep-alive connections busy (closed
loop, asyncio on raw sockets: a few tens of microseconds of CPU per request), each
commit with its own Idempotency-Key and order id and a random member paying part with
points and stored value. Reports commits/s and latency p50/p99/max, checks every
answer was 200 and that the ledger's trial balance is 0, and where the CPU went: CPU
milliseconds per commit of the server processes, of PostgreSQL and of this load
generator (CPU time over the run / commits). The machine's load average is printed
with the figures: the CPU may be shared.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.postgres_server starts the throwaway PostgreSQL
sys.path.insert(0, str(ROOT / "bench"))

from serving import storeops_serve, throwaway_postgres, tree_cpu  # noqa: E402

MEMBERS = 500


def _prepare(root: Path, db: str, pg_url: str | None) -> tuple[str, Any]:
    from storeops.access import create_key
    from storeops.loyalty import PointsLedger, StoredValue, enrol
    from storeops.promotions.model import make_program
    from storeops.promotions.service import PromotionService
    from storeops.workspace import init_workspace, open_workspace

    init_workspace(root)
    if pg_url is not None:
        with (root / "storeops.toml").open("a", encoding="utf-8") as fh:
            fh.write(f'ops_database_url = "{pg_url}"\n')
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


class _Till:
    """One keep-alive connection sending commits."""

    def __init__(self, port: int, api_key: str, tag: str, seed: int) -> None:
        self.port, self.api_key, self.tag = port, api_key, tag
        self.rng = random.Random(seed)

    async def open(self) -> _Till:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        return self

    async def commit(self, n: int) -> tuple[int, bytes]:
        body = _body(f"{self.tag}{n}", self.rng)
        head = (
            "POST /api/pos/commit HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: application/json\r\n"
            f"Authorization: Bearer {self.api_key}\r\nIdempotency-Key: {self.tag}-{n:010d}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        self.writer.write(head.encode() + body)
        answer = await self.reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in answer.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        return int(answer[9:12]), await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


async def _drive(
    port: int, api_key: str, seconds: float, conns: int, tag: str, rate: float | None = None
) -> dict[str, Any]:
    """Closed loop (each connection sends its next commit when the last one is
    answered) or, with ``rate``, open loop: commits due at a fixed rate, each sent on
    the next free connection, its latency counted from when it was due (waiting for a
    connection included, so a slow server cannot hide its backlog)."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors: list[str] = []
    tills = [await _Till(port, api_key, tag, i).open() for i in range(conns)]

    def record(status: int, payload: bytes, started: float) -> None:
        latencies.append(time.perf_counter() - started)
        statuses[status] = statuses.get(status, 0) + 1
        if status != 200 and len(errors) < 3:
            errors.append(payload.decode(errors="replace")[:300])

    counter = iter(range(10**9))
    t0 = time.perf_counter()
    if rate is None:
        stop = t0 + seconds

        async def loop(till: _Till) -> None:
            while time.perf_counter() < stop:
                started = time.perf_counter()
                record(*await till.commit(next(counter)), started)

        await asyncio.gather(*(loop(t) for t in tills))
    else:
        free: asyncio.Queue[_Till] = asyncio.Queue()
        for till in tills:
            free.put_nowait(till)

        async def one(n: int, due: float) -> None:
            till = await free.get()
            try:
                record(*await till.commit(n), due)
            finally:
                free.put_nowait(till)

        pending = []
        for n in range(int(seconds * rate)):
            due = t0 + n / rate
            wait = due - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            pending.append(asyncio.create_task(one(next(counter), due)))
        await asyncio.gather(*pending)
    wall = time.perf_counter() - t0
    for till in tills:
        till.close()
    lat = sorted(latencies)
    return {
        "mode": "closed loop" if rate is None else f"open loop at {rate:g}/s",
        "commits": len(lat),
        "commits_per_s": round(len(lat) / wall, 1),
        "p50_ms": round(statistics.median(lat) * 1000, 1),
        "p99_ms": round(lat[int(len(lat) * 0.99) - 1] * 1000, 1),
        "max_ms": round(lat[-1] * 1000, 1),
        "statuses": statuses,
        "errors": errors,
    }


def run(
    db: str,
    seconds: float,
    conns: int,
    workers: int,
    pg_settings: list[str],
    rate: float | None = None,
) -> dict[str, Any]:
    with ExitStack() as stack:
        pg_url, pg_pid = None, None
        if db == "postgresql":
            pg_url, pg_pid = stack.enter_context(throwaway_postgres(pg_settings))
        root = Path(tempfile.mkdtemp(prefix=f"bench-pos-{db}-"))
        stack.callback(shutil.rmtree, root, ignore_errors=True)
        return _measure(root, db, pg_url, pg_pid, seconds, conns, workers, rate)
    raise AssertionError("unreachable")


def _measure(
    root: Path,
    db: str,
    pg_url: str | None,
    pg_pid: int | None,
    seconds: float,
    conns: int,
    workers: int,
    rate: float | None,
) -> dict[str, Any]:
    from storeops.loyalty import trial_balance

    api_key, engine = _prepare(root, db, pg_url)
    engine.dispose()
    with storeops_serve(root, workers=workers) as server:
        port = server.port  # type: ignore[attr-defined]
        asyncio.run(_drive(port, api_key, 3, conns, "warm"))
        before = _cpu(server.pid, pg_pid)
        result = asyncio.run(_drive(port, api_key, seconds, conns, "run", rate))
        after = _cpu(server.pid, pg_pid)
        load = [round(x, 2) for x in os.getloadavg()]
    n = result["commits"]
    result["cpu_ms_per_commit"] = {
        k: round((after[k] - before[k]) * 1000 / n, 2) for k in after if n
    }
    result["trial_balance"] = trial_balance(engine)
    result.update(db=db, workers=workers, connections=conns, load_average=load)
    engine.dispose()
    return result


def _cpu(server_pid: int, pg_pid: int | None) -> dict[str, float]:
    """CPU seconds so far: server processes, PostgreSQL, this load generator."""
    mine = resource.getrusage(resource.RUSAGE_SELF)
    used = {"server": tree_cpu(server_pid), "generator": mine.ru_utime + mine.ru_stime}
    if pg_pid is not None:
        used["postgresql"] = tree_cpu(pg_pid)
    return used


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--db", choices=["postgresql", "sqlite", "both"], default="both")
    parser.add_argument(
        "--workers", type=int, default=None,
        help="storeops serve --workers (default: 2 on PostgreSQL, 1 on SQLite: one writer)",
    )  # fmt: skip
    parser.add_argument(
        "--rate", type=float, default=None,
        help="open loop: commits per second to send (default: closed loop, as fast as answered)",
    )  # fmt: skip
    parser.add_argument(
        "--pg-setting", action="append", default=[], metavar="NAME=VALUE",
        help="a PostgreSQL setting for the benchmark's server (repeatable)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    dbs = ["postgresql", "sqlite"] if args.db == "both" else [args.db]
    for db in dbs:
        workers = args.workers or (2 if db == "postgresql" else 1)
        r = run(db, args.seconds, args.connections, workers, args.pg_setting, args.rate)
        print(json.dumps(r))
        ok = set(r["statuses"]) == {200} and all(v == 0 for v in r["trial_balance"].values())
        print(
            f"{db} ({r['mode']}): {r['commits_per_s']} commits/s, p50 {r['p50_ms']} ms, "
            f"p99 {r['p99_ms']} ms, "
            f"max {r['max_ms']} ms over {r['commits']} commits; all 200 and balanced: {ok}; "
            f"CPU ms/commit {r['cpu_ms_per_commit']}; {r['workers']} worker(s), "
            f"{r['connections']} connections; load {r['load_average']}"
        )
        if not ok:
            raise SystemExit(f"{db}: some commits failed or the ledger does not balance")


if __name__ == "__main__":
    main()
