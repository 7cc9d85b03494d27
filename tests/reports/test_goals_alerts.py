"""Reports show goal pacing and the open alerts of their store (or the chain)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pypdfium2 as pdfium
from openpyxl import load_workbook
from tests.reports.conftest import DAY

from storeops.alerts import RuleSpec, ThresholdParams, acknowledge, add_rule, evaluate, list_alerts
from storeops.goals import GoalCreate, add_goal
from storeops.kpi import KPIS
from storeops.notify import ensure_outbox_channel
from storeops.reports import ReportRequest, assemble_report, build_report
from storeops.workspace import Workspace


def test_goals_and_open_alerts_in_store_and_chain_reports(
    demo_copy: Workspace, tmp_path: Path
) -> None:
    ws = demo_copy
    engine = ws.ops_engine()
    ensure_outbox_channel(engine)
    with ws.warehouse() as wh:
        start = date(2026, 10, 1)
        conversion = GoalCreate(kpi="conversion", target=0.09, deadline=date(2026, 12, 31),
                                store_id="S001", start=start, baseline=0.03)  # fmt: skip
        add_goal(engine, wh, conversion)
        add_goal(engine, wh, GoalCreate(kpi="sales", target=9e8, deadline=date(2027, 6, 30),
                                        start=start))  # fmt: skip
        # Entries above 1 on every day: fires for both stores on each day evaluated.
        add_rule(engine, RuleSpec(name="busy", kpi="entries", kind="threshold", level="red",
                                  threshold=ThresholdParams(op="above", value=1)))  # fmt: skip
        evaluate(engine, wh, date_from=date(2026, 10, 29), date_to=DAY)
    s2_alerts = list_alerts(engine, store_id="S002")
    acknowledge(engine, s2_alerts[0].alert_id, "test")

    with ws.warehouse() as wh:
        store = assemble_report(ws, wh, ReportRequest(kind="daily", store_id="S001", day=DAY))
        chain = assemble_report(ws, wh, ReportRequest(kind="daily", day=DAY))
    assert store.goals is not None and chain.goals is not None
    assert {(g.kpi, g.store_id) for g in store.goals} == {("conversion", "S001"), ("sales", None)}
    conversion = next(g for g in store.goals if g.kpi == "conversion")
    assert conversion.name == KPIS["conversion"].name_zh and conversion.target_text == "9.0%"
    assert conversion.status in {"behind", "on_track", "achieved"}
    assert store.alerts is not None and chain.alerts is not None
    assert {(a.store_id, a.since) for a in store.alerts} == {
        ("S001", "2026-10-29"), ("S001", "2026-10-30"),
    }  # fmt: skip
    assert all(a.level == "red" and "busy" in a.title for a in store.alerts)
    # the chain sees both stores' open alerts, not the acknowledged one
    assert len(chain.alerts) == 3 and {a.store_id for a in chain.alerts} == {"S001", "S002"}

    pdf = build_report(ws, ReportRequest(kind="daily", store_id="S001", day=DAY), out=tmp_path)
    text = "".join(p.get_textpage().get_text_range() for p in pdfium.PdfDocument(pdf.path))
    assert "目标进度" in text and "未处理预警" in text and "红色预警" in text
    book = load_workbook(
        build_report(ws, ReportRequest(kind="daily", day=DAY, format="xlsx"), out=tmp_path).path
    )
    assert {"目标进度", "未处理预警"} <= set(book.sheetnames)
    assert book["未处理预警"].max_row == 1 + 3
    # statuses and levels are named in the report's language, as in the PDF
    statuses = {row[7] for row in book["目标进度"].iter_rows(min_row=2, values_only=True)}
    assert statuses and statuses <= {"进度正常", "落后", "已达成", "暂无数据"}, statuses
    levels = {row[0] for row in book["未处理预警"].iter_rows(min_row=2, values_only=True)}
    assert levels == {"红色预警"}
