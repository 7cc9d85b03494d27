"""``storeops pos export``: move the till's sales from the ops database to the warehouse."""

from __future__ import annotations

import typer

from storeops.cli.common import (
    JsonOption,
    WorkspaceOption,
    console,
    handle_errors,
    print_json,
    workspace_from,
)
from storeops.pos.feed import export_feed

pos_app = typer.Typer(help="The POS feed (sales made through /api/pos).", no_args_is_help=True)


@pos_app.command("export")
@handle_errors
def export(workspace: WorkspaceOption = None, as_json: JsonOption = False) -> None:
    """Append committed sales and refunds to the warehouse (each exactly once)."""
    ws = workspace_from(workspace)
    with ws.warehouse() as wh:
        counts = export_feed(ws.ops_engine(), wh)
    if as_json:
        print_json(counts)
        return
    console.print(", ".join(f"{n} {table}" for table, n in counts.items()) + " exported")


def register(app: typer.Typer) -> None:
    app.add_typer(pos_app, name="pos")
