"""``storeops marts``: rebuild the marts the dashboard, reports, goals and alerts read."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from storeops.cli.common import (
    JsonOption,
    SinceOption,
    UntilOption,
    WorkspaceOption,
    console,
    handle_errors,
    parse_day,
    print_json,
    workspace_from,
)
from storeops.marts.refresh import refresh_marts, step_names

marts_app = typer.Typer(help="Marts: derived tables for fast reads.", no_args_is_help=True)


@marts_app.command("refresh")
@handle_errors
def refresh(
    since: SinceOption = None,
    until: UntilOption = None,
    only: Annotated[
        list[str] | None,
        typer.Option("--only", help="Only this step (repeatable); see `storeops marts steps`."),
    ] = None,
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Rebuild every registered mart, in order (a range limits the steps that can)."""
    start, end = parse_day(since, "--from"), parse_day(until, "--to")
    ws = workspace_from(workspace)
    results = refresh_marts(ws, date_from=start, date_to=end, only=only, progress=not as_json)
    if as_json:
        print_json(
            {
                "from": start.isoformat() if start else None,
                "to": end.isoformat() if end else None,
                "steps": [r.to_dict() for r in results],
                "seconds": round(sum(r.seconds for r in results), 3),
            }
        )
        return
    days = f"{start or 'first day'} … {end or 'last day'}" if start or end else "all days"
    table = Table("mart", "rows written", "seconds", title=f"Marts refreshed: {days}")
    for r in results:
        table.add_row(r.name, f"{r.rows:,}", f"{r.seconds:.2f}")
    console.print(table)


@marts_app.command("steps")
@handle_errors
def steps(as_json: JsonOption = False) -> None:
    """The registered mart steps, in the order they run."""
    names = step_names()
    if as_json:
        print_json(names)
        return
    for name in names:
        console.print(name)


def register(app: typer.Typer) -> None:
    app.add_typer(marts_app, name="marts")
