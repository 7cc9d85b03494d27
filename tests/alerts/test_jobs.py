"""The scheduler of ``storeops serve``: its lifespan starts the evaluation and delivery
jobs, and both jobs are CLI commands that answer JSON in a child process."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from storeops.api import jobs
from storeops.api.app import create_app
from storeops.api.routes import alerts as alerts_routes
from storeops.notify import Notification, enqueue, ensure_outbox_channel
from storeops.workspace import Workspace


def test_the_lifespan_runs_evaluation_and_delivery(
    duckdb_workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[list[str]] = []

    async def fake_run_job(args: list[str], what: str) -> dict[str, Any]:
        calls.append(args)
        return {}

    monkeypatch.setattr(alerts_routes, "run_job", fake_run_job)
    monkeypatch.setattr(alerts_routes, "EVALUATE_EVERY_SECONDS", 0.05)
    monkeypatch.setattr(alerts_routes, "DELIVER_EVERY_SECONDS", 0.05)
    app = create_app(duckdb_workspace, route_modules=["storeops.api.routes.alerts"])
    with TestClient(app):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len({tuple(c[:2]) for c in calls}) < 2:
            time.sleep(0.05)
    root = str(duckdb_workspace.root)
    assert ["alerts", "evaluate", "--json", "-w", root] in calls
    assert ["channels", "deliver", "--json", "-w", root] in calls


def test_the_delivery_job_answers_json(duckdb_workspace: Workspace) -> None:
    engine = duckdb_workspace.ops_engine()
    ensure_outbox_channel(engine)
    enqueue(engine, "outbox", Notification(subject="from the job", dedup_key="job-1"))
    args = ["channels", "deliver", "--json", "-w", str(duckdb_workspace.root)]
    answer = asyncio.run(jobs.run_job(args, "notification delivery"))
    assert answer is not None and answer["sent"] == 1
    assert len(list((duckdb_workspace.root / "outbox").glob("*.json"))) == 1
