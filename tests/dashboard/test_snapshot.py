"""The mart copy: it does not keep the warehouse from writers, and it notices changes."""

from __future__ import annotations

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
