"""The mart refresh of ``storeops serve``: no endpoints, a scheduler.

Every :data:`REFRESH_EVERY_SECONDS` it runs ``storeops marts refresh`` in a child
process (:mod:`storeops.api.jobs`) for yesterday and today in the workspace's time
zone: the steps that rebuild by day replace those days (late sales of yesterday
included), the others — the KPI mart, the dashboard's marts, forecasts — are rebuilt
whole. The dashboard's snapshot, the alert rules and the reports then read fresh
marts. A full rebuild stays a command: ``storeops marts refresh``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, FastAPI

from storeops.api.jobs import every, run_job

router = APIRouter()

#: How often the marts are refreshed while ``storeops serve`` runs.
REFRESH_EVERY_SECONDS = 900.0


def refresh_args(root: str, timezone: str, now: datetime | None = None) -> list[str]:
    """``storeops marts refresh`` for yesterday and today (local days of ``timezone``)."""
    today: date = (now or datetime.now(UTC)).astimezone(ZoneInfo(timezone)).date()
    yesterday = today - timedelta(days=1)
    return ["marts", "refresh", "--from", yesterday.isoformat(), "--to", today.isoformat(),
            "--json", "-w", root]  # fmt: skip


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Unless background jobs are off, refresh the marts on a schedule."""
    job = None
    if app.state.background_jobs:
        ws = app.state.workspace

        def refresh() -> Any:
            args = refresh_args(str(ws.root), ws.settings.default_timezone)
            return run_job(args, "mart refresh")

        job = asyncio.create_task(every(REFRESH_EVERY_SECONDS, refresh, "mart refresh"))
    try:
        yield
    finally:
        if job is not None:
            job.cancel()
            with suppress(asyncio.CancelledError):
                await job
