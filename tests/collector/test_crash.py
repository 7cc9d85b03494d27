"""SIGKILL of `storeops serve` (and of the child process its scheduler loads the spool
with) in the middle of a spool load loses nothing that was acknowledged, and nothing is
stored twice (subprocess test, DuckDB)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from storeops.collector import Collector, collector_stats, load_spool
from storeops.collector._spool import segments
from storeops.workspace import Workspace

from .helpers import auth, collector_workspace, new_source, stored_events, track

PREFILL_SEGMENTS = 30
BATCHES_PER_SEGMENT = 40


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(ws: Workspace, port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-c", "from storeops.cli.main import main; main()", "serve",
         "--port", str(port), "--log-level", "warning", "-w", str(ws.root)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group: the server and its loader
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.1)
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
    raise AssertionError("storeops serve did not start")


class Sender(threading.Thread):
    """Sends fresh batches until stopped; remembers what was acknowledged."""

    def __init__(self, url: str, key: str, start_id: int) -> None:
        super().__init__(daemon=True)
        self.url, self.key, self.next_id = url, key, start_id
        self.acked: list[str] = []
        self.bodies: list[bytes] = []
        self.stop = threading.Event()

    def run(self) -> None:
        with httpx.Client(base_url=self.url, headers=auth(self.key), timeout=10) as client:
            while not self.stop.is_set():
                events = [track(self.next_id + i) for i in range(100)]
                self.next_id += 100
                body = json.dumps({"batch": events}).encode()
                try:
                    res = client.post("/v1/batch", content=body)
                except httpx.TransportError:
                    return  # the server is gone
                if res.status_code == 200:
                    self.acked += [e["messageId"] for e in events]
                    self.bodies.append(body)


@pytest.mark.slow
def test_sigkill_during_a_load_loses_nothing_acknowledged(tmp_path: Path) -> None:
    ws = collector_workspace(
        tmp_path / "ws", collector_load_interval_seconds=1.0, collector_segment_seconds=0.5
    )
    key = new_source(ws)
    # A spool with many sealed segments, so the server's first load takes a while and
    # can be caught half-way (some segments retired, some not).
    collector = Collector(ws).start()
    prefilled: list[str] = []
    for s in range(PREFILL_SEGMENTS):
        for b in range(BATCHES_PER_SEGMENT):
            first = (s * BATCHES_PER_SEGMENT + b) * 100
            events = [track(first + i) for i in range(100)]
            answer = collector.ingest_sync(
                "batch", json.dumps({"batch": events}).encode(), auth(key)
            )
            assert answer.status == 200
            prefilled += [e["messageId"] for e in events]
        collector.writer.rotate_and_wait()
    collector.close()
    spool = ws.folder("spool")
    total = len(segments(spool))
    assert total >= PREFILL_SEGMENTS

    port = _free_port()
    server = _serve(ws, port)
    sender = Sender(f"http://127.0.0.1:{port}", key, start_id=10_000_000)
    sender.start()
    deadline = time.monotonic() + 120
    while True:
        retired = len(segments(spool, loaded=True))
        if 0 < retired < total // 2:
            break  # the load is under way
        assert time.monotonic() < deadline, "the server never started loading"
        time.sleep(0.005)
    # Kill everything: the server and the child process it loads the spool with.
    os.killpg(server.pid, signal.SIGKILL)
    server.wait(timeout=30)
    sender.stop.set()
    sender.join(timeout=30)
    assert 0 < len(segments(spool, loaded=True)) < total  # really mid-load
    assert sender.acked, "nothing was acknowledged while the load ran"

    # Restart: replays of everything acknowledged are recognised, nothing is lost.
    server = _serve(ws, port)
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=auth(key)) as client:
        for body in sender.bodies[:50]:
            res = client.post("/v1/batch", content=body)
            assert res.status_code == 200 and res.json()["accepted"] == 0
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=60)
    load_spool(ws)

    stored = Counter(m for _, m in stored_events(ws))
    assert max(stored.values()) == 1, "an event was stored twice"
    missing = [m for m in prefilled + sender.acked if m not in stored]
    assert missing == [], f"{len(missing)} acknowledged events were lost"
    (row,) = collector_stats(ws)
    assert row["received"] == row["accepted"] + row["duplicates"] + row["failed"]
    assert row["loaded"] == len(stored) and row["pending_events"] == 0
