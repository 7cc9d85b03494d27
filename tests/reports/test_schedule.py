"""Scheduled reports: due from their hour, daily every morning, weekly on Mondays,
monthly on the 1st; sent through the channel once; a failure is tried again."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, insert
from sqlalchemy.exc import IntegrityError

from storeops.opsdb.report_tables import report_sends
from storeops.reports import ReportError
from storeops.reports.schedule import (
    ScheduleSpec,
    add_default_schedules,
    add_schedule,
    due_reports,
    list_schedules,
    remove_schedule,
    run_due,
    sent_log,
)
from storeops.workspace import Workspace

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day: str, hour: int) -> datetime:
    return datetime.fromisoformat(f"{day}T{hour:02d}:30:00").replace(tzinfo=SHANGHAI)


@pytest.fixture
def ws(demo_copy: Workspace) -> Workspace:
    return demo_copy


def outbox(ws: Workspace) -> list[dict[str, object]]:
    return [json.loads(p.read_text("utf-8")) for p in sorted(ws.folder("outbox").glob("*.json"))]


def test_due_reports_follow_the_calendar(ws: Workspace) -> None:
    engine = ws.ops_engine()
    daily = add_schedule(engine, ScheduleSpec(kind="daily", format="html"))
    weekly = add_schedule(engine, ScheduleSpec(kind="weekly", store_id="S001", hour=9))
    monthly = add_schedule(engine, ScheduleSpec(kind="monthly", format="xlsx", locale="en"))
    assert [s.schedule_id for s in list_schedules(engine)] == [
        daily.schedule_id, weekly.schedule_id, monthly.schedule_id,
    ]  # fmt: skip

    def due(now: datetime) -> set[tuple[str, str]]:
        return {(d.schedule.kind, d.period.key) for d in due_reports(engine, now)}

    assert due(at("2026-10-26", 6)) == set()  # before 07:00 nothing is due
    assert due(at("2026-10-26", 7)) == {("daily", "2026-10-25"), ("monthly", "2026-09")}
    assert due(at("2026-10-26", 9)) == {("daily", "2026-10-25"), ("weekly", "2026-W43"),
                                        ("monthly", "2026-09")}  # fmt: skip
    assert due(at("2026-11-01", 10)) == {("daily", "2026-10-31"), ("weekly", "2026-W43"),
                                        ("monthly", "2026-10")}  # fmt: skip
    remove_schedule(engine, monthly.schedule_id)
    with pytest.raises(ReportError, match="no report schedule"):
        remove_schedule(engine, monthly.schedule_id)


def test_run_due_sends_each_report_once_through_the_outbox(ws: Workspace) -> None:
    engine = ws.ops_engine()
    daily = add_schedule(engine, ScheduleSpec(kind="daily", format="html"))
    weekly = add_schedule(engine, ScheduleSpec(kind="weekly", store_id="S001", locale="en"))
    monday = at("2026-10-26", 8)
    results = run_due(ws, now=monday)
    assert {(r.schedule_id, r.period, r.status) for r in results} == {
        (daily.schedule_id, "2026-10-25", "sent"), (weekly.schedule_id, "2026-W43", "sent"),
    }  # fmt: skip
    files = {Path(str(r.path)).name for r in results}
    assert files == {"daily-chain-2026-10-25-zh_CN.html", "weekly-S001-2026-W43-en.pdf"}
    sent = outbox(ws)
    assert len(sent) == 2
    attachments = {Path(str(a)).name for m in sent for a in m["attachments"]}  # type: ignore[attr-defined]
    assert attachments == files
    subjects = {str(m["subject"]) for m in sent}
    assert "日报 · 全部门店 · 2026-10-25" in subjects
    assert "Weekly report · S001 · 2026-10-19 – 2026-10-25" in subjects
    for name in files:
        assert (ws.folder("reports") / name).stat().st_size > 1000

    assert run_due(ws, now=monday) == []  # the sent-log stops a second send
    assert run_due(ws, now=at("2026-10-26", 23)) == []
    tuesday = run_due(ws, now=at("2026-10-27", 8))  # only the new day
    assert [(r.period, r.status) for r in tuesday] == [("2026-10-26", "sent")]
    assert len(outbox(ws)) == 3
    assert {(r["schedule_id"], r["period"], r["status"]) for r in sent_log(engine)} == {
        (daily.schedule_id, "2026-10-25", "sent"), (weekly.schedule_id, "2026-W43", "sent"),
        (daily.schedule_id, "2026-10-26", "sent"),
    }  # fmt: skip


def test_a_failed_hand_over_is_tried_again(ws: Workspace) -> None:
    engine = ws.ops_engine()
    broken = add_schedule(engine, ScheduleSpec(kind="daily", channel="nowhere", format="html"))
    first = run_due(ws, now=at("2026-10-26", 8))
    assert [(r.schedule_id, r.status) for r in first] == [(broken.schedule_id, "error")]
    assert "nowhere" in str(first[0].error)
    assert sent_log(engine) == []  # the claim was given back
    assert [r.status for r in run_due(ws, now=at("2026-10-26", 9))] == ["error"]


def test_schedules_and_the_sent_log_on_both_databases(ops_engine: Engine) -> None:
    schedule = add_schedule(ops_engine, ScheduleSpec(kind="monthly", store_id="S1", hour=0))
    assert list_schedules(ops_engine) == [schedule]
    (due,) = due_reports(ops_engine, at("2026-11-01", 0))
    assert due.period.key == "2026-10"
    claim = {"schedule_id": schedule.schedule_id, "period": "2026-10", "status": "building",
             "created_at": datetime(2026, 11, 1)}  # fmt: skip
    with ops_engine.begin() as con:
        con.execute(insert(report_sends).values(**claim))
    with pytest.raises(IntegrityError), ops_engine.begin() as con:
        con.execute(insert(report_sends).values(**claim))  # one claim per schedule and period
    assert due_reports(ops_engine, at("2026-11-01", 0)) == []
    assert len(sent_log(ops_engine)) == 1
    remove_schedule(ops_engine, schedule.schedule_id)
    assert sent_log(ops_engine) == [] and list_schedules(ops_engine) == []


def test_default_schedules_only_in_a_workspace_without_any(ws: Workspace) -> None:
    engine = ws.ops_engine()
    added = add_default_schedules(engine)
    assert [(s.kind, s.store_id, s.format, s.locale, s.channel, s.hour) for s in added] == [
        (kind, None, "pdf", "zh_CN", "outbox", 7) for kind in ("daily", "weekly", "monthly")
    ]
    assert add_default_schedules(engine) == []
    assert len(list_schedules(engine)) == 3
