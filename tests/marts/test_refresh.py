"""The mart refresh registry: every step runs, in order, and ranges reach ranged steps."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from tests.analytics import test_performance
from typer.testing import CliRunner

from storeops.cli.main import app
from storeops.marts import refresh
from storeops.marts.refresh import MART_STEPS, MartRefreshError, MartStep, refresh_marts
from storeops.marts.traffic_daily import PERFORMANCE_MART, TRAFFIC_MART
from storeops.warehouse import Warehouse
from storeops.workspace import Workspace


def test_every_step_runs_in_order(duckdb_workspace: Workspace) -> None:
    with duckdb_workspace.warehouse() as wh:
        test_performance.fill(wh)
    results = refresh_marts(duckdb_workspace, progress=False)
    assert [r.name for r in results] == [s.name for s in MART_STEPS]
    by_name = {r.name: r.rows for r in results}
    assert by_name[PERFORMANCE_MART] == 4  # see tests/marts/test_traffic_daily.py
    with duckdb_workspace.warehouse() as wh:
        stored = set(wh.con.list_tables())
    assert {s.name for s in MART_STEPS if s.name.startswith("mart_")} <= stored


def test_range_goes_to_ranged_steps_only(
    duckdb_workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, date | None, date | None]] = []

    def whole(ws: Workspace, wh: Warehouse) -> int:
        calls.append(("whole", None, None))
        return 1

    def ranged(ws: Workspace, wh: Warehouse, a: date | None, b: date | None) -> int:
        calls.append(("ranged", a, b))
        return 2

    steps = (MartStep("a", whole), MartStep("b", whole, ranged))
    monkeypatch.setattr(refresh, "MART_STEPS", steps)
    day = date(2026, 1, 5)
    results = refresh_marts(duckdb_workspace, date_from=day, date_to=day, progress=False)
    assert [(r.name, r.rows) for r in results] == [("a", 1), ("b", 2)]
    assert calls == [("whole", None, None), ("ranged", day, day)]
    calls.clear()
    refresh_marts(duckdb_workspace, only=["b"], progress=False)
    assert calls == [("whole", None, None)]  # no range: the whole build
    with pytest.raises(MartRefreshError, match="unknown mart step"):
        refresh_marts(duckdb_workspace, only=["nope"], progress=False)
    with pytest.raises(MartRefreshError, match="swap"):
        refresh_marts(duckdb_workspace, date_from=day, date_to=date(2026, 1, 1), progress=False)


def test_cli_refresh(duckdb_workspace: Workspace, tmp_path: Path) -> None:
    with duckdb_workspace.warehouse() as wh:
        test_performance.fill(wh)
    root = str(duckdb_workspace.root)
    runner = CliRunner()
    args = ["marts", "refresh", "-w", root, "--from", "2026-01-05", "--to", "2026-01-05"]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["from"] == out["to"] == "2026-01-05"
    rows = {s["mart"]: s["rows"] for s in out["steps"]}
    assert rows[PERFORMANCE_MART] == 3  # S1, S2 and S3 on Jan 5 only
    assert TRAFFIC_MART in rows
    table = runner.invoke(app, ["marts", "refresh", "-w", root, "--only", TRAFFIC_MART])
    assert table.exit_code == 0, table.output
    assert "Marts refreshed" in table.output
    bad = runner.invoke(app, ["marts", "refresh", "-w", root, "--only", "nope"])
    assert bad.exit_code == 2 and "unknown mart step" in bad.output
    listed = runner.invoke(app, ["marts", "steps", "--json"])
    assert json.loads(listed.stdout) == [s.name for s in MART_STEPS]
