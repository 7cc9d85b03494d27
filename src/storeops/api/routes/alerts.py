"""Alerts API: ``GET /api/alerts`` (alerts in the caller's stores) and
``POST /api/alerts/{alert_id}/ack``; and the scheduler that evaluates the rules and
delivers notifications while ``storeops serve`` runs.

Listing and acknowledging need ``analytics:read``; a store manager sees and
acknowledges only its stores' alerts (another store's alert is not found). Handlers
are thin: :mod:`storeops.alerts.events` does the work (the dashboard's alerts page
calls the same functions).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Path, Query

from storeops.access import Permission, Principal
from storeops.alerts import Alert, AlertQueryError, acknowledge, list_alerts
from storeops.api.auth import OpsEngineDep, requires
from storeops.api.errors import ERROR_RESPONSES
from storeops.api.jobs import every, run_job

router = APIRouter(prefix="/api/alerts", tags=["alerts"], responses=ERROR_RESPONSES)

Reader = Annotated[Principal, Depends(requires(Permission.ANALYTICS_READ))]

#: Rules are evaluated this often (each run looks at the last days of the KPI mart;
#: alerts already recorded are not repeated).
EVALUATE_EVERY_SECONDS = 900.0
#: Due deliveries (first attempts and retries) are attempted this often.
DELIVER_EVERY_SECONDS = 30.0


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Unless background jobs are off: ``storeops alerts evaluate`` (which also sends
    what it queues) and ``storeops channels deliver`` (retries) in child processes."""
    jobs: list[asyncio.Task[None]] = []
    if app.state.background_jobs:
        root = str(app.state.workspace.root)
        evaluate = ["alerts", "evaluate", "--json", "-w", root]
        deliver = ["channels", "deliver", "--json", "-w", root]
        jobs.append(asyncio.create_task(
            every(EVALUATE_EVERY_SECONDS, lambda: run_job(evaluate, "alert evaluation"),
                  "alert evaluation")
        ))  # fmt: skip
        jobs.append(asyncio.create_task(
            every(DELIVER_EVERY_SECONDS, lambda: run_job(deliver, "notification delivery"),
                  "notification delivery")
        ))  # fmt: skip
    try:
        yield
    finally:
        for job in jobs:
            job.cancel()
            with suppress(asyncio.CancelledError):
                await job


@router.get("", response_model=list[Alert])
def alerts(
    who: Reader,
    engine: OpsEngineDep,
    status: Literal["open", "acknowledged", "all"] = "open",
    store_id: Annotated[str | None, Query(max_length=64)] = None,
    level: Literal["red", "yellow", "blue"] | None = None,
    kpi: Annotated[str | None, Query(max_length=64)] = None,
    date_from: date | None = None,
    date_to: date | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> Any:
    """Alerts in the caller's stores, newest day first (most severe first in a day)."""
    try:
        found = list_alerts(
            engine, who, status=status, store_id=store_id, level=level, kpi=kpi,
            date_from=date_from, date_to=date_to, limit=limit,
        )  # fmt: skip
    except AlertQueryError as exc:
        raise HTTPException(422, str(exc)) from None
    return [a.to_dict() for a in found]


@router.post("/{alert_id}/ack", response_model=Alert)
def ack(alert_id: Annotated[int, Path(ge=1, le=2**53)], who: Reader, engine: OpsEngineDep) -> Any:
    """Acknowledge an alert (again: the first acknowledgement is kept)."""
    return acknowledge(engine, alert_id, f"{who.kind}:{who.id}", who).to_dict()
