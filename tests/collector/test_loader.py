"""Spool → warehouse: exactly once per (source, messageId), whatever the replays."""

from __future__ import annotations

import json
import random
import shutil
from collections import Counter
from pathlib import Path

import pytest

from storeops.collector import Collector, collector_stats, load_spool
from storeops.collector._spool import segments
from storeops.workspace import Workspace

from .helpers import auth, collector_workspace, new_source, stored_events, track


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return collector_workspace(tmp_path / "ws")


def _batches(n_batches: int, per_batch: int = 100) -> list[bytes]:
    return [
        json.dumps({"batch": [track(b * per_batch + i) for i in range(per_batch)]}).encode()
        for b in range(n_batches)
    ]


def test_batches_replayed_three_times_in_shuffled_order_store_each_event_once(
    ws: Workspace,
) -> None:
    key = new_source(ws)
    batches = _batches(20)
    plays = batches * 3
    random.Random(7).shuffle(plays)
    collector = Collector(ws).start()
    try:
        # Restart the collector half-way: the door must remember what it acknowledged.
        for body in plays[:30]:
            assert collector.ingest_sync("batch", body, auth(key)).status == 200
        collector.close()
        collector = Collector(ws).start()
        for body in plays[30:]:
            assert collector.ingest_sync("batch", body, auth(key)).status == 200
    finally:
        collector.close()
    load_spool(ws)
    stored = stored_events(ws)
    assert len(stored) == 2000
    assert Counter(stored).most_common(1)[0][1] == 1
    (row,) = collector_stats(ws)
    assert row["received"] == 6000
    assert row["accepted"] == 2000 and row["duplicates"] == 4000 and row["failed"] == 0
    assert row["loaded"] == 2000 and row["load_duplicates"] == 0


def test_repeats_older_than_the_door_window_are_dropped_by_the_loader(tmp_path: Path) -> None:
    ws = collector_workspace(tmp_path / "ws", collector_dedupe_hours=0)
    key = new_source(ws)
    body = _batches(1, 50)[0]
    for _ in range(3):
        collector = Collector(ws).start()  # a fresh door each time, nothing retained
        assert collector.ingest_sync("batch", body, auth(key)).body["accepted"] == 50
        collector.close()
        load_spool(ws)
        shutil.rmtree(ws.folder("spool") / "loaded", ignore_errors=True)
    assert len(stored_events(ws)) == 50
    (row,) = collector_stats(ws)
    assert row["accepted"] == 150 and row["loaded"] == 50 and row["load_duplicates"] == 100
    assert row["received"] == row["accepted"] + row["duplicates"] + row["failed"]


def test_a_segment_loaded_again_after_a_crash_adds_nothing(ws: Workspace) -> None:
    key = new_source(ws)
    collector = Collector(ws).start()
    for body in _batches(3, 10):
        collector.ingest_sync("batch", body, auth(key))
    bad = {"batch": [track(99, ts="not a time")]}
    collector.ingest_sync("batch", json.dumps(bad).encode(), auth(key))
    collector.close()
    (segment,) = segments(ws.folder("spool"))
    copy = segment.read_bytes()
    first = load_spool(ws)
    assert first.events_loaded == 30 and first.failed_events == 1
    # As if the process died after the commit but before the segment was retired.
    segment.write_bytes(copy)
    again = load_spool(ws)
    assert again.already_loaded_batches == 4 and again.events_loaded == 0
    assert len(stored_events(ws)) == 30
    with ws.warehouse() as wh:
        assert wh.count("failed_events") == 1
        assert wh.count("collector_batches") == 4


def test_torn_tail_is_ignored_and_active_segment_waits(ws: Workspace) -> None:
    key = new_source(ws)
    collector = Collector(ws).start()
    try:
        collector.ingest_sync("batch", _batches(1, 5)[0], auth(key))
        # The writer holds its segment: the loader leaves it alone.
        report = load_spool(ws)
        assert report.skipped_active == 1 and report.events_loaded == 0
        collector.writer.rotate_and_wait()
    finally:
        collector.close()
    (segment,) = segments(ws.folder("spool"))
    with segment.open("ab") as fh:
        fh.write(b'{"b":"torn","s":"app","e":[{"m":"x"')  # a crash mid-write
    report = load_spool(ws)
    assert report.events_loaded == 5 and report.batches == 1
    assert len(stored_events(ws)) == 5


