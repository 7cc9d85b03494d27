"""``storeops lifecycle``: new / returning / resurrecting / dormant customers per period."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

import typer
from rich.table import Table

from storeops.analytics.lifecycle import STATUSES, LifecycleInsight, LifecycleQuery, Period
from storeops.cli.common import (
    JsonOption,
    SinceOption,
    UntilOption,
    WorkspaceOption,
    console,
    handle_errors,
    print_json,
    workspace_from,
)
from storeops.marts.clv_scores import default_as_of


@handle_errors
def lifecycle(
    period: Annotated[str, typer.Option(help="day, week or month.")] = "week",
    since: SinceOption = None,
    until: UntilOption = None,
    store: Annotated[str | None, typer.Option(help="Only purchases in this store.")] = None,
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Lifecycle of active customers per period, as a table and chart data."""
    if period not in ("day", "week", "month"):
        raise typer.BadParameter("period must be day, week or month", param_hint="--period")
    ws = workspace_from(workspace)
    with ws.warehouse() as wh:
        # --to is the last day shown; the query's end is exclusive.
        end = date.fromisoformat(until) + timedelta(days=1) if until else default_as_of(wh)
        start = date.fromisoformat(since) if since else end - timedelta(days=182)
        query = LifecycleQuery(period=_period(period), since=start, until=end, store_id=store)
        result = LifecycleInsight(wh, query).calculate()
    chart = result.chart_data()
    if as_json:
        print_json({"period": period, **chart})
        return
    table = Table("period", *STATUSES, title=f"Customer lifecycle per {period}")
    for i, label in enumerate(chart["periods"]):
        table.add_row(label, *(str(chart["series"][s][i]) for s in STATUSES))
    console.print(table)


def _period(value: str) -> Period:
    return "day" if value == "day" else "month" if value == "month" else "week"


def register(app: typer.Typer) -> None:
    app.command("lifecycle")(lifecycle)
