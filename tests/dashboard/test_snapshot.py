"""The mart copy: it does not keep the warehouse from writers, and it notices changes."""

from __future__ import annotations

import subprocess
import sys
import time

import pyarrow as pa

from storeops.dashboard.snapshot import SnapshotCache, warehouse_stamp
from storeops.workspace import Workspace


def test_the_copy_leaves_the_warehouse_to_writers_and_follows_changes(
    demo_ws: Workspace,
) -> None:
    cache = SnapshotCache(demo_ws.settings, check_seconds=0)
    first = cache.get()
    assert not first.mart("mart_store_performance_daily").empty
    assert not first.live.empty
    # The dashboard holds no connection: a writer opens the file at once.
    with demo_ws.warehouse() as wh:
        wh.write_mart("mart_dashboard_probe", pa.table({"x": [1]}))
    assert warehouse_stamp(demo_ws.settings) != first.stamp
    assert cache.is_stale(first)
    cache.refresh_now()
    assert cache.get() is not first
    assert not cache.is_stale(cache.get())


def test_a_busy_writer_leaves_the_previous_copy_in_place(demo_ws: Workspace) -> None:
    """While another process holds the DuckDB file, a refresh gives up after its short
    wait and the pages keep the copy they have."""
    cache = SnapshotCache(demo_ws.settings, check_seconds=0, lock_wait_seconds=0.3)
    first = cache.get()
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True);"
         " time.sleep(30)", str(demo_ws.settings.warehouse_file)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        cache._refreshing = True
        cache._refresh()  # what the background thread runs
        assert time.monotonic() - started < 10
        assert cache.get() is first
    finally:
        holder.kill()
        holder.wait()