def test_pending_events_are_counted_until_loaded(ws: Workspace) -> None:
    key = new_source(ws)
    collector = Collector(ws).start()
    collector.ingest_sync("batch", _batches(1, 8)[0], auth(key))
    collector.close()
    (row,) = collector_stats(ws)
    assert row["pending_events"] == row["accepted"] == 8 and row["loaded"] == 0
    load_spool(ws)
    (row,) = collector_stats(ws)
    assert row["pending_events"] == 0 and row["loaded"] == 8


def test_loader_is_exactly_once_on_every_backend(tmp_path: Path, backend: str) -> None:
    ws = collector_workspace(tmp_path / f"ws-{backend}", backend=backend)
    key = new_source(ws)
    collector = Collector(ws).start()
    for body in _batches(2, 10):
        collector.ingest_sync("batch", body, auth(key))
    bad = json.dumps({"batch": [track(1), track(50, ts="later")]}).encode()
    collector.ingest_sync("batch", bad, auth(key))
    collector.close()
    (segment,) = segments(ws.folder("spool"))
    copy = segment.read_bytes()
    assert load_spool(ws).events_loaded == 20
    segment.write_bytes(copy)  # loaded again, as after a crash before retiring it
    assert load_spool(ws).events_loaded == 0
    assert sorted(stored_events(ws)) == sorted(("app", f"m-{i}") for i in range(20))
    (row,) = collector_stats(ws)
    assert (row["received"], row["accepted"], row["duplicates"], row["failed"]) == (22, 20, 1, 1)
    assert row["loaded"] == 20


def test_the_door_remembers_at_most_its_key_budget(tmp_path: Path) -> None:
    ws = collector_workspace(tmp_path / "ws", collector_dedupe_max_keys=100)
    key = new_source(ws)
    collector = Collector(ws).start()
    try:
        bodies = _batches(10, 30)
        for body in bodies:
            assert collector.ingest_sync("batch", body, auth(key)).body["accepted"] == 30
        assert len(collector._seen) <= 100 + 30
        # The latest batch is still remembered; the first one was forgotten ...
        assert collector.ingest_sync("batch", bodies[-1], auth(key)).body["duplicates"] == 30
        assert collector.ingest_sync("batch", bodies[0], auth(key)).body["accepted"] == 30
    finally:
        collector.close()
    # ... and the loader drops it instead.
    load_spool(ws)
    assert len(stored_events(ws)) == 300
    (row,) = collector_stats(ws)
    assert row["load_duplicates"] == 30 and row["loaded"] == 300
    # After a restart the door is seeded from the spool, newest first, within budget.
    collector = Collector(ws).start()
    try:
        assert 0 < len(collector._seen) <= 100 + 30
        assert collector.ingest_sync("batch", bodies[-1], auth(key)).body["duplicates"] == 30
    finally:
        collector.close()


def test_a_damaged_line_is_set_aside_and_the_rest_loads(ws: Workspace) -> None:
    key = new_source(ws)
    collector = Collector(ws).start()
    bodies = _batches(3, 10)
    collector.ingest_sync("batch", bodies[0], auth(key))
    collector.close()
    (segment,) = segments(ws.folder("spool"))
    with segment.open("ab") as fh:
        fh.write(b'{"b":"x","e":[{"m": nonsense}]}\n')  # damaged on disk
    collector = Collector(ws).start()  # seeding skips the damaged line too
    collector.ingest_sync("batch", bodies[1], auth(key))
    collector.close()
    text = segment.read_bytes()
    segment.write_bytes(text + segments(ws.folder("spool"))[-1].read_bytes())
    segments(ws.folder("spool"))[-1].unlink()
    report = load_spool(ws)
    assert report.events_loaded == 20 and report.corrupt_lines == 1
    assert (ws.folder("spool") / "corrupt" / segment.name).read_bytes().startswith(b'{"b":"x"')
