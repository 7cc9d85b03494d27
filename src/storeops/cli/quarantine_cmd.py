"""``storeops quarantine list|show|export``: inspect and fix rejected rows."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from storeops.cli.common import (
    JsonOption,
    WorkspaceOption,
    console,
    handle_errors,
    print_json,
    workspace_from,
)
from storeops.ingest import quarantine

quarantine_app = typer.Typer(
    help="Rows rejected by imports: list, show, export for fixing.", no_args_is_help=True
)


@quarantine_app.command("list")
@handle_errors
def list_command(
    kind: Annotated[str | None, typer.Option(help="Only loads into this table.")] = None,
    workspace: WorkspaceOption = None,
    json_output: JsonOption = False,
) -> None:
    """Loads that have quarantined rows, newest first."""
    with workspace_from(workspace).warehouse() as wh:
        loads = quarantine.list_loads(wh, kind=kind)
    if json_output:
        print_json(loads)
        return
    table = Table(title="Loads with quarantined rows", title_justify="left")
    for name in ("load", "kind", "file", "started (UTC)", "read", "loaded", "quarantined"):
        table.add_column(name)
    for load in loads:
        table.add_row(
            load["load_id"][:8],
            load["kind"],
            Path(load["file_name"]).name,
            str(load["started_at"])[:19],
            str(load["rows_read"]),
            str(load["loaded"]),
            str(load["quarantined"]),
        )
    console.print(table)


@quarantine_app.command("show")
@handle_errors
def show_command(
    load_id: Annotated[str, typer.Argument(help="Load id (a unique prefix is enough).")],
    limit: Annotated[int | None, typer.Option(help="Show at most this many rows.")] = None,
    workspace: WorkspaceOption = None,
    json_output: JsonOption = False,
) -> None:
    """The rejected rows of one load: line, reason and raw text."""
    with workspace_from(workspace).warehouse() as wh:
        rows = quarantine.show(wh, load_id, limit=limit)
    if json_output:
        print_json([{"line": r.line, "reason": r.reason, "raw": r.raw} for r in rows])
        return
    table = Table(title=f"Quarantined rows of load {load_id}", title_justify="left")
    table.add_column("line", justify="right")
    table.add_column("reason")
    table.add_column("raw")
    for r in rows:
        table.add_row(str(r.line), r.reason, r.raw)
    console.print(table)


@quarantine_app.command("export")
@handle_errors
def export_command(
    load_id: Annotated[str, typer.Argument(help="Load id (a unique prefix is enough).")],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="File to write (default: next to the original)."),
    ] = None,
    workspace: WorkspaceOption = None,
    json_output: JsonOption = False,
) -> None:
    """Write the rejected rows in the original layout, to fix and import again."""
    with workspace_from(workspace).warehouse() as wh:
        path = quarantine.export(wh, load_id, output)
    if json_output:
        print_json({"file": str(path)})
        return
    console.print(f"wrote [bold]{path}[/]; fix it, then `storeops import KIND {path}`")


def register(app: typer.Typer) -> None:
    app.add_typer(quarantine_app, name="quarantine")
