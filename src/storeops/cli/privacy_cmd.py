"""``storeops privacy export|delete CUSTOMER``: a person's data, handed over or erased."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from storeops.cli.common import (
    JsonOption,
    WorkspaceOption,
    console,
    handle_errors,
    print_json,
    workspace_from,
)
from storeops.privacy.retention import apply_retention
from storeops.privacy.subject import delete_subject, export_subject

privacy_app = typer.Typer(help="Personal data requests (PIPL).", no_args_is_help=True)


@privacy_app.command("export")
@handle_errors
def export(
    customer: Annotated[str, typer.Argument(help="Customer id or member id.")],
    output: Annotated[Path | None, typer.Option("-o", help="Write the JSON to this file.")] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Everything storeops holds about a person, as JSON (personal data in clear)."""
    data = export_subject(workspace_from(workspace), customer)
    if output is None:
        print_json(data)
        return
    output.write_text(json.dumps(data, ensure_ascii=False, indent=2), "utf-8")
    console.print(f"written to {output}")


@privacy_app.command("delete")
@handle_errors
def delete(
    customer: Annotated[str, typer.Argument(help="Customer id or member id.")],
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: this cannot be undone.")] = False,
    actor: Annotated[str, typer.Option(help="Who asked (for the audit log).")] = "cli",
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Erase a person's personal data everywhere; ledger rows stay, pseudonymous."""
    if not yes:
        console.print("This erases the person's personal data for good; add --yes to go on.")
        raise typer.Exit(code=2)
    report = delete_subject(workspace_from(workspace), customer, actor=actor)
    if as_json:
        print_json(report)
        return
    for key, value in report.items():
        console.print(f"{key}: {value}")


@privacy_app.command("retention")
@handle_errors
def retention(workspace: WorkspaceOption = None, as_json: JsonOption = False) -> None:
    """Remove raw text past its retention days (quarantine, refused events, outbox)."""
    done = apply_retention(workspace_from(workspace))
    if as_json:
        print_json(done)
        return
    for place, n in done.items():
        console.print(f"{place}: {n} removed")


def register(app: typer.Typer) -> None:
    app.add_typer(privacy_app, name="privacy")
