"""``storeops members import|show`` and the loyalty jobs ``storeops points expire`` and
``storeops tiers evaluate`` (idempotent for a date: cron can run them daily)."""

from __future__ import annotations

from datetime import datetime
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
from storeops.errors import ConfigError
from storeops.loyalty import PointsLedger
from storeops.loyalty.member_import import import_members
from storeops.loyalty.members import PiiKeys, member_view
from storeops.loyalty.tiers import evaluate_tiers
from storeops.privacy.crypto import blind_index_from, cipher_from
from storeops.workspace import Workspace

members_app = typer.Typer(help="Loyalty members.", no_args_is_help=True)
points_app = typer.Typer(help="The points ledger.", no_args_is_help=True)
tiers_app = typer.Typer(help="Member tiers.", no_args_is_help=True)

AsOf = Annotated[
    str | None, typer.Option("--as-of", help="UTC time, YYYY-MM-DD[THH:MM] (default: now).")
]


def _keys(ws: Workspace) -> PiiKeys | None:
    try:
        return PiiKeys(cipher_from(ws.settings), blind_index_from(ws.settings))
    except ConfigError:
        return None


def _as_of(value: str | None) -> datetime:
    if value is None:
        from storeops.opsdb import utcnow

        return utcnow()
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            "use YYYY-MM-DD or YYYY-MM-DDTHH:MM", param_hint="--as-of"
        ) from None


@members_app.command("import")
@handle_errors
def import_cmd(
    path: Annotated[Path, typer.Argument(help="CSV: member_id, store_id, phone, …")],
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Enrol the members of a CSV file (channel 'import'); again changes nothing."""
    ws = workspace_from(workspace)
    report = import_members(ws.ops_engine(), path, _keys(ws))
    if as_json:
        print_json(report.to_dict())
        return
    console.print(f"{report.rows_read} rows: {report.enrolled} enrolled, "
                  f"{report.existing} already members, {len(report.refused)} refused")  # fmt: skip
    for r in report.refused:
        console.print(f"  line {r['line']} {r['member_id']}: {r['reason']}")


@members_app.command("show")
@handle_errors
def show(member_id: str, workspace: WorkspaceOption = None) -> None:
    """One member, personal data masked."""
    ws = workspace_from(workspace)
    print_json(member_view(ws.ops_engine(), member_id, keys=_keys(ws)))


@points_app.command("expire")
@handle_errors
def expire(
    as_of: AsOf = None, workspace: WorkspaceOption = None, as_json: JsonOption = False
) -> None:
    """Expire every lot due at --as-of (each lot once, however often this runs)."""
    done = PointsLedger(workspace_from(workspace).ops_engine()).expire(_as_of(as_of))
    if as_json:
        print_json(done)
        return
    console.print(f"{done['points']} points expired from {done['lots']} lots")


@tiers_app.command("evaluate")
@handle_errors
def evaluate(
    as_of: AsOf = None, workspace: WorkspaceOption = None, as_json: JsonOption = False
) -> None:
    """Move members to the tier their last year's points earned qualify them for."""
    changes = evaluate_tiers(workspace_from(workspace).ops_engine(), _as_of(as_of))
    if as_json:
        print_json(changes)
        return
    console.print(f"{len(changes)} tier changes")
    for c in changes:
        console.print(f"  {c['member_id']}: {c['from']} → {c['to']} ({c['reason']})")


def register(app: typer.Typer) -> None:
    app.add_typer(members_app, name="members")
    app.add_typer(points_app, name="points")
    app.add_typer(tiers_app, name="tiers")
