"""``storeops zones`` from the command line."""

from __future__ import annotations

import json

from tests.analytics.test_zones import fill
from typer.testing import CliRunner

from storeops.cli.main import app
from storeops.workspace import Workspace

runner = CliRunner()


def test_zones_json(duckdb_workspace: Workspace) -> None:
    with duckdb_workspace.warehouse() as wh:
        fill(wh)
    result = runner.invoke(
        app,
        ["zones", "-w", str(duckdb_workspace.root), "--from", "2026-01-01", "--to", "2026-01-06"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "Z01" in result.output and "transitions" in result.output
    args = ["zones", "-w", str(duckdb_workspace.root), "--store", "S1", "--json"]
    out = json.loads(runner.invoke(app, args).stdout)
    # Default window: the 28 local days up to the last sighting (2026-01-06).
    assert (out["since"], out["until"]) == ("2025-12-10", "2026-01-07")
    # The wider window takes in d3's sighting at 23:55 on 12-31: one more entrance stay.
    visits = {z["zone_id"]: z["visits"] for z in out["zones"]}
    assert visits == {"Z01": 3, "Z02": 2, "Z03": 1}
    moves = {(t["from_zone"], t["to_zone"]): t["transitions"] for t in out["transitions"]}
    assert moves == {("Z01", "Z02"): 2, ("Z02", "Z03"): 1}


def test_zones_without_sightings_is_a_clear_error(duckdb_workspace: Workspace) -> None:
    result = runner.invoke(app, ["zones", "-w", str(duckdb_workspace.root)])
    assert result.exit_code == 2
    assert "no Wi-Fi sightings" in result.output
