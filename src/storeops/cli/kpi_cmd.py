"""``storeops kpi``: the KPI catalog and KPI values per day, week or month."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer
from rich.table import Table

from storeops.cli.common import (
    JsonOption,
    LangOption,
    SinceOption,
    UntilOption,
    WorkspaceOption,
    console,
    handle_errors,
    parse_day,
    print_json,
    workspace_from,
)
from storeops.i18n import parse_locale
from storeops.kpi import KPIS, KpiError, kpi_values
from storeops.kpi.values import Period, require_kpis, value_rows

kpi_app = typer.Typer(help="KPI catalog and values.", no_args_is_help=True)


@kpi_app.command("list")
@handle_errors
def list_kpis(lang: LangOption = "zh_CN", as_json: JsonOption = False) -> None:
    """Every KPI: name, unit, grain, direction of good and definition."""
    locale = parse_locale(lang)
    if as_json:
        print_json([asdict(k) for k in KPIS.values()])
        return
    en = locale == "en"
    table = Table(
        "id",
        "name" if en else "名称",
        "unit" if en else "单位",
        "kind" if en else "汇总",
        "good" if en else "方向",
        "definition" if en else "定义",
        title="KPI catalog" if en else "指标目录",
    )
    for k in KPIS.values():
        good = (
            ("↑ up" if en else "↑ 越高越好")
            if k.direction == "up"
            else ("↓ down" if en else "↓ 越低越好")
        )
        table.add_row(k.id, k.name(locale), k.unit, k.kind, good, k.definition(locale))
    console.print(table)


@kpi_app.command("values")
@handle_errors
def values(
    kpis: Annotated[list[str], typer.Argument(help="KPI ids (see `storeops kpi list`).")],
    grain: Annotated[str, typer.Option(help="day, week or month.")] = "day",
    store: Annotated[
        list[str] | None, typer.Option("--store", help="Only this store (repeatable).")
    ] = None,
    chain: Annotated[bool, typer.Option("--chain", help="The whole chain in one row.")] = False,
    since: SinceOption = None,
    until: UntilOption = None,
    lang: LangOption = "zh_CN",
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """KPI values per store (or the chain) and period, rolled up exactly."""
    if grain not in ("day", "week", "month"):
        raise KpiError(f"--grain {grain!r}: use day, week or month")
    period: Period = grain  # type: ignore[assignment]
    catalog = require_kpis(kpis)
    start, end = parse_day(since, "--from"), parse_day(until, "--to")
    with workspace_from(workspace).warehouse() as wh:
        frame = kpi_values(
            wh, kpis, grain=period, date_from=start, date_to=end, stores=store or None, chain=chain
        )
    rows = value_rows(frame)
    if as_json:
        print_json([r.to_dict() for r in rows])
        return
    locale = parse_locale(lang)
    by_id = {k.id: k for k in catalog}
    table = Table("store", "period", "KPI", "value", "numerator", "denominator")
    for r in rows:
        k = by_id[r.kpi]
        table.add_row(
            r.store_id,
            r.period_start.isoformat(),
            k.name(locale),
            k.format(r.value, locale),
            f"{r.numerator:,.0f}",
            f"{r.denominator:,.2f}".rstrip("0").rstrip("."),
        )
    if not rows:
        console.print("no values in range (run `storeops marts refresh` after importing data)")
        return
    console.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(kpi_app, name="kpi")
