"""``storeops collector load|stats|failures``: move the spool into the warehouse;
counters; refused events."""

from __future__ import annotations

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
from storeops.collector import collector_stats, load_spool, recent_failures

collector_app = typer.Typer(
    help="The event collector: load its spool, show its counters.", no_args_is_help=True
)


@collector_app.command("load")
@handle_errors
def load_command(workspace: WorkspaceOption = None, json_output: JsonOption = False) -> None:
    """Load sealed spool segments into the warehouse (exactly once per messageId).

    `storeops serve` does this every minute; run it yourself when the server is down.
    """
    report = load_spool(workspace_from(workspace))
    if json_output:
        print_json(report.to_dict())
        return
    console.print(
        f"{report.segments} segment(s), {report.batches} request(s): "
        f"{report.events_loaded} event(s) loaded, {report.load_duplicates} already stored, "
        f"{report.failed_events} failed event(s) recorded"
        + (f"; {report.skipped_active} active segment(s) left" if report.skipped_active else "")
    )


@collector_app.command("stats")
@handle_errors
def stats_command(workspace: WorkspaceOption = None, json_output: JsonOption = False) -> None:
    """Counters per source: received = accepted + duplicates + failed."""
    rows = collector_stats(workspace_from(workspace))
    if json_output:
        print_json(rows)
        return
    table = Table(
        title="Collector (received = accepted + duplicates + failed)", title_justify="left"
    )
    columns: tuple[str, ...] = (
        "requests",
        "refused_requests",
        "received",
        "accepted",
        "duplicates",
        "failed",
    )
    columns += ("loaded", "load_duplicates", "pending_events")
    table.add_column("source")
    for column in columns:
        table.add_column(column.replace("_", " "), justify="right")
    for row in rows:
        table.add_row(row["source_id"], *(f"{row[c]:,}" for c in columns))
    console.print(table)


@collector_app.command("failures")
@handle_errors
def failures_command(
    source: Annotated[str | None, typer.Option(help="Only this source.")] = None,
    code: Annotated[str | None, typer.Option(help="Only this code, e.g. bad_timestamp.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 20,
    workspace: WorkspaceOption = None,
    json_output: JsonOption = False,
) -> None:
    """Refused events (loaded ones): code, reason and the raw payload."""
    rows = recent_failures(workspace_from(workspace), source=source, code=code, limit=limit)
    if json_output:
        print_json(rows)
        return
    table = Table(title="Refused events, newest first", title_justify="left")
    for column in ("received (UTC)", "source", "#", "code", "reason", "raw"):
        table.add_column(column)
    for r in rows:
        table.add_row(
            (r["received_at"] or "")[:19],
            r["source_id"] or "",
            str(r["position"]),
            r["code"],
            r["reason"],
            r["raw"][:200],
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(collector_app, name="collector")
