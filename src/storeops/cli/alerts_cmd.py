"""``storeops alerts evaluate|list|ack`` and ``storeops alerts rules add|list|remove|
enable|disable``."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from storeops.alerts import (
    AnomalyParams,
    RuleSpec,
    ThresholdParams,
    acknowledge,
    add_rule,
    evaluate,
    list_alerts,
    list_rules,
    remove_rule,
    set_enabled,
)
from storeops.cli.common import (
    JsonOption,
    LangOption,
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
from storeops.errors import ConfigError
from storeops.i18n import parse_locale
from storeops.kpi import KPIS
from storeops.notify import deliver

alerts_app = typer.Typer(help="Alert rules on KPIs, their evaluation and alerts.",
                         no_args_is_help=True)  # fmt: skip
rules_app = typer.Typer(help="Alert rules.", no_args_is_help=True)
alerts_app.add_typer(rules_app, name="rules")

_LEVEL_STYLE = {"red": "bold red", "yellow": "yellow", "blue": "blue"}


@alerts_app.command("evaluate")
@handle_errors
def evaluate_command(
    day: Annotated[str | None, typer.Option("--date", help="Evaluate this day only.")] = None,
    date_from: SinceOption = None,
    date_to: UntilOption = None,
    rule: Annotated[list[str] | None, typer.Option(help="Only this rule (repeat).")] = None,
    lang: LangOption = "zh_CN",
    no_deliver: Annotated[
        bool, typer.Option("--no-deliver", help="Queue notifications without sending.")
    ] = False,
    workspace: WorkspaceOption = None,
    json_output: JsonOption = False,
) -> None:
    """Evaluate the enabled rules (default: the last days of the KPI mart), record new
    alerts once per rule, store and day, and send their notifications."""
    one = parse_day(day, "--date")
    start = one or parse_day(date_from, "--from")
    end = one or parse_day(date_to, "--to")
    ws = workspace_from(workspace)
    engine = ws.ops_engine()
    with ws.warehouse() as wh:
        result = evaluate(
            engine, wh, date_from=start, date_to=end, rules=rule, locale=parse_locale(lang)
        )
    run = None if no_deliver else deliver(ws)
    if json_output:
        print_json({**result.to_dict(), "delivery": run.to_dict() if run else None})
        return
    console.print(
        f"{result.rules} rules on {result.date_from} … {result.date_to}: "
        f"{result.new_alerts} new alerts ({result.already_recorded} already recorded), "
        f"{result.queued} notifications queued"
        + (f", {run.sent} sent, {run.retrying} to retry, {run.failed} failed" if run else "")
    )
    for f in result.fired:
        if f.alert_id is not None:
            console.print(
                f"[{_LEVEL_STYLE.get(f.level, '')}]{f.level}[/] #{f.alert_id} {f.rule}: "
                f"{f.kpi} {f.store_id} {f.day} = {KPIS[f.kpi].format(f.value, 'en')}",
                highlight=False,
            )
    for problem in result.problems:
        console.print(f"[red]problem:[/] {problem}", highlight=False)


@alerts_app.command("list")
@handle_errors
def list_command(
    status: Annotated[str, typer.Option(help="open, acknowledged or all.")] = "open",
    store: StoreOption = None,
    level: Annotated[str | None, typer.Option(help="red, yellow or blue.")] = None,
    date_from: SinceOption = None,
    date_to: UntilOption = None,
    limit: Annotated[int, typer.Option(help="At most this many.")] = 100,
    workspace: WorkspaceOption = None,
    json_output: JsonOption = False,
) -> None:
    """Alerts, newest day first."""
    alerts = list_alerts(
        workspace_from(workspace).ops_engine(), status=status, store_id=store,  # type: ignore[arg-type]
        level=level, date_from=parse_day(date_from, "--from"), date_to=parse_day(date_to, "--to"),
        limit=limit,
    )  # fmt: skip
    if json_output:
        print_json([a.to_dict() for a in alerts])
        return
    table = Table(title=f"Alerts ({status})", title_justify="left")
    for column in ("id", "level", "day", "store", "KPI", "value", "expected", "z", "ack"):
        table.add_column(column, no_wrap=column in {"day", "store", "level"})
    for a in alerts:
        k = KPIS[a.kpi]
        table.add_row(
            str(a.alert_id), f"[{_LEVEL_STYLE.get(a.level, '')}]{a.level}[/]", a.day.isoformat(),
            a.store_id, a.kpi, k.format(a.value, "en"), k.format(a.expected, "en"),
            "" if a.score is None else f"{a.score:+.1f}", a.acknowledged_by or "",
        )  # fmt: skip
    console.print(table)


@alerts_app.command("ack")
@handle_errors
def ack_command(
    alert_id: Annotated[int, typer.Argument(help="Alert id (see `storeops alerts list`).")],
    by: Annotated[str, typer.Option(help="Who acknowledges it.")] = "cli",
    workspace: WorkspaceOption = None,
    json_output: JsonOption = False,
) -> None:
    """Acknowledge an alert."""
    alert = acknowledge(workspace_from(workspace).ops_engine(), alert_id, by)
    if json_output:
        print_json(alert.to_dict())
        return
    console.print(f"alert {alert_id} acknowledged by {alert.acknowledged_by}")


@rules_app.command("add")
@handle_errors
def rules_add_command(
    name: Annotated[str, typer.Argument(help="Rule name, e.g. 'conversion-drop'.")],
    kpi: Annotated[str, typer.Option(help="KPI id (see the KPI catalog).")],
    kind: Annotated[str, typer.Option(help="threshold or anomaly.")] = "anomaly",
    level: Annotated[str, typer.Option(help="red, yellow or blue.")] = "yellow",
    above: Annotated[float | None, typer.Option(help="threshold: fire above this.")] = None,
    below: Annotated[float | None, typer.Option(help="threshold: fire below this.")] = None,
    days: Annotated[int, typer.Option(help="threshold: on this many days in a row.")] = 1,
    z: Annotated[float, typer.Option(help="anomaly: robust z-score to reach.")] = 3.5,
    window: Annotated[int, typer.Option(help="anomaly: trailing window in days.")] = 56,
    weeks: Annotated[int, typer.Option(help="anomaly: weeks in the weekday baseline.")] = 8,
    side: Annotated[
        str, typer.Option(help="anomaly: bad (against the KPI's direction) or both.")
    ] = "bad",
    residual: Annotated[
        str, typer.Option(help="anomaly: relative (value/baseline-1) or absolute.")
    ] = "relative",
    store: Annotated[list[str] | None, typer.Option(help="Only this store (repeat).")] = None,
    channel: Annotated[list[str] | None, typer.Option(help="Send to (repeat).")] = None,
    workspace: WorkspaceOption = None,
    json_output: JsonOption = False,
) -> None:
    """Add a rule: a fixed threshold (--above/--below [--days N]) or an anomaly rule."""
    threshold = None
    if kind == "threshold":
        if (above is None) == (below is None):
            raise ConfigError("a threshold rule needs exactly one of --above or --below")
        if above is not None:
            threshold = ThresholdParams(op="above", value=above, consecutive_days=days)
        else:
            threshold = ThresholdParams(op="below", value=float(below or 0), consecutive_days=days)
    spec = RuleSpec(
        name=name, kpi=kpi, kind=kind,  # type: ignore[arg-type]
        level=level,  # type: ignore[arg-type]
        stores=store or None, channels=channel or ["outbox"], threshold=threshold,
        anomaly=AnomalyParams(z=z, window_days=window, seasonal_weeks=weeks,
                              side=side, residual=residual)  # type: ignore[arg-type]
        if kind == "anomaly" else None,
    )  # fmt: skip
    rule = add_rule(workspace_from(workspace).ops_engine(), spec)
    if json_output:
        print_json(rule.to_dict())
        return
    console.print(f"rule [bold]{rule.name}[/] added: {rule.kpi} {rule.describe()}")


@rules_app.command("list")
@handle_errors
def rules_list_command(workspace: WorkspaceOption = None, json_output: JsonOption = False) -> None:
    """Every rule."""
    rules = list_rules(workspace_from(workspace).ops_engine())
    if json_output:
        print_json([r.to_dict() for r in rules])
        return
    table = Table(title="Alert rules", title_justify="left")
    for column in ("name", "KPI", "condition", "level", "stores", "channels", "enabled"):
        table.add_column(column)
    for r in rules:
        table.add_row(r.name, r.kpi, r.describe(), r.level, ", ".join(r.stores or ["all"]),
                      ", ".join(r.channels), "yes" if r.enabled else "no")  # fmt: skip
    console.print(table)


@rules_app.command("remove")
@handle_errors
def rules_remove_command(
    name: Annotated[str, typer.Argument(help="Rule to remove (with its alerts).")],
    workspace: WorkspaceOption = None,
) -> None:
    """Remove a rule and its alerts."""
    remove_rule(workspace_from(workspace).ops_engine(), name)
    console.print(f"rule [bold]{name}[/] removed")


@rules_app.command("enable")
@handle_errors
def rules_enable_command(
    name: Annotated[str, typer.Argument()], workspace: WorkspaceOption = None
) -> None:
    """Evaluate this rule again."""
    set_enabled(workspace_from(workspace).ops_engine(), name, True)
    console.print(f"rule [bold]{name}[/] enabled")


@rules_app.command("disable")
@handle_errors
def rules_disable_command(
    name: Annotated[str, typer.Argument()], workspace: WorkspaceOption = None
) -> None:
    """Stop evaluating this rule (its alerts are kept)."""
    set_enabled(workspace_from(workspace).ops_engine(), name, False)
    console.print(f"rule [bold]{name}[/] disabled")


def register(app: typer.Typer) -> None:
    app.add_typer(alerts_app, name="alerts")
