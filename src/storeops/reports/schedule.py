"""Reports on a schedule, sent through the notification channels, once each.

A schedule (``storeops report schedule add``) names a kind of report, a store or the
chain, a format and language, a notification channel and the local hour from which it
is due. :func:`run_due` (``storeops report run-due``, run by ``storeops serve`` every
few minutes) builds every report whose period is complete and not yet in the sent-log
and hands it to :func:`storeops.notify.send` as an attachment:

- a **daily** report covers yesterday, so it is due every morning from its hour;
- a **weekly** one covers last Monday-to-Sunday, so a new one is due on Mondays;
- a **monthly** one covers last month, due on the 1st.

A server that was down at that hour catches up on its next round (only the latest
period of each schedule, never a backlog). The sent-log row is claimed first, under a
unique key ``(schedule, period)``, so two rounds never build the same report twice;
a failed build or hand-over gives the claim back and the next round tries again.
Delivery retries after the hand-over are the notification queue's job, and its
``dedup_key`` (``report:<schedule>:<period>``) keeps a channel from carrying the same
report twice even if a claim were lost.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from storeops.errors import StoreOpsError
from storeops.i18n import DEFAULT_LOCALE, gettext
from storeops.opsdb import utcnow
from storeops.opsdb.report_tables import report_schedules, report_sends
from storeops.reports.data import KIND_TITLES, ReportFormat, ReportRequest
from storeops.reports.errors import ReportError
from storeops.reports.periods import ReportKind, ReportPeriod, last_complete_period
from storeops.reports.render import BuiltReport, build_report
from storeops.workspace import Workspace

log = logging.getLogger("storeops.reports")

#: How often ``storeops serve`` looks for due reports.
CHECK_SECONDS = 300.0
#: The hour (local) from which a schedule's report is due, unless set.
DEFAULT_HOUR = 7


class ScheduleSpec(BaseModel):
    """A report to build and send on its own."""

    model_config = ConfigDict(extra="forbid")

    kind: ReportKind
    store_id: str | None = Field(default=None, min_length=1, max_length=64)
    format: ReportFormat = "pdf"
    locale: Literal["zh_CN", "en"] = DEFAULT_LOCALE  # type: ignore[assignment]
    channel: str = Field(default="outbox", min_length=1, max_length=128)
    hour: int = Field(default=DEFAULT_HOUR, ge=0, le=23, description="Due from this local hour.")


@dataclass(frozen=True)
class Schedule:
    schedule_id: int
    kind: ReportKind
    store_id: str | None
    format: ReportFormat
    locale: str
    channel: str
    hour: int
    enabled: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class DueReport:
    schedule: Schedule
    period: ReportPeriod


@dataclass(frozen=True)
class SendResult:
    """What one due report came to: ``sent``, ``queued`` (the channel retries later),
    ``duplicate`` (the channel had it already), ``failed`` or ``error`` (not handed
    over; tried again next round)."""

    schedule_id: int
    period: str
    status: str
    path: str | None = None
    error: str | None = None
    seconds: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _schedule(row: Any) -> Schedule:
    return Schedule(
        int(row.schedule_id), row.kind, row.store_id, row.format, row.locale, row.channel,
        int(row.hour), bool(row.enabled),
    )  # fmt: skip


def add_schedule(engine: Engine, spec: ScheduleSpec) -> Schedule:
    values = spec.model_dump() | {"enabled": True, "created_at": utcnow()}
    with engine.begin() as con:
        new_id = con.execute(insert(report_schedules).values(**values)).inserted_primary_key
    assert new_id is not None
    return get_schedule(engine, int(new_id[0]))


#: The chain's reports every merchant wants: yesterday every morning, last week on
#: Mondays, last month on the 1st — as PDF in Chinese to the outbox.
DEFAULT_SCHEDULES: tuple[ScheduleSpec, ...] = tuple(
    ScheduleSpec(kind=kind) for kind in ("daily", "weekly", "monthly")
)


def add_default_schedules(engine: Engine) -> list[Schedule]:
    """Add :data:`DEFAULT_SCHEDULES` to a workspace that has no schedule yet (the
    outbox channel must exist); a workspace with schedules is left as it is."""
    if list_schedules(engine):
        return []
    return [add_schedule(engine, spec) for spec in DEFAULT_SCHEDULES]


def get_schedule(engine: Engine, schedule_id: int) -> Schedule:
    with engine.connect() as con:
        row = con.execute(
            select(report_schedules).where(report_schedules.c.schedule_id == schedule_id)
        ).first()
    if row is None:
        raise ReportError(f"no report schedule {schedule_id}; see `storeops report schedule list`")
    return _schedule(row)


def list_schedules(engine: Engine) -> list[Schedule]:
    with engine.connect() as con:
        rows = con.execute(select(report_schedules).order_by(report_schedules.c.schedule_id))
        return [_schedule(r) for r in rows]


def remove_schedule(engine: Engine, schedule_id: int) -> None:
    get_schedule(engine, schedule_id)
    with engine.begin() as con:
        con.execute(delete(report_sends).where(report_sends.c.schedule_id == schedule_id))
        con.execute(delete(report_schedules).where(report_schedules.c.schedule_id == schedule_id))


def sent_log(engine: Engine, schedule_id: int | None = None) -> list[dict[str, Any]]:
    query = select(report_sends).order_by(report_sends.c.send_id)
    if schedule_id is not None:
        query = query.where(report_sends.c.schedule_id == schedule_id)
    with engine.connect() as con:
        return [dict(r._mapping) for r in con.execute(query)]


def due_reports(engine: Engine, now: datetime) -> list[DueReport]:
    """The schedules' latest complete periods not yet in the sent-log, at local ``now``."""
    sent = {(r["schedule_id"], r["period"]) for r in sent_log(engine)}
    due = []
    for schedule in list_schedules(engine):
        if not schedule.enabled or now.hour < schedule.hour:
            continue
        period = last_complete_period(schedule.kind, now.date())
        if (schedule.schedule_id, period.key) not in sent:
            due.append(DueReport(schedule, period))
    return due


