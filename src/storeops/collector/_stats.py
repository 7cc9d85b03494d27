"""``collector_stats``: the counters, loaded (warehouse) plus pending (spool).

Per source: ``received = accepted + duplicates + failed`` (at the door), and
``accepted = loaded + load_duplicates + pending`` (after the loader).
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from storeops.collector._spool import read_records, segments
from storeops.workspace import Workspace

COUNTERS = ("requests", "refused_requests", "received", "accepted", "duplicates", "failed")
UNAUTHORIZED = "(no valid key)"


def _empty() -> dict[str, int]:
    return dict.fromkeys(
        (*COUNTERS, "loaded", "load_duplicates", "pending_events", "pending_requests"), 0
    )


def collector_stats(ws: Workspace) -> list[dict[str, Any]]:
    """One row per source (requests without a valid key under ``(no valid key)``)."""
    rows: dict[str, dict[str, int]] = {}
    with ws.warehouse() as wh:
        t = wh.table("collector_batches")
        loaded = wh.to_pyarrow(
            t.group_by(source_id=t.source_id.fill_null(UNAUTHORIZED)).aggregate(
                requests=t.count(),
                refused_requests=(t.status >= 400).cast("int64").sum(),
                received=t.received.sum(),
                accepted=t.accepted.sum(),
                duplicates=t.duplicates.sum(),
                failed=t.failed.sum(),
                loaded=t.loaded.sum(),
                load_duplicates=t.load_duplicates.sum(),
            )
        ).to_pylist()
        for row in loaded:
            source = row.pop("source_id")
            rows[source] = {**_empty(), **{k: int(v or 0) for k, v in row.items()}}
        spool = ws.folder("spool")
        for path in segments(spool):
            headers = read_records(path, header_only=True)
            if headers.num_rows == 0:
                continue
            ids = wh.stage(pa.table({"batch_id": headers.column("b")}))
            done = wh.to_pyarrow(t.select("batch_id").semi_join(ids, "batch_id"))["batch_id"]
            if len(done):
                keep = pc.invert(pc.is_in(headers.column("b"), value_set=done.combine_chunks()))
                headers = headers.filter(keep)
            for rec in headers.to_pylist():
                row = rows.setdefault(rec["s"] or UNAUTHORIZED, _empty())
                row["requests"] += 1
                row["refused_requests"] += int(rec["st"] >= 400)
                row["received"] += rec["n"]
                row["accepted"] += rec["ac"]
                row["duplicates"] += rec["d"]
                row["failed"] += rec["f"]
                row["pending_events"] += rec["ac"]
                row["pending_requests"] += 1
    return [{"source_id": s, **rows[s]} for s in sorted(rows)]


def recent_failures(
    ws: Workspace, *, source: str | None = None, code: str | None = None, limit: int = 20
) -> list[dict[str, Any]]:
    """The newest loaded ``failed_events`` rows (pending ones are still in the spool)."""
    with ws.warehouse() as wh:
        t = wh.table("failed_events")
        if source is not None:
            t = t.filter(t.source_id == source)
        if code is not None:
            t = t.filter(t.code == code)
        t = t.order_by([t.received_at.desc(), t.batch_id, t.position]).limit(limit)
        rows = wh.to_pyarrow(t).to_pylist()
    for row in rows:
        row["received_at"] = row["received_at"].isoformat() if row["received_at"] else None
    return rows
