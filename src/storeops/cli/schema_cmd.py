"""``storeops schema list|show``: the canonical data model on the command line."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from storeops.cli.common import JsonOption, console, handle_errors, print_json
from storeops.warehouse.docs import column_rules, table_to_dict
from storeops.warehouse.schema import TABLES

schema_app = typer.Typer(
    help="Show the canonical tables: columns, types, rules and natural keys.",
    no_args_is_help=True,
)


@schema_app.command("list")
@handle_errors
def list_tables(
    json_output: JsonOption = False,
    all_tables: Annotated[
        bool, typer.Option("--all", help="Include the importer's bookkeeping tables.")
    ] = False,
) -> None:
    """List the tables in import order (referenced tables first)."""
    names = TABLES.import_order()
    if all_tables:
        names += [t.name for t in TABLES if t.system]
    tables = [TABLES[name] for name in names]
    if json_output:
        print_json(
            [
                {
                    "name": t.name,
                    "description": t.description,
                    "natural_key": list(t.natural_key),
                    "columns": len(t.columns),
                    "system": t.system,
                }
                for t in tables
            ]
        )
        return
    grid = Table(title="Canonical tables (import order)")
    grid.add_column("table", style="bold")
    grid.add_column("natural key")
    grid.add_column("columns", justify="right")
    grid.add_column("description")
    for t in tables:
        grid.add_row(t.name, ", ".join(t.natural_key), str(len(t.columns)), t.description)
    console.print(grid)


@schema_app.command("show")
@handle_errors
def show_table(
    kind: Annotated[str, typer.Argument(help="Table name, e.g. orders.")],
    json_output: JsonOption = False,
) -> None:
    """Show one table's columns, types, required flags, ranges, choices and references."""
    table = TABLES[kind]  # unknown names raise SchemaError listing the choices
    if json_output:
        print_json(table_to_dict(table))
        return
    grid = Table(title=f"{table.name}: {table.description}", title_justify="left")
    grid.add_column("column", style="bold", no_wrap=True)
    grid.add_column("type", no_wrap=True)
    grid.add_column("required", no_wrap=True)
    grid.add_column("rules")
    for column in table.columns:
        grid.add_row(
            column.name,
            column.dtype,
            "yes" if column.required else "",
            "; ".join(column_rules(column, code="")),
        )
    console.print(grid)
    console.print(f"natural key: [bold]{', '.join(table.natural_key)}[/]", highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(schema_app, name="schema")
