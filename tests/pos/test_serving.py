"""What serving the POS at rate relies on: keys remembered briefly (revocation still
honoured), an idempotency key in flight refused across processes, background jobs in
one worker of ``storeops serve --workers N``, and that serve answering commits."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine

from storeops.access import create_key, revoke_key
from storeops.api import auth
from storeops.api.app import create_app
from storeops.cli import serve_cmd
from storeops.loyalty import StoredValue, enrol
from storeops.loyalty.ledger import InFlightError, run_once
from storeops.workspace import Workspace

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from serving import storeops_serve

LINE = {"sku": "A1", "unit_price_fen": 15_000, "quantity": 1}


def _commit(order: str) -> dict[str, Any]:
    return {"store_id": "S1", "order_id": order, "lines": [LINE], "member_id": "M1",
            "stored_value_fen": 1_000}  # fmt: skip


def test_a_revoked_key_stops_working_once_its_cache_entry_expires(
    duckdb_workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = duckdb_workspace.ops_engine()
    enrol(engine, "M1")
    StoredValue(engine, bonuses=()).top_up("M1", 10_000, key="top")
    made = create_key(engine, "till", "pos", store_id="S1")
    app = create_app(duckdb_workspace, route_modules=("storeops.api.routes.pos",))
    till = TestClient(app, headers={"Authorization": f"Bearer {made['key']}"})
    now = [1_000.0]
    monkeypatch.setattr(auth.time, "monotonic", lambda: now[0])
    headers = {"Idempotency-Key": "serve-key-0001"}
    assert till.post("/api/pos/commit", json=_commit("O1"), headers=headers).status_code == 200
    revoke_key(engine, made["prefix"])
    now[0] += auth.KEY_CACHE_SECONDS - 1  # still remembered: the documented bound
    headers = {"Idempotency-Key": "serve-key-0002"}
    assert till.post("/api/pos/commit", json=_commit("O2"), headers=headers).status_code == 200
    now[0] += 2  # past the bound: asked again, and refused
    headers = {"Idempotency-Key": "serve-key-0003"}
    refused = till.post("/api/pos/commit", json=_commit("O3"), headers=headers)
    assert refused.status_code == 401 and "revoked" in refused.text
    unknown = TestClient(app, headers={"Authorization": "Bearer so_nothing_here"})
    assert (
        unknown.post("/api/pos/quote", json={"store_id": "S1", "lines": [LINE]}).status_code == 401
    )


def test_a_key_in_flight_is_refused_across_processes_on_postgresql(ops_engine: Engine) -> None:
    """Two serving processes share nothing but the database: the second request with
    the key of a transaction still running gets InFlightError at once, not a wait."""
    if ops_engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer: the second request waits and replays")
    inside, release = threading.Event(), threading.Event()
    answers: list[dict[str, Any]] = []

    def slow(con: Connection, txn_id: int) -> dict[str, Any]:
        inside.set()
        assert release.wait(10)
        return {"done": True}

    def first() -> None:
        answers.append(run_once(ops_engine, kind="pos_commit", key="k-in-flight",
                                payload={"a": 1}, work=slow, exclusive=True))  # fmt: skip

    worker = threading.Thread(target=first)
    worker.start()
    assert inside.wait(10)
    started = time.monotonic()
    with pytest.raises(InFlightError, match="still being processed"):
        run_once(ops_engine, kind="pos_commit", key="k-in-flight", payload={"a": 1},
                 work=lambda con, txn: {"done": False}, exclusive=True)  # fmt: skip
    assert time.monotonic() - started < 2  # refused at once
    release.set()
    worker.join(10)
    again = run_once(ops_engine, kind="pos_commit", key="k-in-flight", payload={"a": 1},
                     work=lambda con, txn: {"done": False}, exclusive=True)  # fmt: skip
    assert again == answers[0] and again["done"] is True  # then replayed


def test_one_process_owns_the_background_jobs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(serve_cmd, "_held", [])
    probe = (
        "import sys; from pathlib import Path; from storeops.cli.serve_cmd import "
        "owns_background_jobs as o; print(o(Path(sys.argv[1])))"
    )

    def other_process() -> str:
        return subprocess.run([sys.executable, "-c", probe, str(tmp_path)], check=True,
                              capture_output=True, text=True).stdout.strip()  # fmt: skip

    assert serve_cmd.owns_background_jobs(tmp_path) is True
    assert serve_cmd.owns_background_jobs(tmp_path) is True  # still ours
    assert other_process() == "False"
    for fh in serve_cmd._held:
        fh.close()  # this worker stops: the lock goes with it
    serve_cmd._held.clear()
    assert other_process() == "True"


def _keep_alive_latencies(port: int, n: int = 8) -> list[float]:
    """Seconds per ``GET /health`` on one keep-alive connection."""
    out = []
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        for _ in range(n):
            started = time.perf_counter()
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: test\r\n\r\n")
            data = b""
            while b"\r\n\r\n" not in data:
                data += sock.recv(4096)
            head, _, body = data.partition(b"\r\n\r\n")
            length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length")))  # fmt: skip
            while len(body) < length:
                body += sock.recv(4096)
            out.append(time.perf_counter() - started)
    return out


def test_the_workers_socket_says_tcp_so_answers_go_out_without_delay() -> None:
    """asyncio sets TCP_NODELAY only on connections of a socket made with IPPROTO_TCP;
    without it each answer waited for the client's delayed ACK (~40 ms)."""
    config = serve_cmd.TcpConfig("storeops.cli.serve_cmd:served_app", port=0, workers=2)
    sock = config.bind_socket()
    try:
        assert sock.proto == socket.IPPROTO_TCP and sock.get_inheritable()
    finally:
        sock.close()


def test_serve_with_two_workers_answers_commits(duckdb_workspace: Workspace) -> None:
    engine = duckdb_workspace.ops_engine()
    enrol(engine, "M1")
    StoredValue(engine, bonuses=()).top_up("M1", 10_000, key="top")
    key = create_key(engine, "till", "pos", store_id="S1")["key"]
    with storeops_serve(duckdb_workspace.root, workers=2) as server:
        port = server.port
        answers = []
        for n in range(4):
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/api/pos/commit",
                data=json.dumps(_commit(f"W{n}")).encode(),
                headers={
                    "Authorization": f"Bearer {key}",
                    "Content-Type": "application/json",
                    "Idempotency-Key": f"two-workers-{n}",
                },
            )
            with urllib.request.urlopen(request, timeout=30) as answer:
                answers.append(json.loads(answer.read()))
        assert min(_keep_alive_latencies(port)) < 0.03  # no ~40 ms stall per answer
    assert [a["order_id"] for a in answers] == ["W0", "W1", "W2", "W3"]
    assert StoredValue(engine).balance("M1") == 6_000
    assert (duckdb_workspace.root / serve_cmd.JOBS_LOCK).exists()
