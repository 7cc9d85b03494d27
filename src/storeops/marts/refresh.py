"""The mart refresh: every mart the dashboard, reports, goals and alerts read, rebuilt
in one pass and in dependency order.

:data:`MART_STEPS` is the registry: each :class:`MartStep` names a mart build and
gives a callable ``(ws, wh) -> rows written``. A step that can rebuild a range of
local days also gives ``build_range`` ``(ws, wh, date_from, date_to) -> rows``; a
range refresh runs the others whole. Steps run in the order listed, so a step may
read the marts of the steps before it (the KPI mart reads the daily marts).

:func:`refresh_marts` runs them with a progress bar; ``storeops demo`` and
``storeops marts refresh`` call it, and so can a scheduler.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from storeops.errors import StoreOpsError
from storeops.marts.dashboard_behaviour import build_behaviour_marts
from storeops.marts.dashboard_customers import build_customer_marts
from storeops.marts.dashboard_forecast import build_forecast_marts, build_forecast_marts_if_new_day
from storeops.marts.kpi_daily import build_kpi_mart
from storeops.marts.traffic_daily import (
    build_store_performance_daily,
    build_traffic_daily,
    build_zone_daily,
)
from storeops.warehouse import Warehouse
from storeops.workspace import Workspace

StepBuild = Callable[[Workspace, Warehouse], int]
RangeBuild = Callable[[Workspace, Warehouse, date | None, date | None], int]


class MartRefreshError(StoreOpsError, ValueError):
    """The marts cannot be refreshed as asked (unknown step, bad range)."""


@dataclass(frozen=True)
class MartStep:
    """One mart build: a name (the mart, or a group of marts) and how to run it."""

    name: str
    build: StepBuild
    build_range: RangeBuild | None = None

    def run(
        self, ws: Workspace, wh: Warehouse, date_from: date | None, date_to: date | None
    ) -> int:
        if self.build_range is not None and (date_from is not None or date_to is not None):
            return self.build_range(ws, wh, date_from, date_to)
        return self.build(ws, wh)


@dataclass(frozen=True)
class StepResult:
    """What one step did: rows written and seconds taken."""

    name: str
    rows: int
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        # "mart" as in :class:`~storeops.marts.traffic_daily.MartBuild`, for scripts.
        return {"mart": self.name, "rows": self.rows, "seconds": round(self.seconds, 3)}


def _traffic(ws: Workspace, wh: Warehouse, a: date | None = None, b: date | None = None) -> int:
    return build_traffic_daily(wh, a, b).rows


def _performance(ws: Workspace, wh: Warehouse, a: date | None = None, b: date | None = None) -> int:
    return build_store_performance_daily(wh, a, b).rows


def _zones(ws: Workspace, wh: Warehouse, a: date | None = None, b: date | None = None) -> int:
    return build_zone_daily(wh, a, b).rows


def _kpi_daily(ws: Workspace, wh: Warehouse, a: date | None = None, b: date | None = None) -> int:
    return build_kpi_mart(ws, a, b, wh=wh).rows


#: The mart builds, in the order they run. Add a step with one line.
MART_STEPS: tuple[MartStep, ...] = (
    MartStep("mart_traffic_daily", _traffic, _traffic),
    MartStep("mart_store_performance_daily", _performance, _performance),
    MartStep("mart_zone_daily", _zones, _zones),
    MartStep("mart_kpi_daily", _kpi_daily, _kpi_daily),
    MartStep("dashboard_behaviour", build_behaviour_marts),
    MartStep("dashboard_customers", build_customer_marts),
    MartStep("forecast_and_staffing", build_forecast_marts, build_forecast_marts_if_new_day),
)


def step_names() -> list[str]:
    return [s.name for s in MART_STEPS]


def refresh_marts(
    ws: Workspace,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    only: Sequence[str] | None = None,
    progress: bool = True,
    wh: Warehouse | None = None,
) -> list[StepResult]:
    """Run :data:`MART_STEPS` (or the ``only`` ones, in registry order) on ``ws``.

    ``date_from``/``date_to`` (inclusive local days) limit the steps that rebuild by
    range; the others are rebuilt whole. Pass an open ``wh`` to reuse it.
    """
    if date_from is not None and date_to is not None and date_from > date_to:
        raise MartRefreshError(f"--from {date_from} is after --to {date_to}; swap them")
    steps = list(MART_STEPS)
    if only:
        unknown = sorted(set(only) - set(step_names()))
        if unknown:
            raise MartRefreshError(
                f"unknown mart step(s) {', '.join(unknown)}; known: {', '.join(step_names())}"
            )
        steps = [s for s in steps if s.name in set(only)]
    if wh is None:
        with ws.warehouse() as opened:
            return _run(ws, opened, steps, date_from, date_to, progress)
    return _run(ws, wh, steps, date_from, date_to, progress)


def _run(
    ws: Workspace,
    wh: Warehouse,
    steps: list[MartStep],
    date_from: date | None,
    date_to: date | None,
    progress: bool,
) -> list[StepResult]:
    results: list[StepResult] = []
    columns = (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
    )
    with Progress(
        *columns, console=Console(stderr=True), disable=not progress, transient=True
    ) as bar:
        task = bar.add_task("marts", total=len(steps))
        for step in steps:
            bar.update(task, description=f"marts: {step.name}")
            started = time.perf_counter()
            rows = step.run(ws, wh, date_from, date_to)
            results.append(StepResult(step.name, rows, time.perf_counter() - started))
            bar.advance(task)
    return results
