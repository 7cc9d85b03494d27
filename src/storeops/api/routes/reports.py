"""Generated reports over HTTP, and the scheduler that builds and sends them.

``GET /api/reports`` lists the report files in the workspace ``reports/`` folder that
the caller may read; ``GET /api/reports/{name}`` downloads one. Both need
``reports:read``. A store-scoped caller (a store manager) sees only their stores'
reports: another store's report, or a chain report, answers 404 as if it did not
exist (:mod:`storeops.reports.files`).

:func:`lifespan` runs ``storeops report run-due`` every few minutes in a child
process (see :mod:`storeops.api.jobs`): scheduled reports are built once their period
is complete and handed to their notification channel once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query
from fastapi.responses import FileResponse
from pydantic import BaseModel

from storeops.access import Permission, Principal
from storeops.api.auth import requires
from storeops.api.deps import WorkspaceDep
from storeops.api.errors import ERROR_RESPONSES
from storeops.api.jobs import every, run_job
from storeops.reports.files import MEDIA_TYPES, list_report_files, report_file
from storeops.reports.schedule import CHECK_SECONDS

router = APIRouter(prefix="/api/reports", tags=["reports"], responses=ERROR_RESPONSES)

Reader = Annotated[Principal, Depends(requires(Permission.REPORTS_READ))]


class ReportFilePublic(BaseModel):
    name: str
    kind: str
    scope: str  # a store id, or "chain"
    period: str
    locale: str
    format: str
    bytes: int
    url: str


class ReportList(BaseModel):
    reports: list[ReportFilePublic]


@router.get("", response_model=ReportList)
def list_reports(
    who: Reader,
    ws: WorkspaceDep,
    store: Annotated[str | None, Query(max_length=64, description="Only this store.")] = None,
) -> Any:
    """The generated reports this caller may read (newest period first)."""
    files = list_report_files(ws.folder("reports"), who, store_id=store)
    return {"reports": [f.to_dict() | {"url": f"{router.prefix}/{f.name}"} for f in files]}


@router.get(
    "/{name}",
    response_class=FileResponse,
    responses={200: {"content": {m.split(";")[0]: {} for m in MEDIA_TYPES.values()},
                     "description": "The report file."}},
)  # fmt: skip
def download_report(name: str, who: Reader, ws: WorkspaceDep) -> FileResponse:
    """One report file, if this caller may read it."""
    found = report_file(ws.folder("reports"), who, name)
    return FileResponse(found.path, media_type=found.media_type, filename=found.name)


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
