"""``storeops members import|show``, ``points expire``, ``tiers evaluate``."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from storeops.cli.main import app
from storeops.loyalty import PointsLedger
from storeops.privacy.crypto import generate_key, generate_keyring
from storeops.workspace import Workspace

runner = CliRunner()


def test_members_import_and_jobs(
    duckdb_workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STOREOPS_ENCRYPTION_KEY", generate_keyring())
    monkeypatch.setenv("STOREOPS_BLIND_INDEX_KEY", generate_key())
    root = str(duckdb_workspace.root)
    csv = tmp_path / "members.csv"
    csv.write_text(
        "member_id,store_id,phone,birthday\n"
        "M1,S1,13912345678,1990-05-17\n"
        "M2,S1,13912345678,\n"  # the same phone: refused
        "M3,S2,,1991-13-01\n"  # not a date: refused
        ",S1,,\n",  # no id: refused
        encoding="utf-8",
    )
    first = runner.invoke(app, ["members", "import", str(csv), "-w", root, "--json"])
    assert first.exit_code == 0, first.output
    out = json.loads(first.stdout)
    assert (out["rows_read"], out["enrolled"], out["existing"]) == (4, 1, 0)
    assert [r["line"] for r in out["refused"]] == [3, 4, 5]
    again = json.loads(runner.invoke(app, ["members", "import", str(csv), "-w", root,
                                           "--json"]).stdout)  # fmt: skip
    assert (again["enrolled"], again["existing"]) == (0, 1)
    shown = json.loads(runner.invoke(app, ["members", "show", "M1", "-w", root]).stdout)
    assert (shown["phone"], shown["enrolled_via"]) == ("139****5678", "import")

    engine = duckdb_workspace.ops_engine()
    PointsLedger(engine).earn("M1", 9_000, key="e1", reference="O1", at=datetime(2026, 1, 1))
    tiers = runner.invoke(app, ["tiers", "evaluate", "--as-of", "2026-02-01", "-w", root, "--json"])
    assert json.loads(tiers.stdout)[0]["to"] == "gold"
    expired = runner.invoke(
        app, ["points", "expire", "--as-of", "2027-01-02", "-w", root, "--json"]
    )
    assert json.loads(expired.stdout) == {"lots": 1, "points": 9_000}
    bad = runner.invoke(app, ["points", "expire", "--as-of", "tomorrow", "-w", root])
    assert bad.exit_code == 2
