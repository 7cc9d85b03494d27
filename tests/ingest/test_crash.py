"""SIGKILL during an import leaves the warehouse exactly as before the file (DuckDB)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from storeops.ingest import import_file
from storeops.workspace import Workspace, open_workspace

ROWS = 300_000
SCRIPT = """
import sys
from storeops.ingest import import_file
from storeops.workspace import open_workspace
import_file(open_workspace(sys.argv[1]), "orders", sys.argv[2])
print("done", flush=True)
"""


def _state(ws: Workspace) -> tuple[int, int, int]:
    with ws.warehouse() as wh:
        return wh.count("orders"), wh.count("quarantine"), wh.count("load_records")


@pytest.mark.slow
def test_sigkill_mid_import_is_all_or_nothing(duckdb_workspace: Workspace, tmp_path: Path) -> None:
    ws = duckdb_workspace
    stores = tmp_path / "stores.csv"
    stores.write_text("store_id,name\nS1,One\n", encoding="utf-8")
    import_file(ws, "stores", stores)
    big = tmp_path / "orders.csv"
    con = duckdb.connect()
    # every 1000th row is bad, so rows, quarantine and load record are all written
    con.execute(
        f"""COPY (SELECT 'O' || i AS order_id, 'S1' AS store_id,
                   '2025-01-01 10:00:00' AS ts,
                   CASE WHEN i % 1000 = 0 THEN 'x' ELSE (i % 5000)::VARCHAR END AS total_fen
            FROM range({ROWS}) r(i)) TO '{big}' (HEADER)"""
    )
    con.close()
    before = _state(ws)
    after = (ROWS - ROWS // 1000, ROWS // 1000, before[2] + 1)
    script = tmp_path / "run_import.py"
    script.write_text(SCRIPT, encoding="utf-8")

    # Time a complete run first, then kill at fractions of it (reading, validating,
    # writing, committing).
    start = time.monotonic()
    probe = subprocess.run(
        [sys.executable, str(script), str(ws.root), str(big)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    full = time.monotonic() - start
    assert "done" in probe.stdout
    assert _state(ws) == after
    # Start again from an empty warehouse for the kill runs.
    for name in ("warehouse.duckdb", "warehouse.duckdb.wal"):
        (ws.root / name).unlink(missing_ok=True)
    import_file(ws, "stores", stores)
    before = _state(ws)
    after = (ROWS - ROWS // 1000, ROWS // 1000, before[2] + 1)

    outcomes = set()
    for fraction in (0.3, 0.6, 0.75, 0.85, 0.92, 0.97):
        proc = subprocess.Popen(
            [sys.executable, str(script), str(ws.root), str(big)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        time.sleep(full * fraction)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
        state = _state(open_workspace(ws.root))  # opens (and recovers) fine
        assert state in (before, after), f"killed at {fraction:.0%}: {state}"
        outcomes.add(state == after)
        if state == after:
            # The file is in: importing it again changes nothing.
            again = import_file(ws, "orders", big)
            assert again.status == "already_loaded"
            assert _state(ws) == after
            break
    assert False in outcomes  # at least one kill really interrupted the import