Sender = Callable[[Workspace, str, BuiltReport, str, str], str]


def notify_sender(ws: Workspace, channel: str, built: BuiltReport, subject: str, text: str) -> str:
    """Hand a report to :func:`storeops.notify.send`; the delivery's status."""
    notify = importlib.import_module("storeops.notify")
    if channel == notify.DEFAULT_CHANNEL:
        notify.ensure_outbox_channel(ws.ops_engine())
    message = notify.Notification(
        subject=subject, text=text, level="info", attachments=[built.path],
        dedup_key=f"report:{built.kind}:{built.store_id or '*'}:{built.period}:"
                  f"{built.locale}:{built.format}",
    )  # fmt: skip
    run = notify.send(ws, channel, message)
    if run.attempted == 0:
        return "duplicate"
    if run.sent:
        return "sent"
    return "failed" if run.failed else "queued"


def _message(schedule: Schedule, built: BuiltReport) -> tuple[str, str]:
    def _(text: str) -> str:
        return gettext(schedule.locale, "reports", text)

    scope = schedule.store_id or _("All stores")
    label = built.date_from if built.date_from == built.date_to else (
        f"{built.date_from} – {built.date_to}"
    )  # fmt: skip
    subject = f"{_(KIND_TITLES[schedule.kind])} · {scope} · {label}"
    text = f"{subject}\n\n{_('Report attached')}: {built.path.name}"
    return subject, text


def run_due(
    ws: Workspace, *, now: datetime | None = None, sender: Sender = notify_sender
) -> list[SendResult]:
    """Build and send every due report once (see the module doc)."""
    tz = ZoneInfo(ws.settings.default_timezone)
    local_now = (now or datetime.now(tz)).astimezone(tz)
    engine = ws.ops_engine()
    results = []
    for due in due_reports(engine, local_now):
        s, key = due.schedule, due.period.key
        try:
            with engine.begin() as con:
                claim = con.execute(
                    insert(report_sends).values(
                        schedule_id=s.schedule_id,
                        period=key,
                        status="building",
                        created_at=utcnow(),
                    )
                ).inserted_primary_key
        except IntegrityError:  # another round claimed it meanwhile
            continue
        assert claim is not None
        try:
            request = ReportRequest(
                kind=s.kind, store_id=s.store_id, day=due.period.current.start,
                locale=s.locale, format=s.format,  # type: ignore[arg-type]
            )  # fmt: skip
            built = build_report(ws, request, now=local_now)
            status = sender(ws, s.channel, built, *_message(s, built))
        except (StoreOpsError, OSError, ImportError) as exc:
            with engine.begin() as con:
                con.execute(delete(report_sends).where(report_sends.c.send_id == claim[0]))
            log.warning("report %s for %s could not be sent: %s", s.schedule_id, key, exc)
            results.append(SendResult(s.schedule_id, key, "error", error=str(exc)))
            continue
        with engine.begin() as con:
            con.execute(
                update(report_sends).where(report_sends.c.send_id == claim[0])
                .values(status=status, path=str(built.path))
            )  # fmt: skip
        seconds = built.assemble_seconds + built.render_seconds
        results.append(SendResult(s.schedule_id, key, status, str(built.path), seconds=seconds))
    return results
