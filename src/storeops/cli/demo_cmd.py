"""``storeops demo`` (build the demo merchant) and ``storeops summary`` (store performance)."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.table import Table

from storeops.alerts.demo import seed_demo_alerts
from storeops.analytics.store_summary import (
    StoreSummary,
    StoreSummaryError,
    StoreSummaryQuery,
    StoreSummaryRow,
)
from storeops.cli.common import (
    JsonOption,
    SinceOption,
    UntilOption,
    WorkspaceOption,
    console,
    handle_errors,
    parse_day,
    print_json,
    workspace_from,
)
from storeops.demo import DemoConfig, build_demo
from storeops.demo.ops_activity import seed_ops_activity
from storeops.goals.demo import seed_demo_goals
from storeops.marts.refresh import refresh_marts
from storeops.notify.channels import ensure_outbox_channel
from storeops.reports.schedule import add_default_schedules
from storeops.warehouse import Warehouse

_DEFAULTS = DemoConfig()


def summary_rows(
    wh: Warehouse, date_from: date | None = None, date_to: date | None = None
) -> list[StoreSummaryRow]:
    try:
        query = StoreSummaryQuery(date_from=date_from, date_to=date_to)
    except ValidationError as exc:
        raise StoreSummaryError(
            "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())
        ) from None
    return StoreSummary(wh, query).calculate()


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def render_summary(rows: list[StoreSummaryRow], title: str) -> Table:
    """Compact enough for an 80-column terminal; JSON output has every field."""
    table = Table(title=title)
    table.add_column("store", no_wrap=True)
    table.add_column("entries", justify="right")
    table.add_column("txns", justify="right")
    table.add_column("conv.", justify="right")
    table.add_column("ATV ¥", justify="right")
    table.add_column("sales 万¥", justify="right")
    table.add_column("repeat", justify="right")
    for r in rows:
        table.add_row(
            r.store_id,
            "—" if r.entries is None else f"{r.entries:,}",
            f"{r.transactions:,}",
            _pct(r.conversion),
            "—" if r.atv_fen is None else f"{r.atv_fen / 100:,.0f}",
            f"{r.sales_fen / 1_000_000:,.1f}",
            _pct(r.repeat_purchase_rate),
        )
    table.caption = (
        "conv. = transactions / entries · ATV = sales / transactions · repeat = "
        "customers with 2+ orders / customers"
    )
    return table


def _period_title(date_from: date | None, date_to: date | None) -> str:
    if date_from is None and date_to is None:
        return "Store performance, all days"
    return f"Store performance, {date_from or '…'} to {date_to or '…'}"


@handle_errors
def demo(
    directory: Annotated[Path, typer.Argument(help="Folder for the demo workspace.")] = Path(
        "demo-workspace"
    ),
    stores: Annotated[int, typer.Option(help="Number of stores.")] = _DEFAULTS.stores,
    customers: Annotated[int, typer.Option(help="Number of members.")] = _DEFAULTS.customers,
    days: Annotated[int, typer.Option(help="Days of history.")] = _DEFAULTS.days,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same files).")] = (
        _DEFAULTS.seed
    ),
    events: Annotated[
        int | None,
        typer.Option(help="App events to write (default: 20 per customer)."),
    ] = None,
    end_date: Annotated[
        str, typer.Option(help="Last simulated day, YYYY-MM-DD.")
    ] = _DEFAULTS.end_date.isoformat(),
    as_json: JsonOption = False,
) -> None:
    """Build a simulated merchant: source files under DIR/sources, imported, then summarised."""
    end = parse_day(end_date, "--end-date")
    assert end is not None
    cfg = DemoConfig(
        stores=stores, customers=customers, days=days, seed=seed, events=events, end_date=end
    )
    quiet = as_json

    def step(label: str) -> None:
        if not quiet:
            console.print(f"[dim]generating[/] {label}")

    started = time.perf_counter()
    build = build_demo(directory, cfg, progress=not quiet, step=step)
    ws = workspace_from(build.root)
    truth = build.generated.truth
    with ws.warehouse() as wh:
        rows = summary_rows(wh)
        # Points, stored value and coupons in the ops database, before the marts: the
        # KPI mart reads their liabilities and redemption rate.
        activity = seed_ops_activity(ws, wh, truth, progress=not quiet)
        truth.ops_activity = activity.planted()
        truth.write(build.generated.sources)
        marts_started = time.perf_counter()
        # Every registered mart: what the dashboard, reports, goals and alerts read.
        marts = refresh_marts(ws, progress=not quiet, wh=wh)
        marts_seconds = time.perf_counter() - marts_started
        engine = ws.ops_engine()
        try:  # a few chain and store goals, so the dashboard shows pacing
            goals = seed_demo_goals(engine, wh, cfg.end_date)
            ensure_outbox_channel(engine)
            schedules = add_default_schedules(engine)  # none when the demo has some already
        finally:
            engine.dispose()
        seed_demo_alerts(ws, wh)  # demo alert rules; the last 4 weeks evaluated
    quarantined = sum(int(load["quarantined"]) for load in build.loads)
    if as_json:
        print_json(
            {
                "workspace": str(build.root),
                "config": cfg.to_dict(),
                "generate_seconds": round(build.generate_seconds, 2),
                "import_seconds": round(build.import_seconds, 2),
                "files": len(build.loads),
                "rows_read": sum(int(load["rows_read"]) for load in build.loads),
                "loaded": sum(int(load["loaded"]) for load in build.loads),
                "duplicates": sum(int(load["duplicates"]) for load in build.loads),
                "quarantined": quarantined,
                "planted_malformed": sum(truth.malformed.values()),
                "loads": build.loads,
                "marts": [m.to_dict() for m in marts],
                "marts_seconds": round(marts_seconds, 2),
                "goals": [g.to_dict() for g in goals],
                "ops_activity": activity.to_dict(),
                "report_schedules": [sch.to_dict() for sch in schedules],
                "summary": [r.to_dict() for r in rows],
            }
        )
        return
    console.print(
        f"demo workspace ready: [bold]{build.root}[/] "
        f"(generated in {build.generate_seconds:.1f}s, imported {len(build.loads)} files in "
        f"{build.import_seconds:.1f}s, loyalty and coupons in {activity.seconds:.1f}s, "
        f"marts in {marts_seconds:.1f}s, "
        f"{time.perf_counter() - started:.1f}s in all; "
        f"{quarantined} rows quarantined as planted — see `storeops quarantine list`)"
    )
    console.print(render_summary(rows, f"Store performance, {cfg.start_date} to {cfg.end_date}"))
    if goals:
        console.print(
            f"{len(goals)} demo goals with their pacing: `storeops goals status -w {build.root}`"
        )
    if schedules:
        console.print(
            "daily, weekly and monthly chain reports scheduled to the outbox: "
            f"`storeops report schedule list -w {build.root}`"
        )


@handle_errors
def summary(
    date_from: SinceOption = None,
    date_to: UntilOption = None,
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Store performance: entries, transactions, conversion, ATV and repeat-purchase rate."""
    start = parse_day(date_from, "--from")
    end = parse_day(date_to, "--to")
    ws = workspace_from(workspace)
    with ws.warehouse() as wh:
        rows = summary_rows(wh, start, end)
    if as_json:
        print_json([r.to_dict() for r in rows])
        return
    console.print(render_summary(rows, _period_title(start, end)))


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
    app.command("summary")(summary)
