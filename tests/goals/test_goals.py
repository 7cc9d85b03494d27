"""Goals against a hand-written ``mart_kpi_daily`` (frozen dates): current value over
the trailing 28 days, expected value, projection, status; storage on SQLite and
PostgreSQL; ``storeops goals add|list|status|remove``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta

import pyarrow as pa
import pytest
from pydantic import ValidationError
from sqlalchemy import Engine
from typer.testing import CliRunner

from storeops.cli.main import app
from storeops.goals import (
    GoalCreate,
    GoalError,
    add_goal,
    goal_status,
    list_goals,
    pace,
    remove_goal,
)
from storeops.marts.kpi_daily import KPI_MART, SCHEMA
from storeops.warehouse import Warehouse
from storeops.workspace import Workspace

MONDAY = date(2026, 1, 5)
WEEKS = 8
LAST = MONDAY + timedelta(weeks=WEEKS) - timedelta(days=1)  # Sunday 2026-03-01
DEADLINE = MONDAY + timedelta(days=181)

runner = CliRunner()


def week_value(w: int) -> float:
    """S1's conversion in week ``w``: 3.0 %, 3.1 %, 3.2 % …"""
    return 0.03 + 0.001 * w


def series() -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for i in range(WEEKS * 7):
        day, w = MONDAY + timedelta(days=i), i // 7
        # Conversion per store: every day of week w at week_value(w), 1,000 entries.
        rows.append(row("S1", day, "conversion", week_value(w) * 1000, 1000))
        rows.append(row("S2", day, "conversion", 10, 1000))
        # Complaints falling by 0.01 % a week (down is good).
        rows.append(row("S1", day, "complaint_rate", (0.002 - 0.0001 * w) * 1000, 1000))
        rows.append(row("S1", day, "sales", 1000, 1))
        # A chain level: the last day counts.
        rows.append(row("*", day, "repeat_purchase_rate", 200 + i, 1000))
    return rows


def row(store: str, day: date, kpi: str, num: float, den: float) -> dict[str, object]:
    return {"store_id": store, "day": day, "kpi": kpi, "numerator": num, "denominator": den,
            "value": num / den}  # fmt: skip


@pytest.fixture
def wh(duckdb_workspace: Workspace) -> Iterator[Warehouse]:
    with duckdb_workspace.warehouse() as opened:
        opened.write_mart(KPI_MART, pa.Table.from_pylist(series(), schema=SCHEMA))
        yield opened


def goal(engine: Engine, wh: Warehouse, **kw: object) -> int:
    fields: dict[str, object] = {
        "kpi": "conversion", "store_id": "S1", "target": 0.06, "start": MONDAY,
        "deadline": DEADLINE, "baseline": 0.03,
    }  # fmt: skip
    return add_goal(engine, wh, GoalCreate.model_validate({**fields, **kw})).goal_id


def test_pacing_on_a_rising_series(ops_engine: Engine, wh: Warehouse) -> None:
    gid = goal(ops_engine, wh)
    [s] = goal_status(ops_engine, wh)
    assert (s.goal_id, s.as_of, s.store_id) == (gid, LAST, "S1")
    # The last 28 days are weeks 4-7 with equal weights: 3.0 % + 0.1 % x 5.5.
    assert s.current == pytest.approx(0.0355)
    assert s.expected == pytest.approx(0.03 + 0.03 * 55 / 181)
    # Weekly values at mid-week rise 0.1 % a week; at the deadline, (181 - 3) / 7 weeks on.
    assert s.projected == pytest.approx(0.03 + 0.001 * 178 / 7)
    assert [v for _, v in s.weekly] == pytest.approx([week_value(w) for w in range(WEEKS)])
    assert s.status == "behind"
    assert s.elapsed == pytest.approx(55 / 181)
    assert s.progress == pytest.approx((0.0355 - 0.03) / 0.03)
    # Paced on an earlier day the current value follows that day's window.
    early = pace(wh, list_goals(ops_engine)[0], as_of=MONDAY + timedelta(days=27))
    assert early.current == pytest.approx(0.0315) and early.as_of == date(2026, 2, 1)
    # Before the start: expected is the baseline; on_track when the KPI is at it.
    soon = goal(ops_engine, wh, start=LAST + timedelta(days=1), baseline=0.035)
    [ahead] = goal_status(ops_engine, wh, goal_ids=[soon])
    assert ahead.expected == 0.035 and ahead.status == "on_track"
    assert ahead.weekly == [] and ahead.projected is None
    # A steep line is read at the deadline but kept within 0 ... 100 %.
    steep = goal(ops_engine, wh, deadline=date(2050, 1, 1))  # 0.1 % a week: 127 % by then
    [far] = goal_status(ops_engine, wh, goal_ids=[steep])
    assert far.projected == 1.0


