"""``storeops traffic forecast``, ``staffing`` and ``zones`` from the command line."""

from __future__ import annotations

import json

from tests.analytics.test_zones import fill as fill_zones
from tests.forecast.test_staffing import _fill
from typer.testing import CliRunner

from storeops.cli.main import app
from storeops.marts.traffic_forecast import FORECAST_MART
from storeops.workspace import Workspace

runner = CliRunner()


def test_forecast_json_and_mart(duckdb_workspace: Workspace) -> None:
    with duckdb_workspace.warehouse() as wh:
        _fill(wh)
    root = str(duckdb_workspace.root)
    result = runner.invoke(app, ["traffic", "forecast", "-w", root, "--days", "3", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert (out["grain"], out["history_to"], out["horizon_days"]) == ("day", "2026-03-29", 3)
    assert [r["ds"] for r in out["forecast"]] == ["2026-03-30", "2026-03-31", "2026-04-01"]
    assert all(abs(r["entries"] - 60) < 0.5 for r in out["forecast"])
    assert out["backtest"] is None
    hourly = runner.invoke(
        app, ["traffic", "forecast", "-w", root, "--days", "1", "--by", "hour", "--json"]
    )
    rows = json.loads(hourly.stdout)["forecast"]
    assert len(rows) == 24
    assert {r["ds"][-5:]: round(r["entries"]) for r in rows if r["entries"] > 0} == {
        "10:00": 40,
        "11:00": 20,
    }
    with duckdb_workspace.warehouse() as wh:
        assert wh.to_pandas(wh.mart(FORECAST_MART))["grain"].value_counts().to_dict() == {
            "hour": 24,
            "day": 1,
        }
    table = runner.invoke(app, ["traffic", "forecast", "-w", root, "--days", "2", "--backtest",
                                "--windows", "1"])  # fmt: skip
    assert table.exit_code == 0, table.output
    assert "Backtest" in table.output and "MASE" in table.output


def test_staffing_json_and_errors(duckdb_workspace: Workspace) -> None:
    with duckdb_workspace.warehouse() as wh:
        _fill(wh)
    root = str(duckdb_workspace.root)
    args = ["traffic", "staffing", "-w", root, "--target", "10", "--json"]
    out = json.loads(runner.invoke(app, args).stdout)
    assert out["week_start"] == "2026-03-30" and out["target_star"] == 10
    assert out["stores"][0]["staff_hours"] == 7 * (4 + 2)
    text = runner.invoke(app, ["traffic", "staffing", "-w", root])
    assert text.exit_code == 0 and "Staff per hour" in text.output
    bad = runner.invoke(app, ["traffic", "staffing", "-w", root, "--week", "2026-03-31"])
    assert bad.exit_code == 2 and "give a Monday" in bad.output
    bad_day = runner.invoke(app, ["traffic", "forecast", "-w", root, "--to", "31/03/2026"])
    assert bad_day.exit_code == 2 and "YYYY-MM-DD" in bad_day.output


def test_traffic_zones_is_the_zones_command(duckdb_workspace: Workspace) -> None:
    with duckdb_workspace.warehouse() as wh:
        fill_zones(wh)
    root = str(duckdb_workspace.root)
    base = ["-w", root, "--from", "2026-01-01", "--to", "2026-01-06", "--json"]
    via_traffic = runner.invoke(app, ["traffic", "zones", *base])
    direct = runner.invoke(app, ["zones", *base])
    assert via_traffic.exit_code == 0, via_traffic.output
    assert json.loads(via_traffic.stdout) == json.loads(direct.stdout)
    assert json.loads(direct.stdout)["zones"]
