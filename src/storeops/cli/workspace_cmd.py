"""``storeops init``: create a workspace."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from storeops.cli.common import console, handle_errors
from storeops.workspace import init_workspace


@handle_errors
def init(
    directory: Annotated[Path, typer.Argument(help="Folder for the new workspace.")],
    backend: Annotated[
        str, typer.Option(help="Warehouse engine: duckdb (embedded) or spark.")
    ] = "duckdb",
    timezone: Annotated[
        str, typer.Option(help="Default IANA time zone of the stores.")
    ] = "Asia/Shanghai",
) -> None:
    """Create a workspace (settings, warehouse, ops database, folders). Safe to re-run."""
    ws = init_workspace(directory, backend=backend, timezone=timezone)
    console.print(f"workspace ready: [bold]{ws.root}[/]")


def register(app: typer.Typer) -> None:
    app.command("init")(init)
