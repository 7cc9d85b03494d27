"""XLSX and HTML reports: sheets, values equal to the KPI layer's, native charts;
a self-contained HTML page without external URLs."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

import pytest
from openpyxl import load_workbook
from tests.reports.conftest import WEEK_DAY

from storeops.kpi import KPIS, kpi_values
from storeops.reports import ReportRequest, build_report
from storeops.reports.periods import period_for
from storeops.reports.xlsx import FEN_UNITS
from storeops.workspace import Workspace


def test_xlsx_weekly_chain_report(demo: Workspace, tmp_path: Path) -> None:
    request = ReportRequest(kind="weekly", day=WEEK_DAY, format="xlsx")
    built = build_report(demo, request, out=tmp_path)
    book = load_workbook(built.path)
    assert book.sheetnames == ["概览", "每日", "分时", "门店排名", "目标进度", "未处理预警"]
    summary = book["概览"]
    assert summary["A1"].value == "全部门店 · 周报"
    rows = {r[0]: r for r in summary.iter_rows(min_row=6, values_only=True) if r[0]}
    assert set(rows) == set(KPIS)  # a chain report shows every KPI
    period = period_for("weekly", WEEK_DAY)
    with demo.warehouse() as wh:
        now = kpi_values(wh, list(KPIS), grain="week", date_from=period.current.start,
                         date_to=period.current.end, chain=True)  # fmt: skip
        before = kpi_values(wh, list(KPIS), grain="week", date_from=period.previous.start,
                            date_to=period.previous.end, chain=True)  # fmt: skip
    checked = 0
    for frame, column in ((now, 2), (before, 3)):
        for r in frame.itertuples():
            expected = None if r.value != r.value else float(r.value)
            if expected is not None and KPIS[r.kpi].unit in FEN_UNITS:
                expected /= 100
            got = rows[r.kpi][column]
            if expected is None:
                assert got is None, r.kpi
            else:
                assert got == pytest.approx(expected, rel=1e-9), r.kpi
                checked += 1
    assert checked >= 20
    sales = next(r for r in summary.iter_rows(min_row=6) if r[0].value == "sales")
    assert sales[2].number_format == '"¥"#,##0.00'
    conversion = next(r for r in summary.iter_rows(min_row=6) if r[0].value == "conversion")
    assert conversion[2].number_format == "0.00%"
    # a rate's change is in percentage points, other changes in percent
    points = (conversion[2].value - conversion[3].value) * 100
    assert (
        conversion[4].value == pytest.approx(points) and "个百分点" in conversion[4].number_format
    )
    assert sales[4].value == pytest.approx(sales[2].value / sales[3].value - 1)
    assert sales[4].number_format == "+0.0%;-0.0%;0.0%"
    daily = book["每日"]
    days = [r for r in daily.iter_rows(min_row=2, values_only=True) if r[0]]
    assert len(days) == 7
    assert sum(d[3] for d in days) == pytest.approx(rows["sales"][2])  # daily sales add up
    assert len(daily._charts) == 2 and len(book["分时"]._charts) == 1
    ranking = [r for r in book["门店排名"].iter_rows(min_row=2, values_only=True) if r[0]]
    assert [r[1] for r in sorted(ranking)] and {r[1] for r in ranking} == {"S001", "S002"}
    assert ranking[0][3] >= ranking[1][3]  # ranked by sales
    assert sum(r[3] for r in ranking) == pytest.approx(rows["sales"][2])


def test_xlsx_store_report_in_english(demo: Workspace, tmp_path: Path) -> None:
    request = ReportRequest(kind="daily", store_id="S002", day=WEEK_DAY, locale="en",
                            format="xlsx")  # fmt: skip
    book = load_workbook(build_report(demo, request, out=tmp_path).path)
    assert book.sheetnames == ["Summary", "Daily", "Hourly", "Goals", "Open alerts"]  # no ranking
    kpis = {r[0] for r in book["Summary"].iter_rows(min_row=6, values_only=True) if r[0]}
    assert kpis == {k.id for k in KPIS.values() if k.grain == "store_day"}


class _Page(HTMLParser):
    """Tags in order, open-tag balance, and every URL-bearing attribute."""

    VOID: ClassVar[set[str]] = {"meta", "br", "img", "link", "input", "hr", "rect", "line",
                                "circle", "polyline", "path"}  # fmt: skip

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.tags: list[str] = []
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.urls += [v or "" for k, v in attrs if k in {"src", "href", "xlink:href", "action"}]
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.urls += [v or "" for k, v in attrs if k in {"src", "href", "xlink:href"}]

    def handle_endtag(self, tag: str) -> None:
        if tag in self.VOID:
            return
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()


def test_html_report_is_self_contained(demo: Workspace, tmp_path: Path) -> None:
    request = ReportRequest(kind="weekly", day=WEEK_DAY, format="html")
    html = build_report(demo, request, out=tmp_path).path.read_text("utf-8")
    page = _Page()
    page.feed(html)
    page.close()
    assert page.stack == []  # every element closed, properly nested
    assert page.tags[:2] == ["html", "head"] and "body" in page.tags
    assert "script" not in page.tags and "link" not in page.tags and "img" not in page.tags
    assert page.urls == []
    assert "url(" not in html and "@import" not in html
    assert page.tags.count("svg") == 4  # sales and traffic per day, per hour
    assert page.tags.count("tr") >= len(KPIS) + 1
    assert '<html lang="zh-CN">' in html and "全部门店 · 周报" in html
    assert "个百分点" in html  # changes of rates
