"""Dashboard page latency on the demo workspace, against a static-file baseline.

    python bench/bench_dashboard.py [--workspace demo-workspace] [--requests 60]
                                    [--store S001]

Uses the demo workspace (building it with ``storeops demo`` when the folder does not
exist, refreshing its marts when the dashboard's are missing), creates the demo logins,
starts the real ``storeops serve`` (bench/serving.py) and logs in over HTTP like a
browser (CSRF token, session cookie). Then, one request at a time over loopback with
one keep-alive connection, ``--requests`` times each, round-robin so that background
work hits every page alike: every dashboard page for the whole chain and for
``--store``, the live-traffic JSON, and as baselines ``/health`` (a tiny JSON
answer) and ``/static/dashboard.css`` (a file). It prints p50/p95/max per page and
the p95 as a multiple of the ``/health`` p95, and one JSON line (``make bench``
collects it). The target is p95 < 300 ms for every page.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

from serving import storeops_serve
from storeops.dashboard.demo_logins import OWNER
from storeops.dashboard.routes import PAGES

TARGET_P95_MS = 300.0


def _storeops(*args: str) -> None:
    code = "from storeops.cli.main import main; main()"
    subprocess.run([sys.executable, "-c", code, *args], check=True)


def prepare(root: Path) -> None:
    if not root.exists():
        print(f"building the demo workspace in {root} (storeops demo) ...", flush=True)
        _storeops("demo", str(root), "--json")
    import duckdb

    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        tables = {t for (t,) in con.execute("SHOW TABLES").fetchall()}
    if "mart_dashboard_rfm" not in tables or "mart_kpi_daily" not in tables:
        print("refreshing the marts (storeops marts refresh) ...", flush=True)
        _storeops("marts", "refresh", "-w", str(root))
    _storeops("dashboard", "demo-logins", "-w", str(root), "--json")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def login(client: httpx.Client) -> None:
    client.get("/login")
    token = client.cookies.get("storeops_csrf")
    r = client.post("/login", data={"username": OWNER[0], "password": OWNER[1],
                                    "csrf_token": token or ""})  # fmt: skip
    if r.status_code != 303:
        raise SystemExit(f"login failed: {r.status_code} {r.text[:200]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workspace", type=Path, default=Path("demo-workspace"))
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--store", default="S001")
    args = parser.parse_args()
    root = args.workspace.resolve()
    prepare(root)

    urls: dict[str, str] = {
        "/health (baseline)": "/health",
        "/static/dashboard.css (baseline)": "/static/dashboard.css",
    }
    for page in PAGES:
        urls[f"/{page.slug} (all stores)"] = f"/{page.slug}?store=*&days=7"
        urls[f"/{page.slug} ({args.store})"] = f"/{page.slug}?store={args.store}&days=7"
    urls[f"/dashboard/api/live ({args.store})"] = f"/dashboard/api/live?store={args.store}"

    with storeops_serve(root) as server:
        base = f"http://127.0.0.1:{server.port}"  # type: ignore[attr-defined]
        with httpx.Client(base_url=base, follow_redirects=False, timeout=60) as client:
            login(client)
            for url in urls.values():  # warm-up: the mart copy, templates, first queries
                r = client.get(url)
                if r.status_code != 200:
                    raise SystemExit(f"{url} answered {r.status_code}: {r.text[:300]}")
            times: dict[str, list[float]] = {name: [] for name in urls}
            for _ in range(args.requests):
                for name, url in urls.items():
                    started = time.perf_counter()
                    r = client.get(url)
                    elapsed = (time.perf_counter() - started) * 1000
                    if r.status_code != 200:
                        raise SystemExit(f"{url} answered {r.status_code}")
                    times[name].append(elapsed)

    health_p95 = percentile(times["/health (baseline)"], 0.95)
    rows = []
    print(f"\n{args.requests} requests per URL, one at a time, loopback; times in ms")
    print(f"{'URL':<40} {'p50':>8} {'p95':>8} {'max':>8} {'p95 / health':>13}")
    for name, values in times.items():
        p50, p95 = statistics.median(values), percentile(values, 0.95)
        rows.append(
            {"url": name, "p50_ms": round(p50, 1), "p95_ms": round(p95, 1),
             "max_ms": round(max(values), 1), "ratio_to_health": round(p95 / health_p95, 1)}
        )  # fmt: skip
        print(f"{name:<40} {p50:8.1f} {p95:8.1f} {max(values):8.1f} {p95 / health_p95:12.1f}x")
    pages = [r for r in rows if "baseline" not in r["url"]]
    worst = max(pages, key=lambda r: r["p95_ms"])
    ok = worst["p95_ms"] < TARGET_P95_MS
    print(f"\nslowest page p95: {worst['url']} {worst['p95_ms']} ms — target < "
          f"{TARGET_P95_MS:.0f} ms {'met' if ok else 'NOT met'}")  # fmt: skip
    print(json.dumps({"bench": "dashboard", "requests": args.requests, "rows": rows,
                      "worst_p95_ms": worst["p95_ms"], "target_met": ok}))  # fmt: skip


if __name__ == "__main__":
    main()
