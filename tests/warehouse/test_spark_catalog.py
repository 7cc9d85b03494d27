"""Spark-only behaviour: the catalog rebuilt from the folders, the Python workers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest
from tests.conftest import require_backend

from storeops.workspace import init_workspace

REOPEN = """
import sys
from storeops.errors import SchemaError
from storeops.settings import load_settings
from storeops.warehouse import open_warehouse

wh = open_warehouse(load_settings(sys.argv[1]))
print("mart_ok", sorted(wh.to_pyarrow(wh.mart("mart_ok")).column("n").to_pylist()))
try:
    wh.mart("mart_broken")
except SchemaError:
    print("mart_broken missing")
"""


@pytest.mark.slow
def test_a_half_written_mart_does_not_break_opening(tmp_path: Path) -> None:
    require_backend("spark")
    ws = init_workspace(tmp_path / "ws", backend="spark")
    with ws.warehouse() as wh:
        wh.write_mart("mart_ok", pa.table({"n": [1, 2, 3]}))
        folder = Path(wh.path) / "mart_broken"  # a write that died before committing
    folder.mkdir()
    (folder / "part-00000.snappy.parquet.tmp").write_bytes(b"PAR1 cut short")

    result = subprocess.run(
        [sys.executable, "-c", REOPEN, str(ws.root)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.splitlines()[-2:] == ["mart_ok [1, 2, 3]", "mart_broken missing"]


def _interpreter(_: object) -> str:
    return sys.executable


def test_python_workers_run_this_interpreter(tmp_path: Path) -> None:
    """Workers need pyarrow and pandas: not whatever ``python3`` comes first on PATH."""
    require_backend("spark")
    ws = init_workspace(tmp_path / "ws", backend="spark")
    with ws.warehouse() as wh:
        session = wh.session  # type: ignore[attr-defined]
        used = session.sparkContext.parallelize([0], 1).map(_interpreter).collect()
    assert used == [sys.executable]
