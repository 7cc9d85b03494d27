"""``storeops traffic``: entries, exits, capture rate, peak hours and entrance share;
store performance (conversion, ATV, UPT, STAR) and the benchmark across stores."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

import typer
from rich.table import Column, Table

from storeops.analytics.performance import (
    BenchmarkQuery,
    Grain,
    PerformanceQuery,
    StoreBenchmark,
    StorePerformance,
)
from storeops.analytics.traffic import (
    Bucket,
    TrafficError,
    TrafficInsight,
    TrafficQuery,
    last_traffic_day,
)
from storeops.cli.common import (
    JsonOption,
    SinceOption,
    StoreOption,
    UntilOption,
    WorkspaceOption,
    console,
    handle_errors,
    parse_day,
    print_json,
    workspace_from,
)
from storeops.cli.zones_cmd import zones
from storeops.forecast import (
    StaffingQuery,
    TrafficBacktest,
    TrafficForecastQuery,
    backtest_traffic,
    forecast_traffic,
    plan_staffing,
)
from storeops.forecast.staffing import DEFAULT_TARGET_STAR
from storeops.forecast.traffic import ForecastGrain
from storeops.marts.traffic_daily import build_daily_marts
from storeops.marts.traffic_forecast import write_forecast_mart, write_staffing_mart
from storeops.warehouse import Warehouse

#: Days shown when --from is not given (four whole weeks ending at --to).
DEFAULT_DAYS = 28

traffic_app = typer.Typer(help="Foot traffic from people counters.", no_args_is_help=True)


@traffic_app.command("summary")
@handle_errors
def summary(
    store: StoreOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    by: Annotated[str, typer.Option(help="hour, day, week or month.")] = "day",
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Entries and exits per bucket, capture rate, peak hours, entrance share, vs before."""
    if by not in ("hour", "day", "week", "month"):
        raise typer.BadParameter("by must be hour, day, week or month", param_hint="--by")
    stores = (store,) if store else None
    ws = workspace_from(workspace)
    with ws.warehouse() as wh:
        end = date.fromisoformat(until) if until else last_traffic_day(wh, stores)
        if end is None and store:
            raise TrafficError(f"no counter readings for store {store!r}; check --store")
        if end is None:
            if as_json:
                print_json({"from": None, "to": None, "by": by, "buckets": [], "stores": {}})
            else:
                console.print("No counter readings in this workspace.")
            return
        start = date.fromisoformat(since) if since else end - timedelta(days=DEFAULT_DAYS - 1)
        query = TrafficQuery(date_from=start, date_to=end, store_ids=stores, by=_bucket(by))
        result = TrafficInsight(wh, query).calculate()
    if as_json:
        print_json(result.to_dict())
        return
    buckets = Table("store", by, "entries", "exits", "capture", title=f"Traffic per {by}")
    for row in result.buckets:
        buckets.add_row(
            row.store_id, row.bucket, str(row.entries), str(row.exits), _pct(row.capture_rate)
        )
    console.print(buckets)
    prev = (result.previous or {}).get("stores", {})
    yoy = (result.last_year or {}).get("stores", {})
    totals = Table(
        "store",
        "entries",
        "vs previous",
        "vs last year",
        "capture",
        "peak hours",
        "entrances (share, vs busiest)",
        title=f"Stores {start} … {end}",
        caption=_last_year_caption(result.last_year),
    )
    for sid, s in result.stores.items():
        change = prev.get(sid, {}).get("entries_change_pct")
        yoy_change = yoy.get(sid, {}).get("entries_change_pct")
        doors = ", ".join(
            f"{e} {_pct(v.share)} {v.relative_to_busiest or 0:.2f}" for e, v in s.entrances.items()
        )
        totals.add_row(
            sid,
            str(s.entries),
            "—" if change is None else f"{change:+.1%}",
            "—" if yoy_change is None else f"{yoy_change:+.1%}",
            _pct(s.capture_rate),
            ", ".join(f"{h:02d}:00" for h in s.peak_hours),
            doors,
        )
    console.print(totals)


def _last_year_caption(last_year: dict[str, object] | None) -> str | None:
    """Which days of last year the "vs last year" column compares with, and why."""
    if not last_year:
        return None
    return f"vs last year: {last_year['from']} … {last_year['to']} ({last_year['reason']})"


def _range(
    wh: Warehouse, stores: tuple[str, ...] | None, since: str | None, until: str | None
) -> tuple[date, date] | None:
    """--from/--to as local days; by default the 28 days up to the last counted day."""
    end = date.fromisoformat(until) if until else last_traffic_day(wh, stores)
    if end is None and stores:
        raise TrafficError(f"no counter readings for store {stores[0]!r}; check --store")
    if end is None:
        return None
    start = date.fromisoformat(since) if since else end - timedelta(days=DEFAULT_DAYS - 1)
    return start, end


