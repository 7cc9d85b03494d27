"""Evaluation on a hand-built KPI mart: the planted dips fire on their store-days and
nowhere else, a second evaluation records and sends nothing new, notifications land
in the outbox in Chinese (or English), thresholds with consecutive days, the CLI."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import func, select
from tests.alerts.conftest import CONVERSION_DIP, END, ENTRIES_DIP
from typer.testing import CliRunner

from storeops.alerts import (
    AlertRuleError,
    AnomalyParams,
    RuleSpec,
    ThresholdParams,
    add_rule,
    evaluate,
    list_alerts,
)
from storeops.cli.main import app
from storeops.notify import deliver, ensure_outbox_channel
from storeops.opsdb.alert_tables import alert_events, notify_deliveries
from storeops.workspace import Workspace

OCTOBER = (date(2026, 10, 1), END)


def _rules(ws: Workspace) -> None:
    engine = ws.ops_engine()
    ensure_outbox_channel(engine)
    add_rule(engine, RuleSpec(name="entries-drop", kpi="entries", kind="anomaly", level="red"))
    add_rule(
        engine,
        RuleSpec(
            name="conversion-drop",
            kpi="conversion",
            kind="anomaly",
            level="yellow",
            anomaly=AnomalyParams(z=3.5),
        ),
    )


def test_planted_dips_fire_on_their_store_days_only(kpi_workspace: Workspace) -> None:
    _rules(kpi_workspace)
    engine = kpi_workspace.ops_engine()
    with kpi_workspace.warehouse() as wh:
        result = evaluate(engine, wh, date_from=OCTOBER[0], date_to=OCTOBER[1])
    fired = {(f.rule, f.store_id, f.day) for f in result.fired}
    assert fired == {
        ("entries-drop", ENTRIES_DIP[0], ENTRIES_DIP[1].isoformat()),
        ("conversion-drop", CONVERSION_DIP[0], CONVERSION_DIP[1].isoformat()),
    }
    # Two stores × 31 days × 2 rules checked (the chain row is not a store).
    assert result.store_days == 2 * 31 * 2
    assert result.new_alerts == 2 and result.queued == 2
    entries = next(f for f in result.fired if f.rule == "entries-drop")
    assert entries.score is not None and entries.score < -3.5
    assert entries.expected is not None and entries.value < 0.2 * entries.expected


def test_a_second_evaluation_repeats_nothing(kpi_workspace: Workspace) -> None:
    _rules(kpi_workspace)
    engine = kpi_workspace.ops_engine()
    with kpi_workspace.warehouse() as wh:
        evaluate(engine, wh, date_from=OCTOBER[0], date_to=OCTOBER[1])
        again = evaluate(engine, wh, date_from=date(2026, 10, 15), date_to=OCTOBER[1])
    assert again.new_alerts == 0 and again.queued == 0 and again.already_recorded == 2
    with engine.connect() as con:
        assert con.execute(select(func.count()).select_from(alert_events)).scalar() == 2
        assert con.execute(select(func.count()).select_from(notify_deliveries)).scalar() == 2
    run = deliver(kpi_workspace)
    assert run.sent == 2 and deliver(kpi_workspace).attempted == 0
    files = sorted((kpi_workspace.root / "outbox").glob("*.json"))
    messages = [json.loads(p.read_text(encoding="utf-8")) for p in files]
    subjects = sorted(m["subject"] for m in messages)
    assert subjects == [
        f"红色预警:{ENTRIES_DIP[0]} {ENTRIES_DIP[1]} 客流",
        f"黄色预警:{CONVERSION_DIP[0]} {CONVERSION_DIP[1]} 成交转化率",
    ]
    red = next(m for m in messages if m["level"] == "red")
    assert "**实际值**" in red["text"] and "稳健 z 分数" in red["text"]
    assert red["dedup_key"].startswith("alert:") and red["dedup_key"].endswith(
        f":{ENTRIES_DIP[0]}:{ENTRIES_DIP[1]}"
    )


def test_english_notifications(kpi_workspace: Workspace) -> None:
    _rules(kpi_workspace)
    engine = kpi_workspace.ops_engine()
    with kpi_workspace.warehouse() as wh:
        evaluate(engine, wh, date_from=ENTRIES_DIP[1], date_to=ENTRIES_DIP[1], locale="en")
    deliver(kpi_workspace)
    [path] = (kpi_workspace.root / "outbox").glob("*.json")
    message = json.loads(path.read_text(encoding="utf-8"))
    assert message["subject"] == f"Red alert: Entries at S1 on {ENTRIES_DIP[1]}"
    assert "**Expected about**" in message["text"]
    assert "storeops alerts ack" in message["text"]


def test_threshold_rules_and_the_chain_row(kpi_workspace: Workspace) -> None:
    engine = kpi_workspace.ops_engine()
    ensure_outbox_channel(engine)
    # Chain entries below a level S1's dip pulls it under, one day is enough.
    add_rule(
        engine,
        RuleSpec(
            name="chain-low",
            kpi="entries",
            kind="threshold",
            level="blue",
            stores=["*"],
            threshold=ThresholdParams(op="below", value=10**9),
        ),
    )
    add_rule(
        engine,
        RuleSpec(
            name="s1-low-3d",
            kpi="entries",
            kind="threshold",
            stores=["S1"],
            threshold=ThresholdParams(op="below", value=10**9, consecutive_days=3),
        ),
    )
    with kpi_workspace.warehouse() as wh:
        result = evaluate(engine, wh, date_from=date(2026, 10, 30), date_to=END)
    by_rule: dict[str, set[tuple[str, str]]] = {}
    for f in result.fired:
        by_rule.setdefault(f.rule, set()).add((f.store_id, f.day))
    assert by_rule["chain-low"] == {("*", "2026-10-30"), ("*", "2026-10-31")}
    assert by_rule["s1-low-3d"] == {("S1", "2026-10-30"), ("S1", "2026-10-31")}
    streaks = {f.day: f for f in result.fired if f.rule == "s1-low-3d"}
    assert streaks["2026-10-31"].expected == 10**9


def test_rules_are_checked(kpi_workspace: Workspace) -> None:
    engine = kpi_workspace.ops_engine()
    ensure_outbox_channel(engine)
    with pytest.raises(ValueError, match="unknown KPI 'footfall'"):
        RuleSpec(name="x", kpi="footfall", kind="anomaly")
    with pytest.raises(ValueError, match="needs threshold settings"):
        RuleSpec(name="x", kpi="entries", kind="threshold")
    with pytest.raises(ValueError, match="at least one store"):
        RuleSpec(name="x", kpi="entries", kind="anomaly", stores=[])
    with pytest.raises(ValueError, match="level"):
        RuleSpec(name="x", kpi="entries", kind="anomaly", level="purple")  # type: ignore[arg-type]
    from storeops.notify import NotifyError

    with pytest.raises(NotifyError, match="no channel named 'pager'"):
        add_rule(engine, RuleSpec(name="x", kpi="entries", kind="anomaly", channels=["pager"]))
    add_rule(engine, RuleSpec(name="x", kpi="entries", kind="anomaly"))
    with pytest.raises(AlertRuleError, match="exists"):
        add_rule(engine, RuleSpec(name="x", kpi="entries", kind="anomaly"))


def test_cli_rules_evaluate_list_ack(kpi_workspace: Workspace) -> None:
    runner = CliRunner()
    w = ["-w", str(kpi_workspace.root)]
    assert runner.invoke(app, ["channels", "add", "outbox", *w]).exit_code == 0
    added = runner.invoke(
        app, ["alerts", "rules", "add", "entries-drop", "--kpi", "entries", "--level", "red", *w]
    )
    assert added.exit_code == 0, added.output
    bad = runner.invoke(
        app, ["alerts", "rules", "add", "t", "--kpi", "entries", "--kind", "threshold", *w]
    )
    assert bad.exit_code == 2 and "--above or --below" in bad.output
    rules = json.loads(runner.invoke(app, ["alerts", "rules", "list", "--json", *w]).output)
    assert [(r["name"], r["params"]["z"], r["params"]["side"]) for r in rules] == [
        ("entries-drop", 3.5, "bad")
    ]
    out = runner.invoke(
        app, ["alerts", "evaluate", "--from", "2026-10-01", "--to", "2026-10-31", "--json", *w]
    )
    assert out.exit_code == 0, out.output
    result = json.loads(out.output)
    assert result["new_alerts"] == 1 and result["delivery"]["sent"] == 1
    # Without dates: the last days of the mart (nothing new there).
    default = json.loads(runner.invoke(app, ["alerts", "evaluate", "--json", *w]).output)
    assert (default["date_from"], default["date_to"]) == ("2026-10-29", "2026-10-31")
    listed = json.loads(runner.invoke(app, ["alerts", "list", "--json", *w]).output)
    [alert] = listed
    assert (alert["store_id"], alert["day"], alert["level"]) == ("S1", "2026-10-20", "red")
    ack = runner.invoke(app, ["alerts", "ack", str(alert["alert_id"]), "--by", "li.na", *w])
    assert ack.exit_code == 0 and "acknowledged by li.na" in ack.output
    assert json.loads(runner.invoke(app, ["alerts", "list", "--json", *w]).output) == []
    done = json.loads(
        runner.invoke(app, ["alerts", "list", "--status", "acknowledged", "--json", *w]).output
    )
    assert done[0]["acknowledged_by"] == "li.na"
    one = json.loads(
        runner.invoke(app, ["alerts", "evaluate", "--date", "2026-10-20", "--json", *w]).output
    )
    assert (one["date_from"], one["date_to"], one["already_recorded"]) == (
        "2026-10-20",
        "2026-10-20",
        1,
    )
    assert runner.invoke(app, ["alerts", "rules", "disable", "entries-drop", *w]).exit_code == 0
    idle = json.loads(runner.invoke(app, ["alerts", "evaluate", "--json", *w]).output)
    assert idle["rules"] == 0 and idle["fired"] == []
    assert runner.invoke(app, ["alerts", "rules", "enable", "entries-drop", *w]).exit_code == 0
    missing = runner.invoke(app, ["alerts", "ack", "999", *w])
    assert missing.exit_code == 2 and "alert 999 was not found" in missing.output
    table = runner.invoke(app, ["alerts", "list", "--status", "all", *w])
    assert "S1" in table.output and "2026-10-20" in table.output
    assert list_alerts(kpi_workspace.ops_engine(), ["S2"]) == []
    assert runner.invoke(app, ["alerts", "rules", "remove", "entries-drop", *w]).exit_code == 0
    assert list_alerts(kpi_workspace.ops_engine()) == []  # its alerts went with it


def test_no_mart_is_a_clear_error(tmp_path: object) -> None:
    from pathlib import Path

    from storeops.workspace import init_workspace

    ws = init_workspace(Path(str(tmp_path)) / "empty")
    _rules(ws)
    runner = CliRunner()
    out = runner.invoke(app, ["alerts", "evaluate", "-w", str(ws.root)])
    assert out.exit_code == 2 and "mart_kpi_daily" in out.output
