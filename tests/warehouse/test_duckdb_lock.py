"""No process blocks another forever on the DuckDB file: a bounded wait, then a clear
error naming the process that holds the lock."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from storeops.errors import LockTimeoutError, StoreOpsError
from storeops.settings import load_settings
from storeops.warehouse import open_warehouse
from storeops.workspace import Workspace

HOLD = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
"""


@pytest.fixture
def holder(duckdb_workspace: Workspace) -> Iterator[subprocess.Popen[str]]:
    """A second process that opens the warehouse file and keeps it locked."""
    path = load_settings(duckdb_workspace.root).warehouse_file
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path), "60"], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "locked"
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait(timeout=30)


def test_lock_held_by_another_process_times_out_naming_it(
    duckdb_workspace: Workspace, holder: subprocess.Popen[str]
) -> None:
    settings = load_settings(duckdb_workspace.root, lock_timeout_seconds=0.6)
    started = time.monotonic()
    with pytest.raises(LockTimeoutError) as info:
        open_warehouse(settings)
    waited = time.monotonic() - started
    assert 0.6 <= waited < 3.0
    message = str(info.value)
    assert f"process {holder.pid}" in message
    assert str(settings.warehouse_file) in message
    assert "STOREOPS_LOCK_TIMEOUT_SECONDS" in message
    assert isinstance(info.value, StoreOpsError)
    assert isinstance(info.value, TimeoutError)


def test_waiter_gets_the_file_once_the_holder_exits(duckdb_workspace: Workspace) -> None:
    path = load_settings(duckdb_workspace.root).warehouse_file
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path), "1.0"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "locked"
        settings = load_settings(duckdb_workspace.root, lock_timeout_seconds=30)
        with open_warehouse(settings) as wh:
            assert wh.count("stores") == 0
    finally:
        proc.kill()
        proc.wait(timeout=30)


def test_a_writer_waits_for_a_reader_of_the_same_process(duckdb_workspace: Workspace) -> None:
    """DuckDB refuses to open a file twice in one process with different settings (a
    read-only reader, such as the dashboard's snapshot, and a writer): the writer
    waits for the reader to close, within the lock timeout."""
    import threading

    from storeops.warehouse.duckdb_backend import DuckDBWarehouse

    settings = load_settings(duckdb_workspace.root, lock_timeout_seconds=30)
    reader = DuckDBWarehouse(settings, read_only=True)
    closer = threading.Timer(0.5, reader.close)
    closer.start()
    started = time.monotonic()
    try:
        with open_warehouse(settings) as wh:
            assert wh.count("stores") == 0
    finally:
        closer.join()
    assert time.monotonic() - started >= 0.4  # it did wait for the reader

    reader = DuckDBWarehouse(settings, read_only=True)
    try:
        with pytest.raises(LockTimeoutError, match="this process"):
            open_warehouse(load_settings(duckdb_workspace.root, lock_timeout_seconds=0.3))
    finally:
        reader.close()
