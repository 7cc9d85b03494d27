"""`storeops sources add|list|revoke` and `storeops collector load|stats`."""

from __future__ import annotations

import json
from pathlib import Path

from tests.collector.helpers import auth, collector_workspace, track
from typer.testing import CliRunner

from storeops.cli.main import app
from storeops.collector import Collector

runner = CliRunner()


def test_sources_and_collector_commands(tmp_path: Path) -> None:
    ws = collector_workspace(tmp_path / "ws")
    w = ["-w", str(ws.root)]
    added = runner.invoke(app, ["sources", "add", "mini-program", "--name", "Mini", "--json", *w])
    assert added.exit_code == 0, added.output
    key = json.loads(added.output)["write_key"]
    assert key.startswith("wk_")
    again = runner.invoke(app, ["sources", "add", "mini-program", *w])
    assert again.exit_code == 2 and "already exists" in again.output
    bad = runner.invoke(app, ["sources", "add", "Bad Id!", *w])
    assert bad.exit_code == 2 and "not valid" in bad.output

    listed = json.loads(runner.invoke(app, ["sources", "list", "--json", *w]).output)
    assert [(s["source_id"], s["active"]) for s in listed] == [("mini-program", True)]
    assert key not in json.dumps(listed)  # the key is never shown again

    collector = Collector(ws).start()
    body = json.dumps({"batch": [track(1), track(2), track(2), track(3, ts="later")]}).encode()
    assert collector.ingest_sync("batch", body, auth(key)).status == 200
    collector.close()
    loaded = runner.invoke(app, ["collector", "load", "--json", *w])
    assert json.loads(loaded.output)["events_loaded"] == 2
    stats = json.loads(runner.invoke(app, ["collector", "stats", "--json", *w]).output)
    assert stats[0]["source_id"] == "mini-program"
    assert (stats[0]["received"], stats[0]["accepted"], stats[0]["duplicates"]) == (4, 2, 1)
    failures = json.loads(runner.invoke(app, ["collector", "failures", "--json", *w]).output)
    assert [(f["position"], f["code"], f["message_id"]) for f in failures] == [
        (3, "bad_timestamp", "m-3")
    ]
    assert '"timestamp":"later"' in failures[0]["raw"]
    none = runner.invoke(app, ["collector", "failures", "--code", "unauthorized", "--json", *w])
    assert json.loads(none.output) == []
    assert runner.invoke(app, ["collector", "failures", *w]).exit_code == 0
    table = runner.invoke(app, ["collector", "stats", *w])
    assert table.exit_code == 0 and "received = accepted" in table.output

    assert runner.invoke(app, ["sources", "revoke", "mini-program", *w]).exit_code == 0
    gone = runner.invoke(app, ["sources", "revoke", "mini-program", *w])
    assert gone.exit_code == 2 and "no active source" in gone.output
    listed = json.loads(runner.invoke(app, ["sources", "list", "--json", *w]).output)
    assert listed[0]["active"] is False
