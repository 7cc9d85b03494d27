"""Everything a report shows, assembled once and rendered by every format.

:func:`assemble_report` turns a :class:`ReportRequest` into :class:`ReportData`:

- **KPIs** from the KPI layer for the period, the previous period and the same period
  last year (one ``kpi_values(grain=...)`` call per whole day, week or month, so the
  KPI layer does every roll-up), with the change and whether the change is good (the
  KPI's direction); a value is ``None`` where there is no data.
  A store report shows the KPIs kept per store (grain ``store_day``), a chain report
  every KPI;
- **daily and hourly traffic and sales** for the charts, from the store performance
  insight (:class:`~storeops.analytics.performance.StorePerformance` per local hour),
  summed per local day and per hour of the day;
- for chain reports, the **store ranking** by sales with conversion and ATV;
- **goal pacing** (:func:`storeops.goals.goal_status` at the period's last day) and the
  **open alerts** (:func:`storeops.alerts.list_alerts`, not acknowledged) of the store
  or the chain.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal
from zoneinfo import ZoneInfo

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from storeops.analytics.performance import PerformanceQuery, StorePerformance
from storeops.i18n import DEFAULT_LOCALE, LOCALES, gettext
from storeops.kpi import KPIS, kpi_values
from storeops.reports.errors import ReportError
from storeops.reports.periods import (
    DayRange,
    ReportKind,
    ReportPeriod,
    last_complete_period,
    period_for,
)
from storeops.warehouse import Warehouse
from storeops.workspace import Workspace

log = logging.getLogger("storeops.reports")

ReportFormat = Literal["html", "pdf", "xlsx"]
FORMATS: tuple[ReportFormat, ...] = ("pdf", "html", "xlsx")

#: Each kind of report's name (msgids of the ``reports`` catalog).
KIND_TITLES = {"daily": "Daily report", "weekly": "Weekly report", "monthly": "Monthly report"}

#: Columns of the chain report's store ranking, the first one ranks. KPIs the
#: catalog does not have are left out.
RANKING_KPIS: tuple[str, ...] = ("sales", "entries", "conversion", "atv", "upt", "sales_per_m2")


class ReportRequest(BaseModel):
    """Which report: kind, store (None = the whole chain), day inside the period,
    language and format."""

    model_config = ConfigDict(extra="forbid")

    kind: ReportKind
    store_id: str | None = Field(default=None, description="One store; None = the chain.")
    day: date | None = Field(
        default=None, description="Any day of the period; default: the last complete one."
    )
    locale: Literal["zh_CN", "en"] = DEFAULT_LOCALE  # type: ignore[assignment]
    format: ReportFormat = "pdf"


@dataclass(frozen=True)
class KpiLine:
    """One KPI of the period against the previous period and last year."""

    kpi: str
    name: str
    definition: str
    unit: str
    direction: str
    value: float | None
    previous: float | None
    last_year: float | None
    text: str
    previous_text: str
    last_year_text: str

    @property
    def in_points(self) -> bool:
        """Ratios (conversion 5.3% → 6.2%) change in percentage points, not in percent
        of themselves: "+0.9 pp" reads right where "+18%" of a rate misleads."""
        return self.unit == "ratio"

    def change(self, base: float | None) -> float | None:
        """From ``base`` to this period: the difference for ratios (0.009 = +0.9 pp),
        else the relative change (0.1 = +10 %); None without both (or a zero base)."""
        if self.value is None or base is None:
            return None
        if self.in_points:
            return self.value - base
        return None if base == 0 else (self.value - base) / abs(base)

    @property
    def vs_previous(self) -> float | None:
        return self.change(self.previous)

    @property
    def vs_last_year(self) -> float | None:
        return self.change(self.last_year)

    def good(self, change: float | None) -> bool | None:
        """Whether a change is good news for this KPI (None when flat or unknown)."""
        if change is None or change == 0:
            return None
        return (change > 0) == (self.direction == "up")


@dataclass(frozen=True)
class DayPoint:
    day: date
    entries: int
    transactions: int
    sales_fen: int


@dataclass(frozen=True)
class HourPoint:
    hour: int
    entries: int
    transactions: int
    sales_fen: int


@dataclass(frozen=True)
class RankRow:
    rank: int
    store_id: str
    store_name: str
    values: dict[str, float | None]
    texts: dict[str, str]


@dataclass(frozen=True)
class GoalLine:
    kpi: str
    name: str
    store_id: str | None
    target_text: str
    current_text: str
    expected_text: str
    projected_text: str
    deadline: date | None
    status: str


@dataclass(frozen=True)
class AlertLine:
    level: str
    store_id: str | None
    title: str
    since: str


@dataclass
class ReportData:
    """What every renderer draws from."""

    request: ReportRequest
    period: ReportPeriod
    store_name: str | None
    timezone: str
    generated_at: datetime
    kpis: list[KpiLine]
    daily: list[DayPoint]
    hourly: list[HourPoint]
    ranking: list[RankRow] = field(default_factory=list)
    ranking_kpis: list[tuple[str, str]] = field(default_factory=list)
    goals: list[GoalLine] | None = None
    alerts: list[AlertLine] | None = None

    @property
    def locale(self) -> str:
        return self.request.locale

    def _(self, message: str) -> str:
        return gettext(self.locale, "reports", message)

    @property
    def scope(self) -> str:
        if self.request.store_id is None:
            return self._("All stores")
        return f"{self.store_name or self.request.store_id} ({self.request.store_id})"

    @property
    def title(self) -> str:
        return f"{self.scope} · {self._(KIND_TITLES[self.request.kind])}"

    @property
    def totals(self) -> DayPoint | None:
        if not self.daily:
            return None
        return DayPoint(
            self.period.current.start,
            sum(p.entries for p in self.daily),
            sum(p.transactions for p in self.daily),
            sum(p.sales_fen for p in self.daily),
        )


def _stores(wh: Warehouse) -> pd.DataFrame:
    s = wh.table("stores")
    return wh.to_pandas(s.select("store_id", "name", "timezone").order_by("store_id"))


def one_period(frame: pd.DataFrame, span: DayRange) -> dict[tuple[str, str], float | None]:
    """``(store_id, kpi) -> value`` of the row that starts the range (the KPI layer
    answers one row per whole day, week or month)."""
    if frame.empty:
        return {}
    starts = pd.to_datetime(frame["period_start"]).dt.date
    rows = frame[starts == span.start]
    out: dict[tuple[str, str], float | None] = {}
    for store, kpi, value in zip(rows["store_id"], rows["kpi"], rows["value"], strict=True):
        out[(str(store), str(kpi))] = None if pd.isna(value) else float(value)
    return out


def _kpi_lines(
    wh: Warehouse, period: ReportPeriod, store: str | None, locale: str
) -> list[KpiLine]:
    specs = [k for k in KPIS.values() if store is None or k.grain == "store_day"]
    scope = store or "*"
    found: dict[str, dict[tuple[str, str], float | None]] = {}
    for name, span in (
        ("value", period.current), ("previous", period.previous), ("last_year", period.last_year)
    ):  # fmt: skip
        frame = kpi_values(
            wh, [k.id for k in specs], grain=period.grain, date_from=span.start,
            date_to=span.end, stores=[store] if store else None, chain=store is None,
        )  # fmt: skip
        found[name] = one_period(frame, span)
    lines = []
    for k in specs:
        value, prev, ly = (found[n].get((scope, k.id)) for n in ("value", "previous", "last_year"))
        lines.append(
            KpiLine(
                kpi=k.id, name=k.name(locale), definition=k.definition(locale), unit=k.unit,
                direction=k.direction, value=value, previous=prev, last_year=ly,
                text=k.format(value, locale), previous_text=k.format(prev, locale),
                last_year_text=k.format(ly, locale),
            )
        )  # fmt: skip
    return lines


def _performance(
    wh: Warehouse, span: DayRange, store: str | None
) -> tuple[list[DayPoint], list[HourPoint]]:
    query = PerformanceQuery(
        date_from=span.start, date_to=span.end, by="hour",
        store_ids=(store,) if store else None,
    )  # fmt: skip
    frame = wh.to_pandas(StorePerformance(wh, query).to_expr())
    if frame.empty:
        return [], []
    frame["bucket"] = pd.to_datetime(frame["bucket"])
    frame["entries"] = frame["entries"].fillna(0)
    measures = ["entries", "transactions", "sales_fen"]
    per_day = frame.groupby(frame["bucket"].dt.date)[measures].sum()
    per_hour = frame.groupby(frame["bucket"].dt.hour)[measures].sum()
    per_day = per_day.reindex(span.each_day(), fill_value=0).astype("int64")
    per_hour = per_hour.astype("int64")
    daily = [
        DayPoint(d, *(int(v) for v in values))
        for d, values in zip(span.each_day(), per_day.to_numpy().tolist(), strict=True)
    ]
    hourly = [
        HourPoint(int(h), *(int(v) for v in values))
        for h, values in zip(per_hour.index.tolist(), per_hour.to_numpy().tolist(), strict=True)
    ]
    return daily, hourly


def _ranking(
    wh: Warehouse, period: ReportPeriod, locale: str, names: dict[str, str]
) -> tuple[list[RankRow], list[tuple[str, str]]]:
    specs = [KPIS[k] for k in RANKING_KPIS if k in KPIS]
    if not specs:
        return [], []
    span = period.current
    frame = kpi_values(
        wh, [k.id for k in specs], grain=period.grain, date_from=span.start,
        date_to=span.end, stores=sorted(names), chain=False,
    )  # fmt: skip
    found = one_period(frame, span)
    stores = sorted({s for s, _k in found if s != "*"})
    table = [(s, {k.id: found.get((s, k.id)) for k in specs}) for s in stores]
    first = specs[0]
    sign = -1 if first.direction == "up" else 1
    table.sort(key=lambda item: (item[1][first.id] is None, sign * (item[1][first.id] or 0)))
    ranked = [
        RankRow(
            rank=i + 1,
            store_id=sid,
            store_name=names.get(sid, sid),
            values=vals,
            texts={k.id: k.format(vals[k.id], locale) for k in specs},
        )
        for i, (sid, vals) in enumerate(table)
    ]
    return ranked, [(k.id, k.name(locale)) for k in specs]


def assemble_report(
    ws: Workspace,
    wh: Warehouse,
    request: ReportRequest,
    *,
    now: datetime | None = None,
    extras: Callable[[Workspace, Warehouse, ReportData], None] | None = None,
) -> ReportData:
    """Gather the numbers of one report (no rendering)."""
    if request.locale not in LOCALES:
        raise ReportError(f"unknown language {request.locale!r}; choose one of {LOCALES}")
    stores = _stores(wh)
    names = dict(zip(stores["store_id"].astype(str), stores["name"].astype(str), strict=True))
    if request.store_id is not None and request.store_id not in names:
        known = ", ".join(sorted(names)) or "none imported yet"
        raise ReportError(f"unknown store {request.store_id!r}; stores: {known}")
    tz_name = ws.settings.default_timezone
    if request.store_id is not None:
        tz_name = str(stores.set_index("store_id").loc[request.store_id, "timezone"] or tz_name)
    tz = ZoneInfo(tz_name)
    now = now or datetime.now(tz)
    today = now.astimezone(tz).date()
    if request.day is None:
        period = last_complete_period(request.kind, today)
    else:
        period = period_for(request.kind, request.day)
    daily, hourly = _performance(wh, period.current, request.store_id)
    data = ReportData(
        request=request,
        period=period,
        store_name=names.get(request.store_id) if request.store_id else None,
        timezone=tz_name,
        generated_at=now.astimezone(tz),
        kpis=_kpi_lines(wh, period, request.store_id, request.locale),
        daily=daily,
        hourly=hourly,
    )
    if request.store_id is None:
        data.ranking, data.ranking_kpis = _ranking(wh, period, request.locale, names)
    (extras or add_goals_and_alerts)(ws, wh, data)
    return data


def add_goals_and_alerts(ws: Workspace, wh: Warehouse, data: ReportData) -> None:
    """Goal pacing at the end of the period (the store's goals and the chain's, or
    every goal in a chain report) and the alerts still open (not acknowledged) up to
    the end of the period, most recent and most severe first."""
    from storeops.alerts import list_alerts
    from storeops.goals import goal_status
    from storeops.kpi import KPIS

    locale, store, end = data.locale, data.request.store_id, data.period.current.end
    data.goals = []
    for g in goal_status(ws, wh, as_of=end, store_id=store):
        kpi = KPIS[g.goal.kpi]
        data.goals.append(
            GoalLine(
                kpi=kpi.id, name=kpi.name(locale), store_id=g.goal.store_id,
                target_text=kpi.format(g.goal.target, locale),
                current_text=kpi.format(g.current, locale),
                expected_text=kpi.format(g.expected, locale),
                projected_text=kpi.format(g.projected, locale),
                deadline=g.goal.deadline, status=str(g.status),
            )
        )  # fmt: skip
    engine = ws.ops_engine()
    try:
        alerts = list_alerts(engine, status="open", store_id=store, date_to=end, limit=50)
    finally:
        engine.dispose()
    data.alerts = []
    for a in alerts:
        measured = KPIS.get(a.kpi)
        name = measured.name(locale) if measured else a.kpi
        value = measured.format(a.value, locale) if measured else str(a.value)
        expected = ""
        if measured and a.expected is not None:
            expected = f" ({data._('expected')} {measured.format(a.expected, locale)})"
        data.alerts.append(
            AlertLine(
                level=a.level,
                store_id=a.store_id,
                title=f"{a.store_id} · {a.rule} · {name} {value}{expected}",
                since=a.day.isoformat(),
            )
        )
