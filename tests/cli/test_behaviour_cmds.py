"""``storeops funnel``, ``retention`` and ``paths`` from the command line."""

from __future__ import annotations

import json

from tests.behaviour.builders import add_events, ev
from typer.testing import CliRunner

from storeops.cli.main import app
from storeops.workspace import Workspace

runner = CliRunner()
PV, PA, OC = "Product Viewed", "Product Added", "Order Completed"
DAY = 86_400


def fill(ws: Workspace) -> None:
    with ws.warehouse() as wh:
        add_events(
            wh,
            [
                ev(PV, anon="a", user="u1", at=0, props={"store_id": "S1"}),
                ev(PA, anon="a", at=60),
                ev(OC, anon="a", at=120),
                ev(PV, anon="b", at=0, props={"store_id": "S2"}),
                ev(PA, anon="b", at=60),
                ev(PV, anon="c", at=0, props={"store_id": "S1"}),
                ev(PV, anon="a", at=8 * DAY),
            ],
        )


def invoke(ws: Workspace, *args: str) -> dict:  # type: ignore[type-arg]
    result = runner.invoke(app, [*args, "-w", str(ws.root), "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_funnel_json(duckdb_workspace: Workspace) -> None:
    fill(duckdb_workspace)
    out = invoke(
        duckdb_workspace, "funnel", "--steps", f"{PV},{PA},{OC}", "--window", "7d", "--by", "store"
    )
    assert [(s["name"], s["count"]) for s in out["steps"]] == [(PV, 3), (PA, 2), (OC, 1)]
    assert out["steps"][1]["conversion_from_previous"] == round(2 / 3, 6)
    assert out["conversion_rate"] == round(1 / 3, 6)
    by = {b["value"]: [s["count"] for s in b["steps"]] for b in out["breakdown"]}
    assert by == {"S1": [2, 1, 1], "S2": [1, 1, 0]}
    # The table view, drop-offs and a saved segment.
    args = ["funnel", "--steps", f"{PV},{PA},{OC}", "-w", str(duckdb_workspace.root)]
    shown = runner.invoke(app, [*args, "--dropoffs", "2", "--save-segment", "cart_stop"])
    assert shown.exit_code == 0, shown.output
    assert "Product Added" in shown.output and "cart_stop" in shown.output
    out = invoke(duckdb_workspace, "funnel", "--steps", f"{PV},{PA},{OC}", "--dropoffs", "2")
    assert out["dropoffs"] == {"step": 2, "people": ["anon:b"]}


def test_funnel_errors_are_one_line(duckdb_workspace: Workspace) -> None:
    bad = runner.invoke(app, ["funnel", "--steps", PV, "-w", str(duckdb_workspace.root)])
    assert bad.exit_code == 2 and "at least two steps" in bad.output
    bad = runner.invoke(
        app,
        ["funnel", "--steps", f"{PV},{OC}", "--window", "soon", "-w", str(duckdb_workspace.root)],
    )
    assert bad.exit_code == 2 and "duration" in bad.output


def test_retention_and_paths_json(duckdb_workspace: Workspace) -> None:
    fill(duckdb_workspace)
    out = invoke(duckdb_workspace, "retention", "--period", "week", "--periods", "2")
    (cohort,) = out["cohorts"]
    assert cohort["cohort"] == "2026-03-02" and cohort["size"] == 3
    assert cohort["retained"] == [3, 1]
    out = invoke(duckdb_workspace, "paths", "--event", PV, "--steps", "2")
    assert {t["event"]: t["occurrences"] for t in out["top"]} == {PA: 2, "(end)": 2}
    assert {"source": "0. Product Viewed", "target": "1. Product Added", "value": 2} in out["links"]
    table = runner.invoke(
        app, ["retention", "--unbounded", "-w", str(duckdb_workspace.root)], catch_exceptions=False
    )
    assert table.exit_code == 0 and "unbounded" in table.output
