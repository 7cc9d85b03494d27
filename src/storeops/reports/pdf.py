"""PDF reports: the HTML report drawn by WeasyPrint, with a CJK font named first.

The font comes from :func:`storeops.reports.fonts.find_cjk_font`; without one the
report is refused (:class:`CjkFontMissingError`) rather than printed with empty boxes.
WeasyPrint gets a URL fetcher that refuses every URL: a report is drawn from its own
HTML only, never from the network or the disk.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NoReturn

from storeops.reports.data import ReportData
from storeops.reports.errors import ReportError
from storeops.reports.fonts import find_cjk_font
from storeops.reports.html import render_html


def _no_fetching(url: str, *args: Any, **kwargs: Any) -> NoReturn:
    raise ReportError(f"a report may not load {url!r}; everything must be inline")


def render_pdf(data: ReportData, path: Path) -> None:
    font = find_cjk_font()
    from weasyprint import HTML  # imported late: loading Pango takes a moment

    html = render_html(data, fonts=f"{font.css_family}, sans-serif")
    HTML(string=html, url_fetcher=_no_fetching).write_pdf(path)
