"""HTML reports: one Jinja2 template, inline CSS and inline SVG charts.

The file stands alone: no scripts, no stylesheets, images or fonts fetched from
anywhere. The PDF renderer draws the same HTML with WeasyPrint.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from jinja2 import Environment, PackageLoader, select_autoescape

from storeops.i18n import gettext, translations
from storeops.reports.charts import Series, bar_chart, line_chart
from storeops.reports.data import KpiLine, ReportData

#: Fonts for the HTML report in a browser: common CJK faces on each platform.
BROWSER_FONTS = (
    '"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", '
    '"WenQuanYi Micro Hei", "Helvetica Neue", Arial, sans-serif'
)


#: Alert levels and goal statuses as the report names them (``reports`` msgids).
LEVEL_TEXTS = {"red": "Red", "yellow": "Yellow", "blue": "Blue", "info": "Info"}
STATUS_TEXTS = {
    "on_track": "On track",
    "behind": "Behind",
    "achieved": "Achieved",
    "no_data": "No data",
}


@cache
def _environment(locale: str) -> Environment:
    env = Environment(
        loader=PackageLoader("storeops.reports", "templates"),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(locale, "reports"), newstyle=True)  # type: ignore[attr-defined]
    return env


def change_text(kpi: KpiLine, change: float | None, locale: str) -> str:
    """``+12.3%``, or ``+0.9 pp`` (个百分点) for ratios; ``—`` when unknown."""
    if change is None:
        return "—"
    if kpi.in_points:
        return f"{change * 100:+.1f} {gettext(locale, 'reports', 'pp')}"
    return f"{change:+.1%}"


def _tone(kpi: KpiLine, change: float | None) -> str:
    good = kpi.good(change)
    return "" if good is None else ("good" if good else "bad")


def charts(data: ReportData, fonts: str = BROWSER_FONTS) -> list[str]:
    """The report's SVG charts: sales and entries per day (weekly and monthly
    reports), entries and transactions per hour of the day."""
    _ = data._
    out: list[str] = []
    if len(data.daily) > 1 and any(p.entries or p.sales_fen for p in data.daily):
        labels = [p.day.strftime("%m-%d") for p in data.daily]
        out.append(
            bar_chart(
                _("Sales per day (yuan)"), labels,
                [Series(_("Sales"), [p.sales_fen / 100 for p in data.daily])], fonts=fonts,
            )
        )  # fmt: skip
        out.append(
            line_chart(
                _("Entries and transactions per day"), labels,
                [Series(_("Entries"), [p.entries for p in data.daily]),
                 Series(_("Transactions"), [p.transactions for p in data.daily])],
                fonts=fonts,
            )
        )  # fmt: skip
    if any(p.entries or p.transactions for p in data.hourly):
        labels = [f"{p.hour:02d}" for p in data.hourly]
        out.append(
            bar_chart(
                _("Entries and transactions by hour of day"), labels,
                [Series(_("Entries"), [p.entries for p in data.hourly]),
                 Series(_("Transactions"), [p.transactions for p in data.hourly])],
                fonts=fonts,
            )
        )  # fmt: skip
        out.append(
            bar_chart(
                _("Sales by hour of day (yuan)"), labels,
                [Series(_("Sales"), [p.sales_fen / 100 for p in data.hourly])], fonts=fonts,
            )
        )  # fmt: skip
    return out


def render_html(data: ReportData, *, fonts: str = BROWSER_FONTS) -> str:
    """The report as one self-contained HTML page."""
    env = _environment(data.locale)
    css = files("storeops.reports").joinpath("templates/report.css").read_text("utf-8")
    css = f"html {{ font-family: {fonts}; }}\n{css}"
    return env.get_template("report.html").render(
        data=data,
        css=css,
        charts=charts(data, fonts),
        html_lang="zh-CN" if data.locale == "zh_CN" else "en",
        change=lambda k, c: change_text(k, c, data.locale),
        tone=_tone,
        level=lambda v: data._(LEVEL_TEXTS.get(v) or v),
        status=lambda v: data._(STATUS_TEXTS.get(v) or v),
    )
