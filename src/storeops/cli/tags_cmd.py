"""``storeops tags list|apply`` and ``storeops customers show``."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.table import Table

from storeops.analytics.profiles import profiles_expr
from storeops.analytics.tags import TAGS_MART, apply_tags, load_rules
from storeops.cli.common import (
    JsonOption,
    WorkspaceOption,
    console,
    handle_errors,
    print_json,
    workspace_from,
)
from storeops.cli.customers_cmd import customers
from storeops.errors import StoreOpsError
from storeops.identity.service import identity_records
from storeops.marts.clv_scores import default_as_of
from storeops.workspace import Workspace

tags = typer.Typer(help="Dynamic customer tags.", no_args_is_help=True)

RulesOption = Annotated[
    Path | None,
    typer.Option("--rules", help="Tag rules TOML (default: <workspace>/tags.toml or built-in)."),
]


def _rules_path(ws: Workspace, rules: Path | None) -> Path | None:
    if rules is not None:
        return rules
    candidate = ws.root / "tags.toml"
    return candidate if candidate.is_file() else None


@tags.command("list")
@handle_errors
def list_tags(
    rules: RulesOption = None, workspace: WorkspaceOption = None, as_json: JsonOption = False
) -> None:
    """The tag rules and how many customers carry each tag now."""
    ws = workspace_from(workspace)
    defs = load_rules(_rules_path(ws, rules))
    counts: dict[str, int] = {}
    with ws.warehouse() as wh:
        if TAGS_MART in wh.con.list_tables():
            df = wh.to_pandas(wh.mart(TAGS_MART))
            counts = {str(k): int(v) for k, v in df.groupby("tag").size().items()}
    out = [
        {
            "name": r.name,
            "label_zh": r.label_zh,
            "label_en": r.label_en,
            "where": r.where,
            "customers": int(counts.get(r.name, 0)),
        }
        for r in defs
    ]
    if as_json:
        print_json(out)
        return
    table = Table("tag", "label", "rule", "customers", title="Customer tags")
    for row in out:
        table.add_row(
            str(row["name"]),
            f"{row['label_zh']} {row['label_en']}",
            str(row["where"]),
            str(row["customers"]),
        )
    console.print(table)


@tags.command("apply")
@handle_errors
def apply(
    rules: RulesOption = None,
    as_of: Annotated[str | None, typer.Option(help="Profile date, YYYY-MM-DD.")] = None,
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Recompute every customer's tags (run daily by the pipeline)."""
    ws = workspace_from(workspace)
    defs = load_rules(_rules_path(ws, rules))
    with ws.warehouse() as wh:
        day = date.fromisoformat(as_of) if as_of else default_as_of(wh)
        result = apply_tags(wh, defs, as_of=day)
    counts = {r.name: int((result["tag"] == r.name).sum()) for r in defs}
    if as_json:
        print_json({"as_of": day.isoformat(), "tags": counts})
    else:
        console.print(", ".join(f"{k}: {v}" for k, v in counts.items()))


@customers.command("show")
@handle_errors
def show(
    customer_id: Annotated[str, typer.Argument(help="Customer id.")],
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """A customer's 360 profile, tags and (masked) identifiers."""
    ws = workspace_from(workspace)
    with ws.warehouse() as wh:
        day = default_as_of(wh)
        prof = profiles_expr(wh, as_of=day)
        frame = wh.to_pandas(prof.filter(prof.customer_id == customer_id))
        tag_rows: list[str] = []
        if TAGS_MART in wh.con.list_tables():
            t = wh.mart(TAGS_MART)
            tag_rows = wh.to_pandas(t.filter(t.customer_id == customer_id))["tag"].tolist()
    if frame.empty:
        raise StoreOpsError(
            f"customer {customer_id!r} has no purchases in this workspace; check the id "
            "(ids are case-sensitive) or run `storeops customers resolve` after linking"
        )
    profile = {
        k: (v.isoformat() if hasattr(v, "isoformat") else v)
        for k, v in frame.iloc[0].to_dict().items()
        if not pd.isna(v)
    }
    records = identity_records(ws, customer_id)
    if as_json:
        print_json({"profile": profile, "tags": tag_rows, "identifiers": records})
        return
    table = Table("field", "value", title=f"Customer {customer_id}")
    for key, value in profile.items():
        table.add_row(str(key), str(value))
    table.add_row("tags", ", ".join(tag_rows) or "—")
    for rec in records:
        table.add_row(f"{rec['source']}:{rec['record_id']} {rec['id_type']}", rec["value"])
    console.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(tags, name="tags")
