"""``storeops report``: daily, weekly and monthly reports (PDF, HTML, XLSX), their
schedules, and the job that sends the due ones."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

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
from storeops.i18n import parse_locale
from storeops.reports import FORMATS, KINDS, ReportError, ReportKind, ReportRequest, build_report
from storeops.reports.schedule import (
    DEFAULT_HOUR,
    ScheduleSpec,
    add_default_schedules,
    add_schedule,
    list_schedules,
    remove_schedule,
    run_due,
)

report_app = typer.Typer(help="Daily, weekly and monthly reports.", no_args_is_help=True)
schedule_app = typer.Typer(help="Reports built and sent on their own.", no_args_is_help=True)
report_app.add_typer(schedule_app, name="schedule")

FormatOption = Annotated[str, typer.Option("--format", "-f", help="pdf, html or xlsx.")]
DateOption = Annotated[
    str | None,
    typer.Option("--date", help="Any day of the period, YYYY-MM-DD (default: the last "
                 "complete day, week or month)."),
]  # fmt: skip
OutOption = Annotated[
    Path | None,
    typer.Option("--out", "-o", help="File or folder to write (default: the workspace "
                 "reports/ folder)."),
]  # fmt: skip


def _format(value: str) -> str:
    if value not in FORMATS:
        raise ReportError(f"unknown format {value!r}; choose one of {', '.join(FORMATS)}")
    return value


def _build(kind: ReportKind, store: str | None, fmt: str, day: str | None, lang: str,
           out: Path | None, workspace: Path | None, as_json: bool) -> None:  # fmt: skip
    ws = workspace_from(workspace)
    request = ReportRequest(
        kind=kind, store_id=store, day=parse_day(day, "--date"), locale=parse_locale(lang),  # type: ignore[arg-type]
        format=_format(fmt),  # type: ignore[arg-type]
    )  # fmt: skip
    if as_json:
        built = build_report(ws, request, out=out)
        print_json(built.to_dict())
        return
    with console.status(f"Building the {kind} report…"):
        built = build_report(ws, request, out=out)
    console.print(
        f"[dim]{built.date_from} – {built.date_to}, assembled in "
        f"{built.assemble_seconds:.2f}s, rendered in {built.render_seconds:.2f}s[/]"
    )
    typer.echo(str(built.path))


def _kind_command(kind: ReportKind) -> None:
    @report_app.command(kind)
    @handle_errors
    def command(
        store: StoreOption = None,
        fmt: FormatOption = "pdf",
        day: DateOption = None,
        lang: LangOption = "zh_CN",
        out: OutOption = None,
        workspace: WorkspaceOption = None,
        as_json: JsonOption = False,
    ) -> None:
        _build(kind, store, fmt, day, lang, out, workspace, as_json)

    command.__doc__ = f"The {kind} report of one store (--store) or the chain; prints its path."


for _kind in KINDS:
    _kind_command(_kind)


@report_app.command("run-due")
@handle_errors
def run_due_command(workspace: WorkspaceOption = None, as_json: JsonOption = False) -> None:
    """Build and send every scheduled report that is due and not yet sent."""
    results = run_due(workspace_from(workspace))
    if as_json:
        print_json({"reports": [r.to_dict() for r in results]})
        return
    if not results:
        console.print("No report is due.")
    for r in results:
        console.print(f"schedule {r.schedule_id} {r.period}: {r.status} {r.path or r.error}")


@schedule_app.command("add")
@handle_errors
def schedule_add(
    kind: Annotated[str, typer.Argument(help="daily, weekly or monthly.")],
    store: StoreOption = None,
    fmt: FormatOption = "pdf",
    lang: LangOption = "zh_CN",
    channel: Annotated[str, typer.Option(help="Notification channel name.")] = "outbox",
    hour: Annotated[int, typer.Option(help="Local hour from which it is due.")] = DEFAULT_HOUR,
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Send a report on its own: daily from HOUR, weekly on Mondays, monthly on the 1st."""
    ws = workspace_from(workspace)
    spec = ScheduleSpec(
        kind=kind, store_id=store, format=_format(fmt), locale=parse_locale(lang),  # type: ignore[arg-type]
        channel=channel, hour=hour,
    )  # fmt: skip
    schedule = add_schedule(ws.ops_engine(), spec)
    if as_json:
        print_json(schedule.to_dict())
    else:
        console.print(f"Schedule {schedule.schedule_id}: {schedule.kind} report of "
                      f"{schedule.store_id or 'the chain'} to {schedule.channel}.")  # fmt: skip


@schedule_app.command("defaults")
@handle_errors
def schedule_defaults(workspace: WorkspaceOption = None, as_json: JsonOption = False) -> None:
    """Schedule the chain's daily, weekly and monthly PDF (Chinese) to the outbox
    channel, unless the workspace has schedules already."""
    added = add_default_schedules(workspace_from(workspace).ops_engine())
    if as_json:
        print_json([s.to_dict() for s in added])
    elif added:
        console.print(f"Added schedules {', '.join(str(s.schedule_id) for s in added)}.")
    else:
        console.print("The workspace has report schedules already; nothing added.")


@schedule_app.command("list")
@handle_errors
def schedule_list(workspace: WorkspaceOption = None, as_json: JsonOption = False) -> None:
    """The report schedules."""
    schedules = list_schedules(workspace_from(workspace).ops_engine())
    if as_json:
        print_json([s.to_dict() for s in schedules])
        return
    table = Table("id", "kind", "store", "format", "lang", "channel", "hour", "enabled")
    for s in schedules:
        table.add_row(str(s.schedule_id), s.kind, s.store_id or "(chain)", s.format, s.locale,
                      s.channel, str(s.hour), "yes" if s.enabled else "no")  # fmt: skip
    console.print(table)


@schedule_app.command("remove")
@handle_errors
def schedule_remove(
    schedule_id: Annotated[int, typer.Argument(help="The schedule's id.")],
    workspace: WorkspaceOption = None,
) -> None:
    """Remove a schedule and its sent-log."""
    remove_schedule(workspace_from(workspace).ops_engine(), schedule_id)
    console.print(f"Schedule {schedule_id} removed.")


def register(app: typer.Typer) -> None:
    app.add_typer(report_app, name="report")
