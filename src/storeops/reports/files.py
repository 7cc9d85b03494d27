"""The generated report files in a workspace, and who may read which.

Files are found by name (:func:`storeops.reports.render.report_filename`):
``<kind>-<store|chain>-<period>-<lang>.<format>``. A caller who sees every store
(``Principal.stores is None``) may read every report; a store-scoped one only the
reports of their stores — never a chain report. Anything else is "not found"
(:class:`~storeops.access.NotVisibleError`), the same answer as for a missing file, so
another store's reports do not reveal that they exist. The API and the dashboard use
these functions rather than the folder.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from storeops.access import NotVisibleError, Principal
from storeops.reports.render import safe_scope

#: Report file names as :func:`storeops.reports.render.report_filename` writes them.
REPORT_NAME = re.compile(
    r"^(?P<kind>daily|weekly|monthly)-(?P<scope>[A-Za-z0-9_-]+?)-"
    r"(?P<period>\d{4}-(?:\d{2}-\d{2}|W\d{2}|\d{2}))-(?P<locale>zh_CN|en)\."
    r"(?P<format>pdf|html|xlsx)$"
)
MEDIA_TYPES = {
    "pdf": "application/pdf",
    "html": "text/html; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class ReportFile:
    """A report file on disk."""

    path: Path
    kind: str
    scope: str  # a store id as in file names, or "chain"
    period: str
    locale: str
    format: str

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.format]

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("path")
        return {"name": self.name, **out, "bytes": self.path.stat().st_size}


def may_read(principal: Principal, scope: str) -> bool:
    if principal.stores is None:
        return True
    return scope != "chain" and scope in {safe_scope(s) for s in principal.stores}


def _parse(path: Path) -> ReportFile | None:
    match = REPORT_NAME.match(path.name)
    if match is None or not path.is_file():
        return None
    return ReportFile(path, match["kind"], match["scope"], match["period"], match["locale"],
                      match["format"])  # fmt: skip


def list_report_files(
    folder: Path, principal: Principal, *, store_id: str | None = None
) -> list[ReportFile]:
    """The reports ``principal`` may read, newest period first (only ``store_id``'s when
    given; another store's answers :class:`NotVisibleError`)."""
    if store_id is not None and not principal.sees_store(store_id):
        raise NotVisibleError(f"store {store_id} was not found")
    wanted = safe_scope(store_id) if store_id is not None else None
    found = [f for f in map(_parse, sorted(folder.iterdir()) if folder.is_dir() else []) if f]
    visible = [
        f for f in found
        if may_read(principal, f.scope) and (wanted is None or f.scope == wanted)
    ]  # fmt: skip
    return sorted(visible, key=lambda f: (f.period, f.name), reverse=True)


def report_file(folder: Path, principal: Principal, name: str) -> ReportFile:
    """One report ``principal`` may read; :class:`NotVisibleError` otherwise."""
    found = _parse(folder / name) if REPORT_NAME.match(name) else None
    if found is None or not may_read(principal, found.scope):
        raise NotVisibleError(f"report {name} was not found")
    return found
