"""``storeops rfm``: RFM scores and customer segments."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from rich.table import Table

from storeops.analytics.rfm import RfmInsight, RfmQuery
from storeops.cli.common import (
    JsonOption,
    WorkspaceOption,
    console,
    handle_errors,
    print_json,
    workspace_from,
)
from storeops.marts.clv_scores import default_as_of


@handle_errors
def rfm(
    store: Annotated[str | None, typer.Option(help="Only purchases in this store.")] = None,
    as_of: Annotated[
        str | None, typer.Option(help="End of the window (exclusive), YYYY-MM-DD.")
    ] = None,
    window_days: Annotated[int, typer.Option(help="Window length in days.")] = 365,
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """RFM segments: sizes, revenue shares and how concentrated revenue is."""
    ws = workspace_from(workspace)
    with ws.warehouse() as wh:
        end = date.fromisoformat(as_of) if as_of else default_as_of(wh)
        query = RfmQuery(as_of=end, window_days=window_days, store_id=store)
        result = RfmInsight(wh, query).calculate()
    if as_json:
        print_json(result.to_dict())
        return
    table = Table(
        "segment",
        "customers",
        "share",
        "revenue (¥)",
        "revenue share",
        title=f"RFM segments, {window_days} days to {end}",
    )
    for row in result.segments.to_dict(orient="records"):
        table.add_row(
            f"{row['label_zh']} {row['label_en']}",
            str(row["customers"]),
            f"{float(row['customer_share']):.1%}",
            f"{float(row['revenue_fen']) / 100:,.2f}",
            f"{float(row['revenue_share']):.1%}",
        )
    console.print(table)
    console.print(f"top 10% of customers bring {result.top_decile_revenue_share:.1%} of revenue")


def register(app: typer.Typer) -> None:
    app.command("rfm")(rfm)
