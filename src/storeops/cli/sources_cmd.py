"""``storeops sources add|list|revoke``: collector sources and their write keys."""

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
from storeops.collector import add_source, list_sources, revoke_source

sources_app = typer.Typer(
    help="Collector sources (apps, sites, mini-programs) and their write keys.",
    no_args_is_help=True,
)


@sources_app.command("add")
@handle_errors
def add_command(
    source_id: Annotated[str, typer.Argument(help="Short id, e.g. 'mini-program'.")],
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    workspace: WorkspaceOption = None,
    json_output: JsonOption = False,
) -> None:
    """Create a source and print its write key: shown once, only its hash is kept."""
    key = add_source(workspace_from(workspace), source_id, name=name)
    if json_output:
        print_json({"source_id": source_id, "write_key": key})
        return
    console.print(f"source [bold]{source_id}[/] created. Write key (shown only now):")
    console.print(key, highlight=False, soft_wrap=True)


@sources_app.command("list")
@handle_errors
def list_command(workspace: WorkspaceOption = None, json_output: JsonOption = False) -> None:
    """Every source, active or revoked (keys are never shown again)."""
    sources = [s.to_dict() for s in list_sources(workspace_from(workspace))]
    if json_output:
        print_json(sources)
        return
    table = Table(title="Collector sources", title_justify="left")
    for column in ("source", "name", "key", "created (UTC)", "revoked (UTC)"):
        table.add_column(column)
    for s in sources:
        table.add_row(
            s["source_id"],
            s["name"],
            s["key_prefix"] + "…",
            s["created_at"][:19],
            (s["revoked_at"] or "")[:19],
        )
    console.print(table)


@sources_app.command("revoke")
@handle_errors
def revoke_command(
    source_id: Annotated[str, typer.Argument(help="Source to revoke.")],
    workspace: WorkspaceOption = None,
) -> None:
    """Revoke a source's write key; a running collector refuses it within seconds."""
    revoke_source(workspace_from(workspace), source_id)
    console.print(f"source [bold]{source_id}[/] revoked")


def register(app: typer.Typer) -> None:
    app.add_typer(sources_app, name="sources")
