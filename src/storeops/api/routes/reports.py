"""Generated reports over HTTP, and the scheduler that builds and sends them.

``GET /api/reports`` lists the report files in the workspace ``reports/`` folder that
the caller may read; ``GET /api/reports/{name}`` downloads one. Both need
``reports:read``. A store-scoped caller (a store manager) sees only their stores'
reports: another store's report, or a chain report, answers 404 as if it did not
exist.

:func:`lifespan` runs ``storeops report run-due`` every few minutes in a child
process (see :mod:`storeops.api.jobs`): scheduled reports are built once their period
is complete and handed to their notification channel once.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query
from fastapi.responses import FileResponse
from pydantic import BaseModel

from storeops.access import NotVisibleError, Permission, Principal
from storeops.api.auth import requires
from storeops.api.deps import WorkspaceDep
from storeops.api.errors import ERROR_RESPONSES
from storeops.api.jobs import every, run_job
from storeops.reports.render import safe_scope
from storeops.reports.schedule import CHECK_SECONDS

router = APIRouter(prefix="/api/reports", tags=["reports"], responses=ERROR_RESPONSES)

Reader = Annotated[Principal, Depends(requires(Permission.REPORTS_READ))]

#: Report file names as :func:`storeops.reports.render.report_filename` writes them.
NAME = re.compile(
    r"^(?P<kind>daily|weekly|monthly)-(?P<scope>[A-Za-z0-9_-]+?)-"
    r"(?P<period>\d{4}-(?:\d{2}-\d{2}|W\d{2}|\d{2}))-(?P<locale>zh_CN|en)\."
    r"(?P<format>pdf|html|xlsx)$"
)
_MEDIA = {
    "pdf": "application/pdf",
    "html": "text/html; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class ReportFile(BaseModel):
    name: str
    kind: str
    scope: str  # a store id, or "chain"
    period: str
    locale: str
    format: str
    bytes: int
    url: str


class ReportList(BaseModel):
    reports: list[ReportFile]


def _visible(principal: Principal, scope: str) -> bool:
    if principal.stores is None:
        return True
    return scope != "chain" and scope in {safe_scope(s) for s in principal.stores}


def _files(folder: Path) -> list[tuple[Path, re.Match[str]]]:
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.iterdir()):
        match = NAME.match(path.name)
        if match and path.is_file():
            found.append((path, match))
    return found


@router.get("", response_model=ReportList)
def list_reports(
    who: Reader,
    ws: WorkspaceDep,
    store: Annotated[str | None, Query(max_length=64, description="Only this store.")] = None,
) -> Any:
    """The generated reports this caller may read (newest period first)."""
    if store is not None:
        who.require(Permission.REPORTS_READ, store, what=f"store {store}")
    wanted = safe_scope(store) if store is not None else None
    reports = [
        ReportFile(
            name=path.name,
            kind=m["kind"],
            scope=m["scope"],
            period=m["period"],
            locale=m["locale"],
            format=m["format"],
            bytes=path.stat().st_size,
            url=f"{router.prefix}/{path.name}",
        )
        for path, m in _files(ws.folder("reports"))
        if _visible(who, m["scope"]) and (wanted is None or m["scope"] == wanted)
    ]
    reports.sort(key=lambda r: (r.period, r.name), reverse=True)
    return {"reports": reports}


@router.get(
    "/{name}",
    response_class=FileResponse,
    responses={200: {"content": {m.split(";")[0]: {} for m in _MEDIA.values()},
                     "description": "The report file."}},
)  # fmt: skip
def download_report(name: str, who: Reader, ws: WorkspaceDep) -> FileResponse:
    """One report file, if this caller may read it."""
    match = NAME.match(name)
    path = ws.folder("reports") / name
    if match is None or not _visible(who, match["scope"]) or not path.is_file():
        raise NotVisibleError(f"report {name} was not found")
    return FileResponse(path, media_type=_MEDIA[match["format"]], filename=name)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Unless background jobs are off, send the scheduled reports that are due."""
    job = None
    if app.state.background_jobs:
        ws = app.state.workspace
        args = ["report", "run-due", "--json", "-w", str(ws.root)]
        job = asyncio.create_task(
            every(CHECK_SECONDS, lambda: run_job(args, "scheduled reports"), "scheduled reports")
        )
    try:
        yield
    finally:
        if job is not None:
            job.cancel()
            with suppress(asyncio.CancelledError):
                await job
