"""Entry point: ``storeops COMMAND``. Each command group lives in its own module
under ``storeops.cli`` and registers itself through ``register(app)``."""

from __future__ import annotations

import importlib

import typer

from storeops import __version__

app = typer.Typer(
    name="storeops",
    help="Retail operations: traffic, conversion, customers, loyalty and campaigns.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)

# Command modules, in the order they appear in --help.
COMMAND_MODULES = (
    "storeops.cli.workspace_cmd",
    "storeops.cli.import_cmd",
    "storeops.cli.quarantine_cmd",
    "storeops.cli.demo_cmd",
    "storeops.cli.schema_cmd",
    "storeops.cli.customers_cmd",
    "storeops.cli.tags_cmd",
    "storeops.cli.rfm_cmd",
    "storeops.cli.lifecycle_cmd",
    "storeops.cli.clv_cmd",
    "storeops.cli.churn_cmd",
    "storeops.cli.traffic_cmd",
    "storeops.cli.marts_cmd",
    "storeops.cli.dashboard_cmd",
    "storeops.cli.kpi_cmd",
    "storeops.cli.goals_cmd",
    "storeops.cli.zones_cmd",
    "storeops.cli.funnel_cmd",
    "storeops.cli.retention_cmd",
    "storeops.cli.paths_cmd",
    "storeops.cli.serve_cmd",
    "storeops.cli.sources_cmd",
    "storeops.cli.collector_cmd",
    "storeops.cli.users_cmd",
    "storeops.cli.promotions_cmd",
    "storeops.cli.pos_cmd",
    "storeops.cli.privacy_cmd",
    "storeops.cli.loyalty_cmd",
    "storeops.cli.channels_cmd",
    "storeops.cli.alerts_cmd",
    "storeops.cli.report_cmd",
)

for module_name in COMMAND_MODULES:
    importlib.import_module(module_name).register(app)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"storeops {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version."
    ),
) -> None:
    """storeops command line."""


def main() -> None:
    app()
