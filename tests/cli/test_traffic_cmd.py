"""``storeops traffic summary``, ``performance`` and ``benchmark`` from the command line."""

from __future__ import annotations

import json

from tests.analytics.builders import add_rows
from tests.analytics.test_performance import fill
from tests.analytics.test_traffic import _fill, count
from typer.testing import CliRunner

from storeops.cli.main import app
from storeops.workspace import Workspace

runner = CliRunner()


def test_summary_json(duckdb_workspace: Workspace) -> None:
    with duckdb_workspace.warehouse() as wh:
        _fill(wh)
        add_rows(wh, "traffic_counts", [count("S1", "E1", "2025-01-06 02:00", 9, 0)])
    root = str(duckdb_workspace.root)
    args = ["traffic", "summary", "-w", root, "--from", "2026-01-05", "--to", "2026-01-06"]
    result = runner.invoke(app, [*args, "--by", "week", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert set(out) == {"from", "to", "by", "buckets", "stores", "previous", "last_year"}
    assert out["buckets"][0] == {
        "store_id": "S1",
        "bucket": "2026-01-05",
        "entries": 27,
        "exits": 8,
        "passers_by": 52,
        "capture_rate": 18 / 70,  # E1 only: 18 entries, 52 passers-by
    }
    s1 = out["stores"]["S1"]
    assert (s1["entries"], s1["peak_hours"]) == (27, [10])
    assert s1["entrances"]["E2"]["relative_to_busiest"] == 0.5
    assert out["previous"]["stores"]["S1"]["entries"] == 2
    yoy = out["last_year"]
    assert (yoy["from"], yoy["to"], yoy["reason"]) == (
        "2025-01-06",
        "2025-01-07",
        "weekday-aligned",
    )
    assert yoy["stores"]["S1"]["entries"] == 9
    assert yoy["stores"]["S1"]["entries_change_pct"] == 2.0  # 27 vs 9
    assert yoy["stores"]["S2"]["entries_change_pct"] is None

    table = runner.invoke(app, [*args, "--store", "S1"])
    assert table.exit_code == 0, table.output
    assert "10:00" in table.stdout
    assert "vs last year" in table.stdout
    assert "+200.0%" in table.stdout
    assert "2025-01-06 … 2025-01-07 (weekday-aligned)" in table.stdout


def test_defaults_to_the_last_four_weeks_and_checks_by(duckdb_workspace: Workspace) -> None:
    with duckdb_workspace.warehouse() as wh:
        _fill(wh)
    root = str(duckdb_workspace.root)
    out = json.loads(runner.invoke(app, ["traffic", "summary", "-w", root, "--json"]).stdout)
    assert (out["from"], out["to"]) == ("2025-12-10", "2026-01-06")
    bad = runner.invoke(app, ["traffic", "summary", "-w", root, "--by", "year"])
    assert bad.exit_code != 0
    unknown = runner.invoke(app, ["traffic", "summary", "-w", root, "--store", "S9"])
    assert unknown.exit_code == 2
    assert "no counter readings for store 'S9'" in unknown.output


def test_performance_and_benchmark(duckdb_workspace: Workspace) -> None:
    with duckdb_workspace.warehouse() as wh:
        fill(wh)
    root = str(duckdb_workspace.root)
    span = ["-w", root, "--from", "2026-01-05", "--to", "2026-01-06"]
    result = runner.invoke(
        app, ["traffic", "performance", *span, "--store", "S1", "--by", "hour", "--json"]
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert (out["from"], out["to"], out["by"]) == ("2026-01-05", "2026-01-06", "hour")
    ten = next(r for r in out["rows"] if r["bucket"] == "2026-01-05 10:00")
    assert (ten["entries"], ten["transactions"], ten["staff_hours"], ten["star"]) == (
        25,
        1,
        2,
        12.5,
    )
    table = runner.invoke(app, ["traffic", "performance", "-w", root])
    assert table.exit_code == 0, table.output
    assert "¥20.00" in table.stdout  # S3: ATV 2000 fen
    bad = runner.invoke(app, ["traffic", "performance", "-w", root, "--by", "week"])
    assert bad.exit_code != 0

    bench = runner.invoke(app, ["traffic", "benchmark", *span, "--json"])
    assert bench.exit_code == 0, bench.output
    stores = json.loads(bench.stdout)["stores"]
    assert [stores[s]["metrics"]["conversion"]["rank"] for s in ("S1", "S2", "S3")] == [3, 1, 1]
    assert stores["S1"]["metrics"]["conversion"]["target"] == 0.06
    shown = runner.invoke(app, ["traffic", "benchmark", "-w", root])
    assert shown.exit_code == 0, shown.output
    assert "conversion" in shown.stdout


def test_performance_on_an_empty_workspace(duckdb_workspace: Workspace) -> None:
    root = str(duckdb_workspace.root)
    out = json.loads(runner.invoke(app, ["traffic", "performance", "-w", root, "--json"]).stdout)
    assert out["rows"] == []
    bench = json.loads(runner.invoke(app, ["traffic", "benchmark", "-w", root, "--json"]).stdout)
    assert bench["stores"] == {}
