"""``storeops paths``: the top events after or before a chosen event, sankey-ready."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from storeops.behaviour.paths import PathsQuery
from storeops.behaviour.service import run_paths
from storeops.behaviour.validation import parse_duration
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


@handle_errors
def paths(
    event: Annotated[str, typer.Option(help="The anchor event, e.g. 'Product Viewed'.")],
    before: Annotated[bool, typer.Option(help="Paths leading to the event instead.")] = False,
    steps: Annotated[int, typer.Option(help="Hops after (before) the event.")] = 3,
    top: Annotated[int, typer.Option(help="Named events per hop; the rest are (other).")] = 8,
    max_gap: Annotated[
        str, typer.Option(help="A longer pause ends the path (30m, 1h), or 'none'.")
    ] = "30m",
    collapse_repeats: Annotated[
        bool, typer.Option(help="Count repeated consecutive events once.")
    ] = False,
    since: SinceOption = None,
    until: UntilOption = None,
    count_by: CountByOption = "customer",
    known_only: KnownOnlyOption = False,
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Paths: what people do next (or did before), with sankey links."""
    start, end = day_range(since, until)
    query = PathsQuery(
        event=event,
        direction="before" if before else "after",
        steps=steps,
        top=top,
        max_gap_seconds=None if max_gap.lower() == "none" else parse_duration(max_gap),
        collapse_repeats=collapse_repeats,
        count_by=count_by_from(count_by),
        include_anonymous=not known_only,
        since=start,
        until=end,
    )
    result = run_paths(workspace_from(workspace), query)
    if as_json:
        print_json(result.to_dict())
        return
    word = "before" if before else "after"
    table = Table("event", "paths", "people", "share", title=f"Right {word} {event!r}")
    for t in result.top:
        table.add_row(t["event"], str(t["occurrences"]), str(t["people"]), f"{t['share']:.1%}")
    console.print(table)
    links = Table("from", "to", "paths", title="Sankey links")
    for link in result.links:
        links.add_row(link["source"], link["target"], str(link["value"]))
    console.print(links)


def register(app: typer.Typer) -> None:
    app.command("paths")(paths)
