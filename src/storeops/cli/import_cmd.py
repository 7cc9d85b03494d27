"""``storeops import KIND FILE``: load a source file into a canonical table."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from storeops.cli.common import (
    JsonOption,
    WorkspaceOption,
    console,
    handle_errors,
    print_json,
    workspace_from,
)
from storeops.ingest import LoadResult, import_file
from storeops.warehouse.schema import TABLES


@handle_errors
def import_command(
    kind: Annotated[
        str, typer.Argument(help=f"Target table: {', '.join(TABLES.importable_names)}.")
    ],
    file: Annotated[
        Path,
        typer.Argument(help="CSV/TSV (UTF-8 or GBK), XLSX, Parquet or JSON Lines file."),
    ],
    mapping: Annotated[
        Path | None,
        typer.Option(
            "--mapping",
            "-m",
            help="mapping.toml (default: mapping.toml next to FILE, if there is one).",
        ),
    ] = None,
    workspace: WorkspaceOption = None,
    json_output: JsonOption = False,
) -> None:
    """Validate FILE and load its good rows into KIND; bad rows go to the quarantine."""
    ws = workspace_from(workspace)
    result = import_file(ws, kind, file, mapping, progress=not json_output or sys.stderr.isatty())
    if json_output:
        print_json(result.to_dict())
        return
    console.print(summary(result))
    for error in result.first_errors:
        console.print(Text(f"  {error}", style="yellow"))
    if result.quarantined:
        console.print(
            f"Fix the rejected rows with `storeops quarantine export {result.load_id[:8]}`, "
            "then import the exported file.",
            highlight=False,
        )


def summary(result: LoadResult) -> Table:
    title = f"{result.kind} ← {Path(result.file_name).name}"
    if result.status == "already_loaded":
        title += " (already loaded: nothing added)"
    table = Table(title=title, title_justify="left")
    for name in ("rows read", "loaded", "duplicates", "quarantined"):
        table.add_column(name, justify="right")
    table.add_row(
        f"{result.rows_read:,}",
        f"{result.loaded:,}",
        f"{result.duplicates:,}",
        f"{result.quarantined:,}",
    )
    return table


def register(app: typer.Typer) -> None:
    app.command("import")(import_command)
