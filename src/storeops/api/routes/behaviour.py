"""Behaviour analytics as JSON: ``POST /api/behaviour/funnel``, ``/retention``, ``/paths``.

Bodies are the insights' own typed queries (``FunnelQuery``, ``RetentionQuery``,
``PathsQuery``), so the OpenAPI schema documents every option; answers are the
results' ``to_dict()``, the same JSON as ``storeops funnel|retention|paths --json``.
Handlers are thin: :mod:`storeops.behaviour.service` opens the warehouse and runs
the insight. Invalid queries answer 422 with the rule's stable ``code``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException
from pydantic import Field

from storeops.access import Permission
from storeops.api.auth import requires
from storeops.api.deps import WorkspaceDep
from storeops.api.errors import ERROR_RESPONSES
from storeops.behaviour.events import BehaviourError
from storeops.behaviour.funnel import FunnelQuery
from storeops.behaviour.paths import PathsQuery
from storeops.behaviour.retention import RetentionQuery
from storeops.behaviour.service import run_funnel, run_paths, run_retention
from storeops.behaviour.validation import parse_duration

#: Behaviour analytics span every store: analysts, marketers, owners and admins.
router = APIRouter(
    prefix="/api/behaviour",
    tags=["behaviour"],
    responses=ERROR_RESPONSES,
    dependencies=[Depends(requires(Permission.ANALYTICS_READ, chain_wide=True))],
)


class FunnelRequest(FunnelQuery):
    window: str | None = Field(
        default=None, description="Conversion window as text (7d, 12h); overrides window_seconds."
    )
    dropoff_step: int | None = Field(
        default=None, ge=1, description="Also list who stopped at this step (1-based)."
    )
    segment: str | None = Field(
        default=None, description="Save the drop-off list as this segment (mart_segment_NAME)."
    )


def _invalid(exc: BehaviourError) -> HTTPException:
    return HTTPException(status_code=422, detail={"code": exc.code, "message": str(exc)})


@router.post("/funnel")
def funnel(body: FunnelRequest, ws: WorkspaceDep) -> dict[str, Any]:
    """People who reached each step of an ordered funnel within the window."""
    try:
        fields = body.model_dump(exclude={"window", "dropoff_step", "segment"})
        if body.window is not None:
            fields["window_seconds"] = parse_duration(body.window)
        if body.segment is not None and body.dropoff_step is None:
            raise BehaviourError("funnel.segment_needs_step", "segment needs dropoff_step")
        result, people, saved = run_funnel(
            ws, FunnelQuery(**fields), dropoff_step=body.dropoff_step, segment=body.segment
        )
    except BehaviourError as exc:
        raise _invalid(exc) from None
    data = result.to_dict()
    if body.dropoff_step is not None:
        data["dropoffs"] = {"step": body.dropoff_step, "people": people}
    if saved is not None:
        data["segment"] = saved.to_dict()
    return data


@router.post("/retention")
def retention(body: RetentionQuery, ws: WorkspaceDep) -> dict[str, Any]:
    """Cohorts by first event or purchase and their return rates per period."""
    try:
        return run_retention(ws, body).to_dict()
    except BehaviourError as exc:
        raise _invalid(exc) from None


@router.post("/paths")
def paths(body: PathsQuery, ws: WorkspaceDep) -> dict[str, Any]:
    """Top next (previous) events around an event, and sankey links."""
    try:
        return run_paths(ws, body).to_dict()
    except BehaviourError as exc:
        raise _invalid(exc) from None