@traffic_app.command("performance")
@handle_errors
def performance(
    store: StoreOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    by: Annotated[str, typer.Option(help="hour or day.")] = "day",
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Conversion, ATV, UPT, sales per visitor and per m², STAR per store and hour or day."""
    if by not in ("hour", "day"):
        raise typer.BadParameter("by must be hour or day", param_hint="--by")
    stores = (store,) if store else None
    with workspace_from(workspace).warehouse() as wh:
        span = _range(wh, stores, since, until)
        rows = []
        if span is not None:
            grain: Grain = "hour" if by == "hour" else "day"
            query = PerformanceQuery(date_from=span[0], date_to=span[1], store_ids=stores, by=grain)
            rows = StorePerformance(wh, query).calculate()
    if as_json:
        print_json(
            {
                "from": span[0].isoformat() if span else None,
                "to": span[1].isoformat() if span else None,
                "by": by,
                "rows": [r.to_dict() for r in rows],
            }
        )
        return
    table = Table(
        "store", by, "entries", "txns", "conversion", "ATV", "UPT", "per m²", "STAR",
        title=f"Store performance per {by}",
    )  # fmt: skip
    for r in rows:
        table.add_row(
            r.store_id,
            r.bucket,
            "—" if r.entries is None else str(r.entries),
            str(r.transactions),
            _pct(r.conversion),
            _money(r.atv_fen),
            _num(r.upt),
            _money(r.sales_per_m2_fen),
            _num(r.star),
        )
    console.print(table)


@traffic_app.command("benchmark")
@handle_errors
def benchmark(
    since: SinceOption = None,
    until: UntilOption = None,
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Stores side by side: metrics, ranks (1 = best), percentiles and targets."""
    with workspace_from(workspace).warehouse() as wh:
        span = _range(wh, None, since, until)
        if span is None:
            result = None
        else:
            query = BenchmarkQuery(date_from=span[0], date_to=span[1])
            result = StoreBenchmark(wh, query).calculate()
    if result is None:
        if as_json:
            print_json({"from": None, "to": None, "targets": None, "stores": {}})
        else:
            console.print("No counter readings in this workspace.")
        return
    if as_json:
        print_json(result.to_dict())
        return
    table = Table("store", "metric", "value", "rank", "percentile", "target", title="Benchmark")
    for sid, s in result.stores.items():
        for name, m in s.metrics.items():
            hit = "" if m.meets_target is None else (" ✓" if m.meets_target else " ✗")
            table.add_row(
                sid,
                name,
                _num(m.value),
                "—" if m.rank is None else str(m.rank),
                _num(m.percentile),
                ("—" if m.target is None else _num(m.target)) + hit,
            )
    console.print(table)


@traffic_app.command("marts")
@handle_errors
def marts(
    since: SinceOption = None,
    until: UntilOption = None,
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Build the daily traffic, store-performance and zone marts (all days by default)."""
    start, end = parse_day(since, "--from"), parse_day(until, "--to")
    if start and end and start > end:
        raise TrafficError(f"--from {start} is after --to {end}; swap them")
    with workspace_from(workspace).warehouse() as wh:
        built = build_daily_marts(wh, start, end)
    if as_json:
        print_json(
            {
                "from": start.isoformat() if start else None,
                "to": end.isoformat() if end else None,
                "marts": [b.to_dict() for b in built],
            }
        )
        return
    days = f"{start or 'first day'} … {end or 'last day'}" if start or end else "all days"
    table = Table("mart", "rows written", title=f"Daily marts rebuilt: {days}")
    for b in built:
        table.add_row(b.mart, f"{b.rows:,}")
    console.print(table)


@traffic_app.command("forecast")
@handle_errors
def forecast_cmd(
    store: StoreOption = None,
    until: Annotated[
        str | None, typer.Option("--to", help="Last local day of history (default: last counted).")
    ] = None,
    days: Annotated[int, typer.Option(help="Days to forecast.", min=1, max=366)] = 14,
    by: Annotated[str, typer.Option(help="day or hour.")] = "day",
    run_backtest: Annotated[
        bool, typer.Option("--backtest", help="Also backtest on the last weeks of history.")
    ] = False,
    windows: Annotated[int, typer.Option(help="Backtest weeks.", min=1, max=52)] = 8,
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Entries per store and day or hour ahead (stored for the dashboard); --backtest
    reports MAPE and MASE against seasonal-naive."""
    if by not in ("day", "hour"):
        raise typer.BadParameter("by must be day or hour", param_hint="--by")
    grain: ForecastGrain = "hour" if by == "hour" else "day"
    stores = (store,) if store else None
    query = TrafficForecastQuery(
        store_ids=stores, history_to=parse_day(until, "--to"), horizon_days=days
    )
    with workspace_from(workspace).warehouse() as wh, console.status("Forecasting entries…"):
        fc = forecast_traffic(wh, query)
        write_forecast_mart(wh, fc)
        bt = (
            backtest_traffic(wh, stores, history_to=fc.history_to, windows=windows)
            if run_backtest
            else None
        )
    if as_json:
        print_json({**fc.to_dict(grain), "backtest": bt.to_dict() if bt else None})
        return
    table = Table("store", by, "entries", title=f"Forecast after {fc.history_to}")
    fmt = "%a %Y-%m-%d" if grain == "day" else "%a %Y-%m-%d %H:00"
    frame = fc.daily if grain == "day" else fc.hourly
    for r in frame.to_dict(orient="records"):
        if grain == "hour" and r["entries"] <= 0:
            continue
        table.add_row(r["store_id"], r["ds"].strftime(fmt), f"{r['entries']:.0f}")
    console.print(table)
    console.print(f"[dim]{fc.to_dict()['model']}[/dim]")
    if bt is not None:
        _print_backtest(bt)


def _print_backtest(bt: TrafficBacktest) -> None:
    table = Table(
        "store", "grain", "MAPE", "MASE", "week total error", "naive MAPE", "naive MASE",
        title=f"Backtest: {bt.daily.windows} weekly cut-offs, a week ahead each",
        caption="naive = seasonal naive (same day / hour last week); MASE below naive wins",
    )  # fmt: skip
    for grain, result in (("day", bt.daily), ("hour", bt.hourly)):
        for s in result.scores:
            table.add_row(
                s.unique_id,
                grain,
                _pct(s.mape),
                _num(s.mase),
                _pct(s.total_ape),
                _pct(s.baseline_mape),
                _num(s.baseline_mase),
            )
    console.print(table)


@traffic_app.command("staffing")
@handle_errors
def staffing(
    store: StoreOption = None,
    week: Annotated[
        str | None, typer.Option(help="Monday of the week to plan (default: next Monday).")
    ] = None,
    target: Annotated[
        float, typer.Option(help="Shoppers per sales staff member per hour (STAR).", min=0.1)
    ] = DEFAULT_TARGET_STAR,
    min_staff: Annotated[int, typer.Option(help="Staff in every open hour.", min=0)] = 1,
    max_staff: Annotated[int | None, typer.Option(help="Cap per hour.", min=1)] = None,
    until: Annotated[
        str | None, typer.Option("--to", help="Last local day of history (default: last counted).")
    ] = None,
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Sales staff per store and hour for a week, from the hourly forecast."""
    query = StaffingQuery(
        store_ids=(store,) if store else None,
        week_start=parse_day(week, "--week"),
        history_to=parse_day(until, "--to"),
        target_star=target,
        min_staff=min_staff,
        max_staff=max_staff,
    )
    with workspace_from(workspace).warehouse() as wh, console.status("Planning staff…"):
        plan = plan_staffing(wh, query)
        write_staffing_mart(wh, plan)
    if as_json:
        print_json(plan.to_dict())
        return
    ds = plan.hours["ds"].dt
    hours = plan.hours.assign(day=ds.strftime("%a %m-%d"), h=ds.hour)
    # Only the hours some store is open, so the grid fits a terminal.
    open_hours = sorted(int(h) for h in hours.loc[hours["staff"] > 0, "h"].unique())
    grid = Table(
        "store",
        Column("day", no_wrap=True),
        *(f"{h:02d}" for h in open_hours),
        title="Staff per hour",
    )
    for (sid, day), g in hours.groupby(["store_id", "day"], sort=False):
        per_hour = dict(zip(g["h"], g["staff"], strict=True))
        grid.add_row(str(sid), str(day), *(str(per_hour.get(h, 0)) for h in open_hours))
    console.print(grid)
    totals = Table(
        "store", "staff-hours", "forecast entries", "planned STAR", "last week staff-hours",
        title=f"Week of {plan.week_start} at target STAR {plan.target_star:g}",
    )  # fmt: skip
    for s in plan.stores:
        totals.add_row(
            s.store_id,
            str(s.staff_hours),
            f"{s.forecast_entries:,.0f}",
            _num(s.planned_star),
            "—" if s.last_week_staff_hours is None else str(s.last_week_staff_hours),
        )
    console.print(totals)


# The zone analytics also answer as `storeops traffic zones` (issue 4's command set).
traffic_app.command("zones")(zones)


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _money(value: float | None) -> str:
    return "—" if value is None else f"¥{value / 100:.2f}"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _bucket(value: str) -> Bucket:
    buckets: dict[str, Bucket] = {"hour": "hour", "week": "week", "month": "month"}
    return buckets.get(value, "day")


def register(app: typer.Typer) -> None:
    app.add_typer(traffic_app, name="traffic")
