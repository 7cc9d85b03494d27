"""Collector throughput and latency: batches of 100 events over loopback, durable.

    .venv/bin/python bench/bench_collector.py [--seconds 15] [--rate 50000] [--connections 16]

Starts `storeops serve` (uvicorn, one worker, the real app: validation, PII policy,
dedupe, group-committed fsync before every 200) in a subprocess on a fresh workspace,
then drives it from a second process with raw keep-alive HTTP/1.1 connections
(asyncio streams; requests built from a byte template so the generator costs little
CPU next to the server). Every event has a fresh messageId, realistic properties and
a Segment-style context; one event in ``--pii-every`` (default 10) carries a unique
phone number that the PII policy hashes (``--pii-every 1``: all of them, the worst
case).

Two phases, each reported as events/s and batch latency p50/p99/max:

- **open loop** at ``--rate`` events/s: requests are sent on a fixed schedule and
  latency is measured from the scheduled time (no coordinated omission), so a server
  that falls behind shows it in p99;
- **closed loop**: ``--connections`` connections send as fast as answers come back,
  for the maximum sustained rate.

Then the spool is loaded into the warehouse and the event count is checked. The
machine's load average is printed with the figures: the CPU is shared.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from serving import storeops_serve

# One batch template; "#B#" becomes a 7-digit batch number per request (one bytes
# replace instead of formatting 100 events), so every messageId and phone is unique.
EVENT = (
    '{"type":"track","event":"Product Viewed","messageId":"bench-%d-#B#-%d",'
    '"userId":"user-%d","timestamp":"2025-06-18T10:15:00.123Z",'
    '"properties":{"sku":"SKU-%d","price_fen":12900,"store_id":"S00%d",'
    '"channel":"mini_program",%s"campaign":"618-warmup"},'
    '"context":{"library":{"name":"analytics-python","version":"2.3.4"},'
    '"ip":"10.0.%d.%d","locale":"zh-CN","page":{"path":"/p/%d"}}}'
)


def _template(worker: int, size: int, pii_every: int) -> bytes:
    def phone(n: int) -> str:
        return f'"phone":"13#B#{n:02d}",' if pii_every and n % pii_every == 0 else ""

    events = ",".join(
        EVENT % (worker, n, n * 37 % 5000, n % 97, n % 9, phone(n), n, n * 7 % 250, n)
        for n in range(size)
    )
    return ('{"batch":[' + events + '],"sentAt":"2025-06-18T10:15:01Z"}').encode()


def _body(template: bytes, batch_number: int) -> bytes:
    return template.replace(b"#B#", b"%07d" % batch_number)


def _request(body: bytes, auth: str) -> bytes:
    head = (
        "POST /v1/batch HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Authorization: {auth}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _answer(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    await reader.readexactly(length)
    return status


async def _drive(
    port: int,
    auth: str,
    worker: int,
    seconds: float,
    rate: float | None,
    conns: int,
    batch: int,
    pii_every: int,
) -> dict[str, Any]:
    """Open loop when ``rate`` (events/s for this process) is given, else closed loop."""
    streams = [await asyncio.open_connection("127.0.0.1", port) for _ in range(conns)]
    latencies: list[float] = []
    errors = 0
    counter = 0
    start = time.perf_counter()
    end = start + seconds
    interval = batch / rate if rate else 0.0
    template = _template(worker, batch, pii_every)
    queue: asyncio.Queue[float] = asyncio.Queue()

    async def one(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, due: float) -> None:
        nonlocal counter, errors
        n = counter
        counter += 1
        writer.write(_request(_body(template, n), auth))
        status = await _answer(reader)
        latencies.append(time.perf_counter() - due)
        if status != 200:
            errors += 1

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            if rate:
                due = await queue.get()
                if due < 0:
                    return
            else:
                due = time.perf_counter()
                if due >= end:
                    return
            await one(reader, writer, due)

    tasks = [asyncio.create_task(connection(r, w)) for r, w in streams]
    if rate:
        k = 0
        while True:
            due = start + k * interval
            if due >= end:
                break
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            queue.put_nowait(due)
            k += 1
        for _ in tasks:
            queue.put_nowait(-1.0)
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    for _, w in streams:
        w.close()
    return {
        "events": len(latencies) * batch,
        "elapsed": elapsed,
        "lat": latencies,
        "errors": errors,
    }


def _worker(args: tuple[int, str, int, float, float | None, int, int, int], out: Any) -> None:
    out.put(asyncio.run(_drive(*args)))


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc), including its threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _phase(
    port: int,
    auth: str,
    *,
    seconds: float,
    rate: float | None,
    conns: int,
    procs: int,
    tag: int,
    server_pid: int,
    pii_every: int = 10,
) -> dict[str, Any]:
    out: Any = mp.Queue()
    per_rate = rate / procs if rate else None
    workers = [
        mp.Process(
            target=_worker,
            args=((port, auth, tag * 100 + i, seconds, per_rate, conns, 100, pii_every), out),
        )
        for i in range(procs)
    ]
    load_before = os.getloadavg()[0]
    cpu_before = _cpu_seconds(server_pid)
    for w in workers:
        w.start()
    results = [out.get() for _ in workers]
    for w in workers:
        w.join()
    server_cpu = _cpu_seconds(server_pid) - cpu_before
    lat = sorted(x for r in results for x in r["lat"])
    elapsed = max(r["elapsed"] for r in results)
    events = sum(r["events"] for r in results)
    q = statistics.quantiles(lat, n=100)
    return {
        "events": events,
        "events_per_s": round(events / elapsed),
        "batches": len(lat),
        "p50_ms": round(q[49] * 1000, 1),
        "p99_ms": round(q[98] * 1000, 1),
        "max_ms": round(lat[-1] * 1000, 1),
        "errors": sum(r["errors"] for r in results),
        # CPU the server used: how many events one core handles, whatever the sharing.
        "server_cpu_s": round(server_cpu, 2),
        "events_per_server_cpu_s": round(events / server_cpu) if server_cpu else None,
        "load_avg_before": round(load_before, 2),
        "load_avg_after": round(os.getloadavg()[0], 2),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--rate", type=float, default=50_000.0, help="open-loop events/s")
    parser.add_argument("--connections", type=int, default=16, help="per load process")
    parser.add_argument("--procs", type=int, default=1, help="load-generator processes")
    parser.add_argument(
        "--pii-every",
        type=int,
        default=10,
        help="one event in N carries a (unique) phone number to hash; 1 = every event",
    )
    parser.add_argument(
        "--load-interval",
        type=float,
        default=60.0,
        help="seconds between the server's spool loads (serve's default: 60)",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    from storeops.collector import add_source, load_spool
    from storeops.privacy.crypto import generate_key
    from storeops.workspace import init_workspace, open_workspace

    root = Path(tempfile.mkdtemp(prefix="bench-collector-", dir=os.environ.get("BENCH_DIR")))
    try:
        init_workspace(root)
        with (root / "storeops.toml").open("a", encoding="utf-8") as fh:
            fh.write(f'blind_index_key = "{generate_key()}"\n')
            fh.write(f"collector_load_interval_seconds = {args.load_interval}\n")
        ws = open_workspace(root)
        key = add_source(ws, "bench")
        import base64

        auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
        with storeops_serve(root) as server:
            port = server.port  # type: ignore[attr-defined]
            # Warm up (imports, first segment), then measure.
            _phase(port, auth, seconds=2, rate=None, conns=4, procs=1, tag=9, server_pid=server.pid)
            results = {
                "open_loop": _phase(
                    port, auth, seconds=args.seconds, rate=args.rate,
                    conns=args.connections, procs=args.procs, tag=1, server_pid=server.pid,
                    pii_every=args.pii_every,
                ),
                "closed_loop": _phase(
                    port, auth, seconds=args.seconds, rate=None,
                    conns=args.connections, procs=args.procs, tag=2, server_pid=server.pid,
                    pii_every=args.pii_every,
                ),
            }  # fmt: skip
        spool_bytes = sum(p.stat().st_size for p in (root / "spool").rglob("seg-*.jsonl"))
        started = time.perf_counter()
        report = load_spool(ws)
        load_s = time.perf_counter() - started
        expected = results["open_loop"]["events"] + results["closed_loop"]["events"]
        results["load"] = {
            "events_loaded": report.events_loaded,
            "seconds": round(load_s, 2),
            "events_per_s": round(report.events_loaded / load_s) if load_s else None,
            "spool_mb": round(spool_bytes / 1e6, 1),
        }
        results["cpus"] = os.cpu_count()
        with ws.warehouse() as wh:
            stored = wh.count("events")
        results["load"]["events_in_warehouse"] = stored
        # Warm-up events are stored too; the server may have loaded part already.
        assert stored >= expected, (stored, expected)
        if args.json:
            print(json.dumps(results, indent=2))
            return
        for name in ("open_loop", "closed_loop"):
            r = results[name]
            print(
                f"{name:12s} {r['events_per_s']:>8,} events/s  batches {r['batches']:>6,}  "
                f"p50 {r['p50_ms']:6.1f} ms  p99 {r['p99_ms']:6.1f} ms  max {r['max_ms']:6.1f} ms"
                f"  errors {r['errors']}  server {r['events_per_server_cpu_s']:,} events/CPU-s"
                f"  load avg {r['load_avg_before']}→{r['load_avg_after']}"
            )
        ld = results["load"]
        print(
            f"loader       {ld['events_loaded']:,} events in {ld['seconds']} s "
            f"({ld['events_per_s']:,} events/s; spool {ld['spool_mb']} MB); "
            f"{ld['events_in_warehouse']:,} events in the warehouse"
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
