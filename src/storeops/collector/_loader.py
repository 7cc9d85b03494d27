"""The spool loader: sealed segments into the warehouse, exactly once per messageId.

Per segment, in one warehouse ``transaction()``:

1. requests whose ``batch_id`` is already in ``collector_batches`` are skipped (the
   segment was loaded before a crash could retire it);
2. events: the first per ``(source_id, message_id)`` in the segment, minus those
   already in ``events``, are appended;
3. refused events go to ``failed_events`` (minus ``(batch_id, position)`` already
   there), and one ``collector_batches`` row per request records its counters and
   how many of its events were new (``loaded``) or already stored
   (``load_duplicates``).

Then the segment moves to ``spool/loaded/``. A crash anywhere leaves either the
whole segment in the warehouse or none of it (DuckDB); loading it again adds nothing
twice on any backend, because every step anti-joins on a natural key and the
``collector_batches`` row comes last.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa
import pyarrow.compute as pc

from storeops.collector._spool import CORRUPT, LOADED, read_records, sealed, segments
from storeops.warehouse.base import Warehouse
from storeops.workspace import Workspace

log = logging.getLogger("storeops.collector")


@dataclass
class LoadReport:
    """What one :func:`load_spool` call did."""

    segments: int = 0
    batches: int = 0
    already_loaded_batches: int = 0
    events_loaded: int = 0
    load_duplicates: int = 0
    failed_events: int = 0
    skipped_active: int = 0
    corrupt_lines: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def load_spool(ws: Workspace) -> LoadReport:
    """Load every sealed spool segment; the active one (held by a writer) waits."""
    spool = ws.folder("spool")
    report = LoadReport()
    pending = segments(spool)
    if pending:
        with ws.warehouse() as wh:
            for path in pending:
                with sealed(path) as free:
                    if not free:
                        report.skipped_active += 1
                        continue
                    load_segment(wh, path, report)
                    _retire(path)
                    report.segments += 1
    # Loaded segments only serve the door's memory after a restart: keep them for its
    # window, and no more bytes than its key budget could use (~512 bytes an event).
    settings = ws.settings
    _prune(
        spool, settings.collector_dedupe_hours * 3600.0, settings.collector_dedupe_max_keys * 512
    )
    return report


def _retire(path: Path) -> None:
    target = path.parent / LOADED
    target.mkdir(exist_ok=True)
    path.rename(target / path.name)
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _prune(spool: Path, keep_seconds: float, keep_bytes: int) -> None:
    cutoff = time.time() - keep_seconds
    kept = 0
    for path in reversed(segments(spool, loaded=True)):  # newest first
        stat = path.stat()
        kept += stat.st_size
        if stat.st_mtime < cutoff or kept > keep_bytes:
            path.unlink(missing_ok=True)


def _flatten(records: pa.Table, column: str) -> tuple[pa.StructArray, pa.Array]:
    lists = records.column(column).combine_chunks()
    return pc.list_flatten(lists), pc.list_parent_indices(lists)


def load_segment(wh: Warehouse, path: Path, report: LoadReport) -> None:
    bad: list[bytes] = []
    records = read_records(path, bad_lines=bad)
    if bad:
        folder = path.parent / CORRUPT
        folder.mkdir(exist_ok=True)
        with (folder / path.name).open("ab") as fh:
            fh.writelines(bad)
        log.error("%d damaged spool line(s) of %s kept in %s", len(bad), path.name, folder)
        report.corrupt_lines += len(bad)
    if records.num_rows == 0:
        return
    with wh.transaction():
        ids = wh.stage(pa.table({"batch_id": records.column("b")}))
        done = wh.to_pyarrow(
            wh.table("collector_batches").select("batch_id").semi_join(ids, "batch_id")
        ).column("batch_id")
        if len(done):
            keep = pc.invert(pc.is_in(records.column("b"), value_set=done.combine_chunks()))
            report.already_loaded_batches += len(done)
            records = records.filter(keep)
        if records.num_rows == 0:
            return
        received = pc.cast(records.column("r"), pa.timestamp("us"))

        flat, parent = _flatten(records, "e")
        events = pa.table(
            {
                "source_id": pc.take(records.column("s"), parent),
                "message_id": pc.struct_field(flat, "m"),
                "type": pc.struct_field(flat, "y"),
                "event": pc.struct_field(flat, "e"),
                "user_id": pc.struct_field(flat, "u"),
                "anonymous_id": pc.struct_field(flat, "a"),
                "ts": pc.cast(pc.struct_field(flat, "t"), pa.timestamp("us")),
                "properties": pc.struct_field(flat, "p"),
                "context": pc.struct_field(flat, "c"),
                "batch_id": pc.take(records.column("b"), parent),
                "seq": pa.array(range(len(flat)), pa.int64()),
            }
        )
        loaded_per_batch: dict[str, int] = {}
        if events.num_rows:
            staged = wh.stage(events)
            first = staged.mutate(
                _rn=ibis.row_number().over(
                    group_by=[staged.source_id, staged.message_id], order_by=staged.seq
                )
            ).filter(lambda t: t._rn == 0)
            stored = wh.table("events").select("source_id", "message_id")
            new = wh.to_pyarrow(first.anti_join(stored, ["source_id", "message_id"]).drop("_rn"))
            if new.num_rows:
                wh.append("events", new)
                counts = pc.value_counts(new.column("batch_id").combine_chunks())
                loaded_per_batch = dict(
                    zip(
                        counts.field("values").to_pylist(),
                        counts.field("counts").to_pylist(),
                        strict=True,
                    )
                )

        flat_x, parent_x = _flatten(records, "x")
        if len(flat_x):
            failures = pa.table(
                {
                    "batch_id": pc.take(records.column("b"), parent_x),
                    "position": pc.struct_field(flat_x, "i"),
                    "source_id": pc.take(records.column("s"), parent_x),
                    "received_at": pc.take(received, parent_x),
                    "message_id": pc.struct_field(flat_x, "m"),
                    "type": pc.struct_field(flat_x, "y"),
                    "code": pc.struct_field(flat_x, "k"),
                    "reason": pc.struct_field(flat_x, "w"),
                    "raw": pc.struct_field(flat_x, "raw"),
                }
            )
            staged_x = wh.stage(failures)
            new_x = staged_x.anti_join(
                wh.table("failed_events").select("batch_id", "position"),
                ["batch_id", "position"],
            )
            new_failures = wh.to_pyarrow(new_x)
            wh.append("failed_events", new_failures)
            report.failed_events += new_failures.num_rows

        batch_ids = records.column("b").to_pylist()
        loaded = [loaded_per_batch.get(b, 0) for b in batch_ids]
        accepted = records.column("ac").to_pylist()
        batches = pa.table(
            {
                "batch_id": records.column("b"),
                "source_id": records.column("s"),
                "endpoint": records.column("ep"),
                "received_at": received,
                "status": records.column("st"),
                "received": records.column("n"),
                "accepted": records.column("ac"),
                "duplicates": records.column("d"),
                "failed": records.column("f"),
                "loaded": pa.array(loaded, pa.int64()),
                "load_duplicates": pa.array(
                    [a - n for a, n in zip(accepted, loaded, strict=True)], pa.int64()
                ),
                "segment": pa.array([path.name] * records.num_rows, pa.string()),
            }
        )
        wh.append("collector_batches", batches)
    report.batches += records.num_rows
    report.events_loaded += sum(loaded)
    report.load_duplicates += sum(accepted) - sum(loaded)
