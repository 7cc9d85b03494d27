"""Build a report file: assemble the numbers once, render them in one format.

Renderers are a registry (:data:`RENDERERS`) from format to a function
``(ReportData, path) -> None``; a new format is one entry.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from storeops.reports.data import ReportData, ReportFormat, ReportRequest, assemble_report
from storeops.reports.errors import ReportError
from storeops.reports.html import render_html
from storeops.reports.pdf import render_pdf
from storeops.reports.xlsx import render_xlsx
from storeops.workspace import Workspace


def _write_html(data: ReportData, path: Path) -> None:
    path.write_text(render_html(data), encoding="utf-8")


RENDERERS: dict[ReportFormat, Callable[[ReportData, Path], None]] = {
    "html": _write_html,
    "pdf": render_pdf,
    "xlsx": render_xlsx,
}


@dataclass(frozen=True)
class BuiltReport:
    """A report file written, with what it covers and how long each step took."""

    path: Path
    kind: str
    store_id: str | None
    period: str
    date_from: str
    date_to: str
    locale: str
    format: str
    assemble_seconds: float
    render_seconds: float

    def to_dict(self) -> dict[str, object]:
        return {
            "path": str(self.path), "kind": self.kind, "store_id": self.store_id,
            "period": self.period, "date_from": self.date_from, "date_to": self.date_to,
            "locale": self.locale, "format": self.format,
            "assemble_seconds": round(self.assemble_seconds, 3),
            "render_seconds": round(self.render_seconds, 3),
        }  # fmt: skip


def safe_scope(store_id: str | None) -> str:
    """A store id as it appears in file names (``chain`` for the whole chain)."""
    if store_id is None:
        return "chain"
    safe = "".join(c if c.isascii() and (c.isalnum() or c in "-_") else "_" for c in store_id)
    return "store_chain" if safe == "chain" else safe


def report_filename(data: ReportData) -> str:
    """``daily-S001-2026-10-31-zh_CN.pdf``, ``weekly-chain-2026-W44-en.xlsx`` …"""
    request = data.request
    scope = safe_scope(request.store_id)
    return f"{request.kind}-{scope}-{data.period.key}-{request.locale}.{request.format}"


def build_report(
    ws: Workspace,
    request: ReportRequest,
    *,
    out: Path | None = None,
    now: datetime | None = None,
) -> BuiltReport:
    """Write one report into the workspace ``reports/`` folder, or ``out``: a folder
    (existing, or a path without a suffix) or a file with the format's suffix."""
    started = time.perf_counter()
    with ws.warehouse() as wh:
        data = assemble_report(ws, wh, request, now=now)
    assembled = time.perf_counter()
    if out is None:
        folder = ws.folder("reports")
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / report_filename(data)
    elif out.is_dir() or not out.suffix:  # a folder, existing or to be made
        out.mkdir(parents=True, exist_ok=True)
        path = out / report_filename(data)
    else:
        if out.suffix.lower() != f".{request.format}":
            raise ReportError(
                f"{out} does not end in .{request.format}; name a .{request.format} file, "
                f"a folder, or choose --format {out.suffix.lstrip('.').lower()}"
            )
        path = out
        path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    RENDERERS[request.format](data, partial)
    partial.replace(path)  # a reader (the download route, a channel) never sees half a file
    return BuiltReport(
        path=path, kind=request.kind, store_id=request.store_id, period=data.period.key,
        date_from=data.period.current.start.isoformat(),
        date_to=data.period.current.end.isoformat(), locale=request.locale,
        format=request.format, assemble_seconds=assembled - started,
        render_seconds=time.perf_counter() - assembled,
    )  # fmt: skip
