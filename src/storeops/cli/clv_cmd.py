"""``storeops clv fit|score``: customer lifetime value."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.table import Table

from storeops.cli.common import (
    JsonOption,
    WorkspaceOption,
    console,
    err_console,
    handle_errors,
    print_json,
    workspace_from,
)
from storeops.errors import ImportFileError
from storeops.marts.clv_scores import fit_clv, fit_summary, score_clv

app = typer.Typer(help="Customer lifetime value: BG/NBD + Gamma-Gamma.", no_args_is_help=True)

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([dw]?)\s*$")


def parse_days(text: str) -> float:
    """'90d', '12w' or a plain number of days."""
    match = _DURATION.match(text)
    if not match:
        raise typer.BadParameter(f"{text!r} is not a duration; write e.g. 90d or 12w")
    value, unit = float(match.group(1)), match.group(2) or "d"
    return value * (7 if unit == "w" else 1)


def _show_fit(result: dict[str, object]) -> None:
    table = Table("model", "parameter", "value", title="CLV fit")
    for model in ("bgnbd", "gamma_gamma"):
        params = result.get(model)
        if isinstance(params, dict):
            for key, value in params.items():
                table.add_row(model, key, f"{value:.6g}")
    console.print(table)
    console.print(f"customers: {result['customers']}")


@app.command("fit")
@handle_errors
def fit(
    summary: Annotated[
        Path | None,
        typer.Option(
            help="CSV with customer_id,frequency,recency,T[,monetary_value]; "
            "without it the summary is built from the workspace's orders."
        ),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            help="Calibration end (exclusive), YYYY-MM-DD; default: after the last purchase."
        ),
    ] = None,
    store: Annotated[str | None, typer.Option(help="Only purchases in this store.")] = None,
    per_order: Annotated[
        bool,
        typer.Option(
            "--per-order",
            help="Count every order as a purchase occasion (default: one per customer-day).",
        ),
    ] = False,
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Fit BG/NBD (and Gamma-Gamma when spend is known) by maximum likelihood."""
    if summary is not None:
        if not summary.is_file():
            raise ImportFileError(f"summary file {summary} does not exist")
        fitted = fit_summary(pd.read_csv(summary))
    else:
        ws = workspace_from(workspace)
        with ws.warehouse() as wh:
            cutoff = date.fromisoformat(as_of) if as_of else None
            fitted = fit_clv(
                wh, as_of=cutoff, store_id=store, occasion="order" if per_order else "day"
            )
    for warning in fitted.warnings():
        err_console.print(f"[yellow]warning:[/] {warning}", highlight=False, soft_wrap=True)
    result = fitted.to_dict()
    if as_json:
        print_json(result)
    else:
        _show_fit(result)


@app.command("score")
@handle_errors
def score(
    horizon: Annotated[str, typer.Option(help="Prediction horizon, e.g. 90d or 12w.")] = "90d",
    discount_rate: Annotated[
        float, typer.Option(help="Discount rate per 30-day step for CLV.")
    ] = 0.01,
    top: Annotated[int | None, typer.Option(help="Only the N most valuable customers.")] = None,
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Per-customer P(alive), expected purchases and expected CLV from the latest fit."""
    days = parse_days(horizon)
    ws = workspace_from(workspace)
    with ws.warehouse() as wh:
        scores = score_clv(wh, horizon_days=days, discount_rate=discount_rate)
    sort_key = "expected_clv_fen" if "expected_clv_fen" in scores else "expected_purchases"
    scores = scores.sort_values(sort_key, ascending=False, kind="stable")
    if top is not None:
        scores = scores.head(top)
    if as_json:
        print_json({"horizon_days": days, "customers": scores.to_dict(orient="records")})
        return
    table = Table(*scores.columns, title=f"CLV over {horizon}")
    for row in scores.head(top or 20).itertuples(index=False):
        table.add_row(*(f"{v:.4g}" if isinstance(v, float) else str(v) for v in row))
    console.print(table)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="clv")
