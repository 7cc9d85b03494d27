"""``storeops funnel``: people through ordered steps within a conversion window."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from storeops.behaviour.funnel import FunnelQuery, StepResult, parse_steps, window_label
from storeops.behaviour.service import run_funnel
from storeops.behaviour.validation import parse_duration
from storeops.cli.behaviour_common import (
    CountByOption,
    KnownOnlyOption,
    count_by_from,
    day_range,
)
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


@handle_errors
def funnel(
    steps: Annotated[
        str,
        typer.Option(
            help="Comma-separated steps in order; ?STEP is optional, "
            "STEP[key=value;key2=value2] filters on properties."
        ),
    ],
    window: Annotated[str, typer.Option(help="Conversion window: 7d, 12h, 30m.")] = "7d",
    by: Annotated[
        str | None,
        typer.Option("--by", help="Breakdown: store, channel, source, campaign or a path."),
    ] = None,
    since: SinceOption = None,
    until: UntilOption = None,
    count_by: CountByOption = "customer",
    known_only: KnownOnlyOption = False,
    dropoffs: Annotated[
        int | None,
        typer.Option(help="List who stopped at this step (1-based; the last: who converted)."),
    ] = None,
    save_segment: Annotated[
        str | None, typer.Option(help="Save the --dropoffs list as this segment.")
    ] = None,
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Funnel: people who reached each step, conversion rates, time to convert."""
    if save_segment is not None and dropoffs is None:
        raise typer.BadParameter(
            "--save-segment needs --dropoffs STEP", param_hint="--save-segment"
        )
    start, end = day_range(since, until)
    query = FunnelQuery(
        steps=parse_steps(steps),
        window_seconds=parse_duration(window),
        breakdown=by,
        since=start,
        until=end,
        count_by=count_by_from(count_by),
        include_anonymous=not known_only,
    )
    result, people, saved = run_funnel(
        workspace_from(workspace), query, dropoff_step=dropoffs, segment=save_segment
    )
    if as_json:
        data = result.to_dict()
        if dropoffs is not None:
            data["dropoffs"] = {"step": dropoffs, "people": people}
        if saved is not None:
            data["segment"] = saved.to_dict()
        print_json(data)
        return
    console.print(_table(result.steps, f"Funnel, {window_label(query.window_seconds)} window"))
    for value, steps_ in result.breakdown.items():
        console.print(_table(steps_, f"{by} = {value}"))
    if result.median_seconds_to_convert is not None:
        console.print(f"median time to convert: {result.median_seconds_to_convert:,.0f} s")
    if dropoffs is not None:
        console.print(f"stopped at step {dropoffs}: {len(people)} shown")
        for p in people[:20]:
            console.print(f"  {p}")
    if saved is not None:
        console.print(f"saved segment {saved.name!r} ({saved.people} people)")


def _table(steps: list[StepResult], title: str) -> Table:
    table = Table("#", "step", "people", "from previous", "from start", title=title)
    for s in steps:
        table.add_row(
            str(s.index),
            s.name + (" (optional)" if s.optional else ""),
            str(s.count),
            "" if s.conversion_from_previous is None else f"{s.conversion_from_previous:.1%}",
            "" if s.conversion_from_start is None else f"{s.conversion_from_start:.1%}",
        )
    return table


def register(app: typer.Typer) -> None:
    app.command("funnel")(funnel)
