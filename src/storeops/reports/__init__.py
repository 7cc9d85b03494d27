"""Daily, weekly and monthly reports per store and for the chain, in HTML, PDF and
XLSX, in Chinese (default) or English.

Numbers come from the KPI layer and the store performance insight
(:mod:`storeops.reports.data`), charts are inline SVG (:mod:`.charts`) or native Excel
charts (:mod:`.xlsx`), PDFs are WeasyPrint with a CJK font found through fontconfig
(:mod:`.fonts`). :mod:`.schedule` builds the reports due each morning and sends them
through the notification channels, once per report.
"""

from __future__ import annotations

from storeops.reports.data import (
    FORMATS,
    ReportData,
    ReportFormat,
    ReportRequest,
    assemble_report,
)
from storeops.reports.errors import CjkFontMissingError, ReportError
from storeops.reports.periods import KINDS, ReportKind, ReportPeriod, period_for
from storeops.reports.render import RENDERERS, BuiltReport, build_report

__all__ = [
    "FORMATS",
    "KINDS",
    "RENDERERS",
    "BuiltReport",
    "CjkFontMissingError",
    "ReportData",
    "ReportError",
    "ReportFormat",
    "ReportKind",
    "ReportPeriod",
    "ReportRequest",
    "assemble_report",
    "build_report",
    "period_for",
]
