"""The retention job removes raw text past its days, once."""

from __future__ import annotations

import os
from datetime import datetime

from tests.analytics.builders import add_rows
from typer.testing import CliRunner

from storeops.cli.main import app
from storeops.privacy.retention import apply_retention
from storeops.workspace import Workspace

NOW = datetime(2026, 6, 1)


def _quarantined(day: str) -> dict[str, object]:
    return {
        "load_id": "L",
        "kind": "customers",
        "file_name": "f.csv",
        "line": 2,
        "raw": "C1,13912345678",
        "reason": "bad",
        "created_at": datetime.fromisoformat(day),
    }


def test_retention(duckdb_workspace: Workspace) -> None:
    ws = duckdb_workspace
    with ws.warehouse() as wh:
        add_rows(wh, "quarantine", [_quarantined("2026-01-01"), _quarantined("2026-05-20")])
    old, new = ws.root / "outbox" / "old.json", ws.root / "outbox" / "new.json"
    old.write_text("{}")
    new.write_text("{}")
    os.utime(old, (datetime(2026, 4, 1).timestamp(),) * 2)
    os.utime(new, (datetime(2026, 5, 25).timestamp(),) * 2)
    done = apply_retention(ws, NOW)
    assert done == {"quarantine": 1, "failed_events": 0, "outbox_files": 1}
    assert apply_retention(ws, NOW) == {"quarantine": 0, "failed_events": 0, "outbox_files": 0}
    with ws.warehouse() as wh:
        left = wh.to_pandas(wh.table("quarantine"))["created_at"].tolist()
    assert [str(t)[:10] for t in left] == ["2026-05-20"]
    assert new.exists() and not old.exists()


def test_retention_command(duckdb_workspace: Workspace) -> None:
    out = CliRunner().invoke(app, ["privacy", "retention", "-w", str(duckdb_workspace.root),
                                   "--json"])  # fmt: skip
    assert out.exit_code == 0, out.output
    assert '"quarantine": 0' in out.stdout
