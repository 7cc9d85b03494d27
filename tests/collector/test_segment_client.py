"""The official Segment client (segment-analytics-python) against a real server."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from segment.analytics.client import Client

from storeops.collector import collector_stats, load_spool

from .helpers import collector_workspace, new_source, running_server, stored_events


def test_official_client_events_arrive_exactly_once(tmp_path: Path) -> None:
    ws = collector_workspace(tmp_path / "ws")
    key = new_source(ws)
    errors: list[Exception] = []
    sent: list[str] = []
    with running_server(ws) as url:
        for gzip in (False, True):
            client = Client(
                key,
                host=url,
                gzip=gzip,
                upload_size=37,  # several batches per flush
                max_retries=2,
                on_error=lambda exc, batch: errors.append(exc),
                sync_mode=False,
            )
            for i in range(250):
                user = f"user-{i % 17}"
                _, msg = client.track(
                    user, "Product Viewed", {"sku": f"SKU-{i}", "phone": "13800138001"}
                )
                sent.append(msg["messageId"])
            _, msg = client.identify("user-1", {"email": "li@example.com", "tier": "gold"})
            sent.append(msg["messageId"])
            _, msg = client.page("user-1", "Shop", "Home", {"path": "/"})
            sent.append(msg["messageId"])
            _, msg = client.screen("user-2", "App", "Cart")
            sent.append(msg["messageId"])
            _, msg = client.group("user-1", "club-1", {"name": "VIP"})
            sent.append(msg["messageId"])
            _, msg = client.alias("user-9", "anon-9")
            sent.append(msg["messageId"])
            client.flush()
            client.shutdown()
    assert errors == []
    report = load_spool(ws)
    assert report.events_loaded == len(sent) == 2 * 255
    stored = stored_events(ws)
    assert Counter(stored) == Counter(("app", m) for m in sent)
    (row,) = collector_stats(ws)
    assert row["received"] == row["accepted"] == row["loaded"] == len(sent)
    assert row["duplicates"] == row["failed"] == 0
    with ws.warehouse() as wh:
        props = wh.to_pandas(wh.table("events").select("type", "properties"))
    text = " ".join(props["properties"].dropna())
    assert "13800138001" not in text and "li@example.com" not in text
    assert "bi:phone:" in text and "bi:email:" in text
    assert set(props["type"]) == {"track", "identify", "page", "screen", "group", "alias"}
