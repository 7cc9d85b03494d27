"""``storeops churn``: churn risk with out-of-time validation and a win-back list."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from storeops.cli.clv_cmd import parse_days
from storeops.cli.common import (
    JsonOption,
    WorkspaceOption,
    console,
    handle_errors,
    print_json,
    workspace_from,
)
from storeops.marts.churn_scores import run_churn


@handle_errors
def churn(
    horizon: Annotated[
        str, typer.Option(help="Churn = no purchase within this, e.g. 90d.")
    ] = "90d",
    top: Annotated[int, typer.Option(help="Win-back customers to list.")] = 20,
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Train, validate on a later period, and score every customer's churn risk."""
    days = int(parse_days(horizon))
    ws = workspace_from(workspace)
    with ws.warehouse() as wh:
        run = run_churn(wh, horizon_days=days)
    win_back = run.scores[run.scores["win_back"]].head(top)
    if as_json:
        print_json(
            {
                "horizon_days": days,
                "validation": run.report.to_dict(),
                "customers": len(run.scores),
                "win_back_customers": int(run.scores["win_back"].sum()),
                "win_back": win_back.drop(columns=["as_of"]).to_dict(orient="records"),
            }
        )
        return
    r = run.report
    console.print(
        f"out-of-time AUC {r.auc:.3f} (BG/NBD alone {r.auc_bgnbd:.3f}), Brier {r.brier:.3f}, "
        f"churn base rate {r.base_rate:.1%}; {int(run.scores['win_back'].sum())} valuable "
        "customers at risk"
    )
    table = Table(
        "customer",
        "churn risk",
        "P(alive)",
        "spend (¥)",
        "days since last",
        title="Win-back list (唤醒)",
    )
    for row in win_back.to_dict(orient="records"):
        table.add_row(
            str(row["customer_id"]),
            f"{row['churn_probability']:.0%}",
            f"{row['p_alive']:.0%}",
            f"{row['spend_fen'] / 100:,.0f}",
            str(row["days_since_last_purchase"]),
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command("churn")(churn)