def test_down_kpi_sum_kpi_and_chain_level(ops_engine: Engine, wh: Warehouse) -> None:
    down = goal(ops_engine, wh, kpi="complaint_rate", baseline=0.002, target=0.0012)
    [c] = goal_status(ops_engine, wh, goal_ids=[down])
    assert c.current == pytest.approx(0.002 - 0.0001 * 5.5)
    # Below the straight path from 0.2 % to 0.12 %: ahead, as down is good.
    assert c.expected == pytest.approx(0.002 - 0.0008 * 55 / 181) and c.status == "on_track"
    # The line falls below 0 by the deadline (0.2 % - 0.01 % x 178 / 7): kept at 0.
    assert 0.002 - 0.0001 * 178 / 7 < 0 and c.projected == 0.0
    reached = goal(ops_engine, wh, kpi="complaint_rate", baseline=0.002, target=0.0015)
    assert goal_status(ops_engine, wh, goal_ids=[reached])[0].status == "achieved"

    # A sum is the 28-day total; weeks are scaled to 28 days (partial weeks pro rata).
    sales = goal(ops_engine, wh, kpi="sales", baseline=20_000, target=40_000,
                 start=MONDAY + timedelta(days=3))  # fmt: skip
    [s] = goal_status(ops_engine, wh, goal_ids=[sales])
    assert s.current == 28_000
    assert [v for _, v in s.weekly] == [28_000] * WEEKS
    assert s.projected == pytest.approx(28_000)

    chain = goal(ops_engine, wh, kpi="repeat_purchase_rate", store_id=None, baseline=0.2,
                 target=0.3)  # fmt: skip
    [r] = goal_status(ops_engine, wh, goal_ids=[chain])
    assert r.store_id is None and r.current == pytest.approx((200 + 55) / 1000)
    # The as-of day's level, 25.5 %, is past the path's 20 % + 10 % x 55 / 181 = 23.0 %.
    assert r.expected == pytest.approx(0.2 + 0.1 * 55 / 181) and r.status == "on_track"


def test_defaults_from_the_data(ops_engine: Engine, wh: Warehouse) -> None:
    g = add_goal(ops_engine, wh, GoalCreate(kpi="conversion", store_id="S2", target=0.02,
                                            deadline=date(2026, 6, 30)))  # fmt: skip
    # Start: the last day with data; baseline: the 28 days before it.
    assert (g.start, g.baseline) == (LAST, pytest.approx(0.01))
    with pytest.raises(GoalError, match="give --start and --baseline"):
        add_goal(ops_engine, wh, GoalCreate(kpi="nps", target=50, deadline=date(2026, 6, 30)))
    with pytest.raises(GoalError, match="baseline"):
        add_goal(ops_engine, wh, GoalCreate(kpi="conversion", store_id="S1", target=0.06,
                                            start=MONDAY, deadline=DEADLINE))  # fmt: skip


def test_validation_storage_and_removal(ops_engine: Engine, wh: Warehouse) -> None:
    with pytest.raises(ValidationError, match="unknown KPI"):
        GoalCreate(kpi="nope", target=1, deadline=DEADLINE)
    with pytest.raises(ValidationError, match="after the start"):
        GoalCreate(kpi="sales", target=1, start=DEADLINE, deadline=MONDAY)
    with pytest.raises(ValidationError, match="chain-level KPI"):
        GoalCreate(kpi="coupon_redemption_rate", store_id="S1", target=1, deadline=DEADLINE)
    a = goal(ops_engine, wh)
    b = goal(ops_engine, wh, store_id="S2")
    c = goal(ops_engine, wh, kpi="repeat_purchase_rate", store_id=None, baseline=0.2, target=0.3)
    assert [g.goal_id for g in list_goals(ops_engine)] == [a, b, c]
    assert [g.goal_id for g in list_goals(ops_engine, store_id="S2")] == [b, c]
    remove_goal(ops_engine, b)
    assert [g.goal_id for g in list_goals(ops_engine)] == [a, c]
    with pytest.raises(GoalError, match=f"no goal {b}"):
        remove_goal(ops_engine, b)


def test_no_data(ops_engine: Engine, duckdb_workspace: Workspace) -> None:
    with duckdb_workspace.warehouse() as empty:
        gid = goal(ops_engine, empty)
        [s] = goal_status(ops_engine, empty)
    assert (s.goal_id, s.status, s.current, s.as_of) == (gid, "no_data", None, None)


def test_cli(duckdb_workspace: Workspace, wh: Warehouse) -> None:
    wh.close()
    root = str(duckdb_workspace.root)
    args = ["goals", "add", "conversion", "--store", "S1", "--target", "6%", "--deadline",
            str(DEADLINE), "--start", str(MONDAY), "--baseline", "3%", "-w", root]  # fmt: skip
    added = runner.invoke(app, [*args, "--json"])
    assert added.exit_code == 0, added.output
    g = json.loads(added.stdout)
    assert (g["target"], g["baseline"], g["store_id"]) == (0.06, 0.03, "S1")
    text = runner.invoke(app, [*args[:-2], "--note", "门店转化率", "-w", root])
    assert text.exit_code == 0 and "3.0% → 6.0%" in text.output
    status = json.loads(runner.invoke(app, ["goals", "status", "-w", root, "--json"]).stdout)
    assert [s["status"] for s in status] == ["behind", "behind"]
    assert status[0]["current"] == pytest.approx(0.0355)
    table = runner.invoke(app, ["goals", "status", "-w", root, "--lang", "en"])
    assert table.exit_code == 0 and "behind" in table.output and "Conversion" in table.output
    zh = runner.invoke(app, ["goals", "status", "-w", root, "--as-of", "2026-02-01"])
    assert "落后" in zh.output
    listed = runner.invoke(app, ["goals", "list", "-w", root])
    assert "门店转化率" in listed.output
    removed = runner.invoke(app, ["goals", "remove", str(g["goal_id"]), "-w", root, "--json"])
    assert json.loads(removed.stdout) == {"removed": g["goal_id"]}
    assert len(json.loads(runner.invoke(app, ["goals", "list", "-w", root, "--json"]).stdout)) == 1
    bad = runner.invoke(app, ["goals", "add", "conversion", "--target", "lots", "--deadline",
                              "2027-01-01", "-w", root])  # fmt: skip
    assert bad.exit_code == 2 and "not a number" in bad.output
    unknown = runner.invoke(app, ["goals", "add", "nope", "--target", "1", "--deadline",
                                  "2027-01-01", "-w", root])  # fmt: skip
    assert unknown.exit_code == 2 and "unknown KPI" in unknown.output
