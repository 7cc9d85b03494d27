"""``storeops serve`` refreshes the marts on a schedule (yesterday and today)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from storeops.api.app import ROUTE_MODULES, create_app
from storeops.api.routes import marts
from storeops.workspace import Workspace


def test_args_are_local_yesterday_and_today() -> None:
    # 2026-03-01 17:30 UTC is already 03-02 in Shanghai.
    now = datetime(2026, 3, 1, 17, 30, tzinfo=UTC)
    assert marts.refresh_args("/ws", "Asia/Shanghai", now) == [
        "marts", "refresh", "--from", "2026-03-01", "--to", "2026-03-02", "--json", "-w", "/ws",
    ]  # fmt: skip
    assert marts.refresh_args("/ws", "UTC", now)[2:6] == [
        "--from", "2026-02-28", "--to", "2026-03-01",
    ]  # fmt: skip


def test_serve_runs_the_refresh(
    duckdb_workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "storeops.api.routes.marts" in ROUTE_MODULES
    calls: list[tuple[list[str], str]] = []

    async def fake_run_job(args: list[str], what: str) -> dict[str, Any]:
        calls.append((args, what))
        return {}

    monkeypatch.setattr(marts, "REFRESH_EVERY_SECONDS", 0.05)
    monkeypatch.setattr(marts, "run_job", fake_run_job)
    app = create_app(duckdb_workspace, route_modules=["storeops.api.routes.marts"])
    with TestClient(app):
        deadline = time.monotonic() + 5
        while len(calls) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    assert len(calls) >= 2
    args, what = calls[0]
    assert (args[:2], args[-2:], what) == (
        ["marts", "refresh"],
        ["-w", str(duckdb_workspace.root)],
        "mart refresh",
    )
    stopped = len(calls)
    time.sleep(0.2)
    assert len(calls) == stopped  # the job ends with the server
    off = create_app(duckdb_workspace, route_modules=["storeops.api.routes.marts"],
                     background_jobs=False)  # fmt: skip
    with TestClient(off):
        time.sleep(0.2)
    assert len(calls) == stopped
