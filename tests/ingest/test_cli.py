"""``storeops import`` and ``storeops quarantine`` through the Typer app."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from storeops.cli.main import app
from storeops.workspace import Workspace

from .helpers import write

runner = CliRunner()


def test_import_json_and_quarantine_commands(duckdb_workspace: Workspace, tmp_path: Path) -> None:
    ws = str(duckdb_workspace.root)
    stores = write(tmp_path / "src", "stores.csv", "store_id,name\nS1,One\nS2,\nS1,dup\n")
    result = runner.invoke(app, ["import", "stores", str(stores), "--json", "-w", ws])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {k: data[k] for k in ("rows_read", "loaded", "duplicates", "quarantined")} == {
        "rows_read": 3,
        "loaded": 1,
        "duplicates": 1,
        "quarantined": 1,
    }
    assert data["status"] == "loaded" and data["kind"] == "stores"
    assert data["first_errors"] == ["line 3: name is required but empty"]
    assert set(data) >= {"load_id", "file"}

    again = json.loads(
        runner.invoke(app, ["import", "stores", str(stores), "--json", "-w", ws]).stdout
    )
    assert (again["status"], again["loaded"], again["duplicates"]) == ("already_loaded", 0, 3)

    table = runner.invoke(app, ["import", "stores", str(stores), "-w", ws])
    assert table.exit_code == 0 and "already loaded" in table.stdout

    listed = json.loads(runner.invoke(app, ["quarantine", "list", "--json", "-w", ws]).stdout)
    assert [x["load_id"] for x in listed] == [data["load_id"]]
    shown = json.loads(
        runner.invoke(app, ["quarantine", "show", data["load_id"][:8], "--json", "-w", ws]).stdout
    )
    assert shown == [{"line": 3, "reason": "name is required but empty", "raw": "S2,"}]
    out = tmp_path / "fix.csv"
    exported = runner.invoke(
        app, ["quarantine", "export", data["load_id"][:8], "-o", str(out), "-w", ws]
    )
    assert exported.exit_code == 0, exported.output
    out.write_text(out.read_text(encoding="utf-8-sig").replace("S2,", "S2,Two"), encoding="utf-8")
    fixed = json.loads(
        runner.invoke(app, ["import", "stores", str(out), "--json", "-w", ws]).stdout
    )
    assert (fixed["rows_read"], fixed["loaded"], fixed["quarantined"]) == (1, 1, 0)


def test_cli_errors_exit_2_with_advice(duckdb_workspace: Workspace, tmp_path: Path) -> None:
    ws = str(duckdb_workspace.root)
    result = runner.invoke(app, ["import", "nope", str(tmp_path / "x.csv"), "-w", ws])
    assert result.exit_code == 2
    assert "choose one of" in result.output
    result = runner.invoke(app, ["quarantine", "show", "zzzz", "-w", ws])
    assert result.exit_code == 2 and "storeops quarantine list" in result.output
