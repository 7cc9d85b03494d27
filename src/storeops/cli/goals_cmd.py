"""``storeops goals``: KPI targets with deadlines, and how they are pacing."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Column, Table

from storeops.cli.common import (
    JsonOption,
    LangOption,
    StoreOption,
    WorkspaceOption,
    console,
    handle_errors,
    parse_day,
    print_json,
    workspace_from,
)
from storeops.goals import (
    WINDOW_DAYS,
    GoalCreate,
    GoalError,
    add_goal,
    goal_status,
    list_goals,
    remove_goal,
)
from storeops.i18n import parse_locale
from storeops.kpi import KPIS

goals_app = typer.Typer(help="KPI goals: targets, deadlines and pacing.", no_args_is_help=True)

_STATUS = {
    "zh_CN": {"achieved": "已达成", "on_track": "进度正常", "behind": "落后", "no_data": "无数据"},
    "en": {
        "achieved": "achieved",
        "on_track": "on track",
        "behind": "behind",
        "no_data": "no data",
    },
}
_COLOR = {"achieved": "green", "on_track": "green", "behind": "red", "no_data": "dim"}


def parse_amount(text: str, option: str) -> float:
    """A number in the KPI's unit; ``6%`` means 0.06."""
    raw = text.strip()
    try:
        return float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    except ValueError:
        raise GoalError(f"{option} {text!r} is not a number (e.g. 0.06 or 6%)") from None


@goals_app.command("add")
@handle_errors
def add(
    kpi: Annotated[str, typer.Argument(help="KPI id (see `storeops kpi list`).")],
    target: Annotated[str, typer.Option(help="Target in the KPI's unit; 6% = 0.06.")],
    deadline: Annotated[str, typer.Option(help="Deadline, YYYY-MM-DD.")],
    store: StoreOption = None,
    start: Annotated[
        str | None, typer.Option(help="Start day (default: the KPI's last day with data).")
    ] = None,
    baseline: Annotated[
        str | None, typer.Option(help="Baseline (default: the 28 days before the start).")
    ] = None,
    note: Annotated[str | None, typer.Option(help="A note shown with the goal.")] = None,
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add a goal for a store (--store) or the whole chain."""
    new = GoalCreate(
        kpi=kpi,
        target=parse_amount(target, "--target"),
        deadline=parse_day(deadline, "--deadline"),  # type: ignore[arg-type]
        store_id=store,
        start=parse_day(start, "--start"),
        baseline=None if baseline is None else parse_amount(baseline, "--baseline"),
        note=note,
    )
    ws = workspace_from(workspace)
    engine = ws.ops_engine()
    try:
        with ws.warehouse() as wh:
            goal = add_goal(engine, wh, new)
    finally:
        engine.dispose()
    if as_json:
        print_json(goal.to_dict())
        return
    k = KPIS[goal.kpi]
    console.print(
        f"goal {goal.goal_id}: {k.name_en} {k.format(goal.baseline, 'en')} → "
        f"{k.format(goal.target, 'en')} from {goal.start} to {goal.deadline} "
        f"({goal.store_id or 'chain'})"
    )


@goals_app.command("list")
@handle_errors
def list_cmd(
    store: StoreOption = None,
    lang: LangOption = "zh_CN",
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Goals (with --store: that store's and the chain's)."""
    engine = workspace_from(workspace).ops_engine()
    try:
        found = list_goals(engine, store_id=store)
    finally:
        engine.dispose()
    if as_json:
        print_json([g.to_dict() for g in found])
        return
    locale = parse_locale(lang)
    table = Table(
        "id",
        Column("KPI", overflow="fold"),
        "store",
        Column("baseline → target", overflow="fold"),
        Column("start … deadline", overflow="fold"),
        Column("note", overflow="fold"),
    )
    for g in found:
        k = KPIS[g.kpi]
        table.add_row(
            str(g.goal_id),
            k.name(locale),
            g.store_id or "*",
            f"{k.format(g.baseline, locale)} → {k.format(g.target, locale)}",
            f"{g.start} … {g.deadline}",
            g.note or "",
        )
    console.print(table)


@goals_app.command("status")
@handle_errors
def status(
    store: StoreOption = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Pace on this day (default: last data day).")
    ] = None,
    lang: LangOption = "zh_CN",
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Every goal: current, expected on the straight path, projected end value, status."""
    found = goal_status(
        workspace_from(workspace), as_of=parse_day(as_of, "--as-of"), store_id=store
    )
    if as_json:
        print_json([s.to_dict() for s in found])
        return
    locale = parse_locale(lang)
    table = Table("id", "KPI", "store", "current", "expected", "target", "projected", "status")
    days = sorted({str(s.as_of) for s in found if s.as_of})
    table.caption = (
        f"as of {', '.join(days) or '—'}; current = last {WINDOW_DAYS} days; expected = on the "
        "straight path from baseline to target; projected = weekly trend at the deadline"
    )
    for s in found:
        k = KPIS[s.kpi]
        label = _STATUS[locale][s.status]
        table.add_row(
            str(s.goal_id), k.name(locale), s.store_id or "*",
            k.format(s.current, locale), k.format(s.expected, locale),
            k.format(s.target, locale), k.format(s.projected, locale),
            f"[{_COLOR[s.status]}]{label}[/]",
        )  # fmt: skip
    console.print(table)


@goals_app.command("remove")
@handle_errors
def remove(
    goal_id: Annotated[int, typer.Argument(help="Goal id (see `storeops goals list`).")],
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Remove a goal."""
    engine = workspace_from(workspace).ops_engine()
    try:
        remove_goal(engine, goal_id)
    finally:
        engine.dispose()
    if as_json:
        print_json({"removed": goal_id})
        return
    console.print(f"goal {goal_id} removed")


def register(app: typer.Typer) -> None:
    app.add_typer(goals_app, name="goals")
