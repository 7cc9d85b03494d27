"""``storeops customers link|resolve|merge|unmerge`` and ``storeops keys generate``."""

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
from storeops.identity.resolve import Resolution
from storeops.identity.service import link_file, override, resolve_workspace
from storeops.privacy.crypto import cipher_from, generate_key, generate_keyring
from storeops.privacy.rotation import rotate

customers = typer.Typer(help="Customer identity across sources.", no_args_is_help=True)
keys = typer.Typer(help="Secrets for personal data.", no_args_is_help=True)


def _report(result: Resolution) -> dict[str, object]:
    return {
        "records": len(result.mapping),
        "customers": result.customers,
        "merged_records": int(len(result.mapping) - result.customers),
        "suspect_identifiers": len(result.suspect),
        "match_rates": result.match_rates(),
    }


def _show(result: Resolution, as_json: bool) -> None:
    report = _report(result)
    if as_json:
        print_json(report)
        return
    console.print(
        f"{report['records']} source records -> {report['customers']} customers "
        f"({report['suspect_identifiers']} shared identifiers ignored as suspect)"
    )
    rates = result.match_rates()
    table = Table("source", *(f"also in {s}" for s in rates), title="Match rate between sources")
    for a, row in rates.items():
        table.add_row(a, *(f"{row[b]:.1%}" if b in row else "—" for b in rates))
    console.print(table)


@customers.command("link")
@handle_errors
def link(
    file: Annotated[Path, typer.Argument(help="CSV: record_id plus identifier columns.")],
    source: Annotated[str, typer.Option(help="Source system, e.g. crm, pos, mini_program.")],
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Store a source's customer identifiers (normalized, encrypted, blind-indexed)."""
    report = link_file(workspace_from(workspace), file, source=source)
    if as_json:
        print_json(report.to_dict())
    else:
        console.print(
            f"{report.source}: {report.records} records, {report.added} identifiers added, "
            f"{report.already_known} already known, dropped (empty/invalid/blocked): "
            + ", ".join(f"{k} {v}" for k, v in report.dropped.items())
        )


@customers.command("resolve")
@handle_errors
def resolve_cmd(workspace: WorkspaceOption = None, as_json: JsonOption = False) -> None:
    """Link records that share identifiers into customers; report match rates."""
    _show(resolve_workspace(workspace_from(workspace)), as_json)


@customers.command("merge")
@handle_errors
def merge(
    record: Annotated[str, typer.Argument(help="A source record id.")],
    other: Annotated[str, typer.Argument(help="The record to merge it with.")],
    reason: Annotated[str, typer.Option(help="Why (kept in the audit log).")],
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Manually merge two records into one customer (audited)."""
    _show(override(workspace_from(workspace), "merge", record, other, reason=reason), as_json)


@customers.command("unmerge")
@handle_errors
def unmerge(
    record: Annotated[str, typer.Argument(help="A source record id.")],
    reason: Annotated[str, typer.Option(help="Why (kept in the audit log).")],
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Undo manual merges of a record, or split it out of its customer (audited)."""
    _show(override(workspace_from(workspace), "unmerge", record, None, reason=reason), as_json)


@keys.command("generate")
def generate() -> None:
    """Print new keys for STOREOPS_ENCRYPTION_KEY and STOREOPS_BLIND_INDEX_KEY."""
    typer.echo(f"STOREOPS_ENCRYPTION_KEY={generate_keyring()}")
    typer.echo(f"STOREOPS_BLIND_INDEX_KEY={generate_key()}")


@keys.command("rotate")
@handle_errors
def rotate_cmd(workspace: WorkspaceOption = None, as_json: JsonOption = False) -> None:
    """Re-encrypt personal data under the first key of STOREOPS_ENCRYPTION_KEY.

    Put the new key first (new:KEY,old:KEY), run this, then remove the old key.
    """
    ws = workspace_from(workspace)
    counts = rotate(ws.ops_engine(), cipher_from(ws.settings))
    if as_json:
        print_json(counts)
        return
    for field, n in counts.items():
        console.print(f"{field}: {n} re-encrypted")


def register(app: typer.Typer) -> None:
    app.add_typer(customers, name="customers")
    app.add_typer(keys, name="keys")
