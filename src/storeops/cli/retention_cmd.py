"""``storeops retention``: cohorts and how many of them came back, period by period."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from storeops.behaviour.retention import Activity, Period, RetentionQuery
from storeops.behaviour.service import run_retention
from storeops.cli.behaviour_common import CountByOption, KnownOnlyOption, count_by_from, day_range
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

_PERIODS: dict[str, Period] = {"day": "day", "week": "week", "month": "month"}
_ACTIVITIES: dict[str, Activity] = {"event": "event", "purchase": "purchase"}


@handle_errors
def retention(
    period: Annotated[str, typer.Option(help="day, week or month.")] = "week",
    periods: Annotated[int, typer.Option(help="Periods shown after the cohort's own.")] = 8,
    cohort: Annotated[
        str, typer.Option("--cohort", help="Cohort by first event or first purchase.")
    ] = "event",
    cohort_event: Annotated[
        str | None, typer.Option(help="The first event that makes the cohort (default: any).")
    ] = None,
    returning: Annotated[
        str, typer.Option("--return", help="Return activity: event or purchase.")
    ] = "event",
    return_event: Annotated[
        str | None, typer.Option(help="The event that counts as coming back (default: any).")
    ] = None,
    unbounded: Annotated[
        bool, typer.Option(help="Count a person at N if active in period N or later.")
    ] = False,
    since: SinceOption = None,
    until: UntilOption = None,
    count_by: CountByOption = "customer",
    known_only: KnownOnlyOption = False,
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Retention cohorts: bounded or unbounded, with revenue retention."""
    if period not in _PERIODS:
        raise typer.BadParameter("use day, week or month", param_hint="--period")
    for value, hint in ((cohort, "--cohort"), (returning, "--return")):
        if value not in _ACTIVITIES:
            raise typer.BadParameter("use event or purchase", param_hint=hint)
    start, end = day_range(since, until)
    query = RetentionQuery(
        period=_PERIODS[period],
        periods=periods,
        cohort_by=_ACTIVITIES[cohort],
        cohort_event=cohort_event,
        return_by=_ACTIVITIES[returning],
        return_event=return_event,
        bounded=not unbounded,
        count_by=count_by_from(count_by),
        include_anonymous=not known_only,
        since=start,
        until=end,
    )
    result = run_retention(workspace_from(workspace), query)
    data = result.to_dict()
    if as_json:
        print_json(data)
        return
    width = max((len(c["rates"]) for c in data["cohorts"]), default=0)
    kind = "unbounded" if unbounded else "bounded"
    table = Table(
        "cohort", "people", *[str(n) for n in range(width)], title=f"{period} retention, {kind}"
    )
    for c in data["cohorts"]:
        table.add_row(c["cohort"], str(c["size"]), *[f"{r:.0%}" for r in c["rates"]])
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command("retention")(retention)
