"""Services behind the CLI and the API: open the warehouse, run an insight, save
segments. Callers (route handlers, commands) stay thin."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from storeops.behaviour.funnel import FunnelInsight, FunnelQuery, FunnelResult
from storeops.behaviour.paths import PathsInsight, PathsQuery, PathsResult
from storeops.behaviour.retention import RetentionInsight, RetentionQuery, RetentionResult
from storeops.behaviour.segments import save_segment
from storeops.workspace import Workspace


@dataclass
class SavedSegment:
    name: str
    step: int  # 1-based, as people count steps
    people: int

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "step": self.step, "people": self.people}


def run_funnel(
    ws: Workspace,
    query: FunnelQuery,
    *,
    dropoff_step: int | None = None,
    segment: str | None = None,
) -> tuple[FunnelResult, list[str], SavedSegment | None]:
    """The funnel; with ``dropoff_step`` (1-based) also who stopped there, saved as
    ``segment`` when a name is given."""
    with ws.warehouse() as wh:
        insight = FunnelInsight(wh, query)
        result = insight.calculate()
        people: list[str] = []
        saved = None
        if dropoff_step is not None:
            expr = insight.dropoff_expr(dropoff_step - 1)
            if segment is not None:
                definition = {"funnel": query.model_dump(mode="json"), "step": dropoff_step}
                n = save_segment(wh, segment, expr, definition)
                saved = SavedSegment(segment, dropoff_step, n)
            people = [str(p) for p in wh.to_pandas(expr.limit(1000))["person_id"]]
    return result, people, saved


def run_retention(ws: Workspace, query: RetentionQuery) -> RetentionResult:
    with ws.warehouse() as wh:
        return RetentionInsight(wh, query).calculate()


def run_paths(ws: Workspace, query: PathsQuery) -> PathsResult:
    with ws.warehouse() as wh:
        return PathsInsight(wh, query).calculate()
