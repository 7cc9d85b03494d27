"""XLSX reports: the KPI table and the chart data as sheets with number formats, and
openpyxl's native charts (they stay live in Excel and WPS, unlike pictures).

Money is shown in yuan (the KPI layer's fen / 100) with a yuan format; ratios as
percentages; counts as integers.
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from storeops.reports.data import KpiLine, ReportData
from storeops.reports.html import LEVEL_TEXTS, STATUS_TEXTS

YUAN = '"¥"#,##0.00'
PERCENT = "0.00%"
CHANGE = "+0.0%;-0.0%;0.0%"
INTEGER = "#,##0"
DECIMAL = "#,##0.00"

#: KPI units stored in fen, shown in yuan.
FEN_UNITS = frozenset({"fen", "fen_per_m2"})
_FORMATS = {"ratio": PERCENT, "count": INTEGER, "items": DECIMAL, "days": DECIMAL,
            "score": DECIMAL, "fen": YUAN, "fen_per_m2": YUAN}  # fmt: skip

_HEADER = Font(bold=True)
_FILL = PatternFill("solid", fgColor="F4F6F8")


def sheet_names(data: ReportData) -> dict[str, str]:
    """The sheets' names in the report's language."""
    _ = data._
    return {
        "summary": _("Summary"),
        "daily": _("Daily"),
        "hourly": _("Hourly"),
        "ranking": _("Store ranking"),
        "goals": _("Goals"),
        "alerts": _("Open alerts"),
    }


def shown(unit: str, value: float | None) -> float | None:
    """A KPI value as the sheet shows it (fen → yuan)."""
    if value is None:
        return None
    return value / 100 if unit in FEN_UNITS else value


def _header(ws: Worksheet, row: int, titles: list[str]) -> None:
    for col, title in enumerate(titles, start=1):
        cell = ws.cell(row=row, column=col, value=title)
        cell.font, cell.fill = _HEADER, _FILL


def _widths(ws: Worksheet, widths: list[int]) -> None:
    for col, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(col)].width = width


def _summary(ws: Worksheet, data: ReportData) -> None:
    _ = data._
    ws["A1"] = data.title
    ws["A1"].font = Font(bold=True, size=14)
    ws["A2"] = f"{_('Period')}: {data.period.current.label()}"
    ws["A3"] = (
        f"{_('previous period')} {data.period.previous.label()} · "
        f"{_('same period last year')} {data.period.last_year.label()}"
    )
    titles = [_("KPI id"), _("KPI"), _("This period"), _("Previous period"), _("Change"),
              _("Last year"), _("Change")]  # fmt: skip
    _header(ws, 5, titles)
    pp = _("pp")
    points = f'+0.0" {pp}";-0.0" {pp}";0.0" {pp}"'
    for row, k in enumerate(data.kpis, start=6):
        _kpi_row(ws, row, k, points)
    _widths(ws, [22, 24, 16, 16, 10, 16, 10])
    ws.freeze_panes = "C6"


def _kpi_row(ws: Worksheet, row: int, k: KpiLine, points: str) -> None:
    """One KPI; changes of ratios in percentage points (a number of points, e.g. 0.9),
    other changes as a percentage."""
    fmt = _FORMATS.get(k.unit, DECIMAL)

    def change(value: float | None) -> float | None:
        return value * 100 if value is not None and k.in_points else value

    cells = [k.kpi, k.name, shown(k.unit, k.value), shown(k.unit, k.previous),
             change(k.vs_previous), shown(k.unit, k.last_year), change(k.vs_last_year)]  # fmt: skip
    for col, value in enumerate(cells, start=1):
        cell = ws.cell(row=row, column=col, value=value)
        if col in (3, 4, 6):
            cell.number_format = fmt
        elif col in (5, 7):
            cell.number_format = points if k.in_points else CHANGE


def _daily(ws: Worksheet, data: ReportData) -> None:
    _ = data._
    _header(ws, 1, [_("Day"), _("Entries"), _("Transactions"), _("Sales (yuan)")])
    for row, p in enumerate(data.daily, start=2):
        ws.cell(row=row, column=1, value=p.day).number_format = "yyyy-mm-dd"
        ws.cell(row=row, column=2, value=p.entries).number_format = INTEGER
        ws.cell(row=row, column=3, value=p.transactions).number_format = INTEGER
        ws.cell(row=row, column=4, value=p.sales_fen / 100).number_format = YUAN
    _widths(ws, [12, 12, 14, 16])
    last = len(data.daily) + 1
    if last < 2:
        return
    sales = BarChart()
    sales.title, sales.y_axis.title = _("Sales per day (yuan)"), _("Sales (yuan)")
    sales.add_data(Reference(ws, min_col=4, min_row=1, max_row=last), titles_from_data=True)
    sales.set_categories(Reference(ws, min_col=1, min_row=2, max_row=last))
    sales.width, sales.height = 22, 8
    ws.add_chart(sales, "F2")
    traffic = LineChart()
    traffic.title = _("Entries and transactions per day")
    traffic.add_data(Reference(ws, min_col=2, max_col=3, min_row=1, max_row=last),
                     titles_from_data=True)  # fmt: skip
    traffic.set_categories(Reference(ws, min_col=1, min_row=2, max_row=last))
    traffic.width, traffic.height = 22, 8
    ws.add_chart(traffic, "F19")


def _hourly(ws: Worksheet, data: ReportData) -> None:
    _ = data._
    _header(ws, 1, [_("Hour"), _("Entries"), _("Transactions"), _("Sales (yuan)")])
    for row, p in enumerate(data.hourly, start=2):
        ws.cell(row=row, column=1, value=p.hour)
        ws.cell(row=row, column=2, value=p.entries).number_format = INTEGER
        ws.cell(row=row, column=3, value=p.transactions).number_format = INTEGER
        ws.cell(row=row, column=4, value=p.sales_fen / 100).number_format = YUAN
    _widths(ws, [8, 12, 14, 16])
    last = len(data.hourly) + 1
    if last < 2:
        return
    chart = BarChart()
    chart.title = _("Entries and transactions by hour of day")
    chart.add_data(Reference(ws, min_col=2, max_col=3, min_row=1, max_row=last),
                   titles_from_data=True)  # fmt: skip
    chart.set_categories(Reference(ws, min_col=1, min_row=2, max_row=last))
    chart.width, chart.height = 22, 8
    ws.add_chart(chart, "F2")


def _ranking(ws: Worksheet, data: ReportData) -> None:
    _ = data._
    _header(ws, 1, [_("Rank"), _("Store id"), _("Store")] + [n for _k, n in data.ranking_kpis])
    units = {k.kpi: k.unit for k in data.kpis}
    for row, r in enumerate(data.ranking, start=2):
        ws.cell(row=row, column=1, value=r.rank)
        ws.cell(row=row, column=2, value=r.store_id)
        ws.cell(row=row, column=3, value=r.store_name)
        for col, (kid, _name) in enumerate(data.ranking_kpis, start=4):
            unit = units.get(kid, "")
            cell = ws.cell(row=row, column=col, value=shown(unit, r.values.get(kid)))
            cell.number_format = _FORMATS.get(unit, DECIMAL)
    _widths(ws, [6, 10, 18] + [14] * len(data.ranking_kpis))
    if data.ranking and data.ranking_kpis:
        chart = BarChart()
        chart.type = "bar"
        chart.title = data.ranking_kpis[0][1]
        last = len(data.ranking) + 1
        chart.add_data(Reference(ws, min_col=4, min_row=1, max_row=last), titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=3, min_row=2, max_row=last))
        chart.width, chart.height = 18, 8
        ws.add_chart(chart, f"{get_column_letter(5 + len(data.ranking_kpis))}2")


def render_xlsx(data: ReportData, path: Path) -> None:
    names = sheet_names(data)
    book = Workbook()
    summary = book.active
    assert summary is not None
    summary.title = names["summary"]
    _summary(summary, data)
    _daily(book.create_sheet(names["daily"]), data)
    _hourly(book.create_sheet(names["hourly"]), data)
    if data.request.store_id is None:
        _ranking(book.create_sheet(names["ranking"]), data)
    _ = data._
    if data.goals is not None:
        ws = book.create_sheet(names["goals"])
        _header(ws, 1, [_("KPI"), _("Store"), _("Target"), _("Current"), _("Expected today"),
                        _("Projected"), _("Deadline"), _("Status")])  # fmt: skip
        for row, g in enumerate(data.goals, start=2):
            values = [g.name, g.store_id or _("All stores"), g.target_text, g.current_text,
                      g.expected_text, g.projected_text, g.deadline,
                      _(STATUS_TEXTS.get(g.status) or g.status)]  # fmt: skip
            for col, value in enumerate(values, start=1):
                ws.cell(row=row, column=col, value=value)
    if data.alerts is not None:
        ws = book.create_sheet(names["alerts"])
        _header(ws, 1, [_("Level"), _("Store"), _("Alert"), _("Since")])
        for row, a in enumerate(data.alerts, start=2):
            for col, value in enumerate(
                [_(LEVEL_TEXTS.get(a.level) or a.level), a.store_id, a.title, a.since], start=1
            ):
                ws.cell(row=row, column=col, value=value)
    book.properties.title = data.title
    book.properties.creator = "storeops"
    book.save(path)
