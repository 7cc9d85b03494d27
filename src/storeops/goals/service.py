"""Goals in the ops database and their pacing against ``mart_kpi_daily``.

A goal is a target for one KPI, for one store or the chain (``store_id`` NULL), from
a start day with its baseline to a deadline. Values are in the KPI's unit (a ratio as
a fraction: 6 % is 0.06; money in fen).

**Current value**: the KPI over the trailing :data:`WINDOW_DAYS` days ending on the
as-of day — Σ numerator / Σ denominator for ratios, the 28-day total for sums (so a
sales goal is a 4-week sales figure), the as-of day's level for levels. The as-of day
is the last day the KPI has data for the goal's store (or chain), never past the
deadline; pass ``as_of`` to pace on another day.

**Baseline**: given, or the current value as of the day before the start.
The projection fits the weekly values from the start to the as-of day (sums scaled
to 28 days, partial weeks included pro rata); see :mod:`storeops.goals.pacing`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

import pandas as pd
from pydantic import BaseModel, Field, field_validator, model_validator
from sqlalchemy import Engine, delete, insert, select

from storeops.errors import StoreOpsError
from storeops.goals.pacing import (
    Status,
    elapsed_share,
    expected_value,
    projected_value,
    status_of,
)
from storeops.kpi.catalog import KPI_MART, KPIS, Kpi
from storeops.kpi.compute import CHAIN
from storeops.kpi.values import kpi_total, kpi_values, rollup, value_rows
from storeops.opsdb import audit, utcnow
from storeops.opsdb.goal_tables import goals
from storeops.warehouse import Warehouse
from storeops.workspace import Workspace

#: Trailing window of the current value, in local days including the as-of day.
WINDOW_DAYS = 28


class GoalError(StoreOpsError, ValueError):
    """A goal cannot be added, found or paced as asked."""


class GoalCreate(BaseModel):
    """A new goal. ``start`` defaults to the KPI's last day with data; ``baseline`` to
    the current value on the day before the start."""

    kpi: str = Field(description="KPI id, see `storeops kpi list`.")
    target: float
    deadline: date
    store_id: str | None = Field(default=None, description="None: the whole chain.")
    start: date | None = None
    baseline: float | None = None
    note: str | None = Field(default=None, max_length=256)

    @field_validator("kpi")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in KPIS:
            raise ValueError(f"unknown KPI {value!r}; known: {', '.join(KPIS)}")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> GoalCreate:
        if self.start is not None and self.deadline <= self.start:
            raise ValueError(f"deadline {self.deadline} must be after the start {self.start}")
        if self.store_id is not None and KPIS[self.kpi].grain == "chain_day":
            raise ValueError(f"{self.kpi} is a chain-level KPI: leave out the store")
        return self


@dataclass(frozen=True)
class Goal:
    goal_id: int
    kpi: str
    store_id: str | None
    baseline: float
    target: float
    start: date
    deadline: date
    note: str | None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["start"], out["deadline"] = self.start.isoformat(), self.deadline.isoformat()
        return out


@dataclass(frozen=True)
class GoalStatus:
    """A goal and where it stands on ``as_of``."""

    goal: Goal
    as_of: date | None
    current: float | None
    expected: float
    projected: float | None
    status: Status
    #: Share of the time from start to deadline gone by on ``as_of``.
    elapsed: float
    #: Share of the way from baseline to target covered by the current value.
    progress: float | None
    weekly: list[tuple[date, float | None]] = field(default_factory=list)

    # Flat names for the dashboard, reports and alerts.
    @property
    def goal_id(self) -> int:
        return self.goal.goal_id

    @property
    def kpi(self) -> str:
        return self.goal.kpi

    @property
    def store_id(self) -> str | None:
        return self.goal.store_id

    @property
    def baseline(self) -> float:
        return self.goal.baseline

    @property
    def target(self) -> float:
        return self.goal.target

    @property
    def start(self) -> date:
        return self.goal.start

    @property
    def deadline(self) -> date:
        return self.goal.deadline

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.goal.to_dict(),
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "current": self.current,
            "expected": self.expected,
            "projected": self.projected,
            "status": self.status,
            "elapsed": self.elapsed,
            "progress": self.progress,
            "weekly": [{"week_start": d.isoformat(), "value": v} for d, v in self.weekly],
        }


def _row_goal(row: Any) -> Goal:
    return Goal(
        goal_id=int(row.goal_id),
        kpi=str(row.kpi),
        store_id=row.store_id,
        baseline=float(row.baseline),
        target=float(row.target),
        start=row.start_date,
        deadline=row.deadline,
        note=row.note,
    )


def last_day(wh: Warehouse, kpi: str, store_id: str | None) -> date | None:
    """The last local day with a value of ``kpi`` for the store (or chain)."""
    if KPI_MART not in wh.con.list_tables():
        return None
    m = wh.mart(KPI_MART)
    m = m.filter(m.kpi == kpi, m.value.notnull())
    if store_id is not None:
        m = m.filter(m.store_id == store_id)
    elif not (KPIS[kpi].chain_rows or KPIS[kpi].grain == "chain_day"):
        m = m.filter(m.store_id != CHAIN)
    else:
        m = m.filter(m.store_id == CHAIN)
    last = wh.execute(m.day.max())
    if last is None or pd.isna(last):
        return None
    return date.fromisoformat(str(last)[:10])


def current_value(wh: Warehouse, kpi: str, store_id: str | None, as_of: date) -> float | None:
    """The KPI over the :data:`WINDOW_DAYS` days ending on ``as_of``."""
    start = as_of - timedelta(days=WINDOW_DAYS - 1)
    return kpi_total(wh, kpi, date_from=start, date_to=as_of, store=store_id)


def add_goal(engine: Engine, wh: Warehouse, new: GoalCreate, *, actor: str = "cli") -> Goal:
    """Store a goal, filling in the start and the baseline from the data when left out."""
    start = new.start
    if start is None:
        start = last_day(wh, new.kpi, new.store_id)
        if start is None:
            raise GoalError(
                f"no {new.kpi} values yet for {new.store_id or 'the chain'}: give --start and "
                "--baseline, or build the marts first (storeops marts refresh)"
            )
        if new.deadline <= start:
            raise GoalError(f"deadline {new.deadline} must be after the start {start}")
    baseline = new.baseline
    if baseline is None:
        baseline = current_value(wh, new.kpi, new.store_id, start - timedelta(days=1))
        if baseline is None:
            raise GoalError(
                f"no {new.kpi} values before {start} for {new.store_id or 'the chain'} to take "
                "a baseline from: give --baseline"
            )
    with engine.begin() as con:
        goal_id = con.execute(
            insert(goals)
            .values(
                kpi=new.kpi,
                store_id=new.store_id,
                baseline=float(baseline),
                target=float(new.target),
                start_date=start,
                deadline=new.deadline,
                note=new.note,
                created_at=utcnow(),
                created_by=actor,
            )
            .returning(goals.c.goal_id)
        ).scalar_one()
        audit(con, actor=actor, action="goal.add", target=str(goal_id), detail={"kpi": new.kpi})
    return Goal(
        int(goal_id), new.kpi, new.store_id, float(baseline), new.target, start, new.deadline,
        new.note,
    )  # fmt: skip


def list_goals(
    engine: Engine, *, store_id: str | None = None, goal_ids: list[int] | None = None
) -> list[Goal]:
    """Goals by id; with ``store_id``, that store's goals and the chain's."""
    q = select(goals).order_by(goals.c.goal_id)
    if store_id is not None:
        q = q.where((goals.c.store_id == store_id) | goals.c.store_id.is_(None))
    if goal_ids is not None:
        q = q.where(goals.c.goal_id.in_(goal_ids))
    with engine.connect() as con:
        return [_row_goal(r) for r in con.execute(q)]


def remove_goal(engine: Engine, goal_id: int, *, actor: str = "cli") -> None:
    with engine.begin() as con:
        done = con.execute(delete(goals).where(goals.c.goal_id == goal_id)).rowcount
        if done != 1:
            raise GoalError(f"no goal {goal_id}; see `storeops goals list`")
        audit(con, actor=actor, action="goal.remove", target=str(goal_id), detail={})


def _daily(wh: Warehouse, goal: Goal, first: date, day: date) -> pd.DataFrame:
    """The goal's KPI per day for its store (or the chain), ``first`` … ``day``."""
    return kpi_values(
        wh, [goal.kpi], grain="day", date_from=first, date_to=day,
        stores=None if goal.store_id is None else [goal.store_id],
        chain=goal.store_id is None,
    )  # fmt: skip


def _window(daily: pd.DataFrame, kpi: str, first: date, last: date) -> pd.DataFrame:
    days = pd.to_datetime(daily["period_start"]).dt.date
    return daily[(days >= first) & (days <= last)]


def weekly_values(
    daily: pd.DataFrame, kpi: Kpi, start: date, as_of: date
) -> list[tuple[date, float | None]]:
    """The KPI per week from ``start`` to ``as_of``; sums scaled to 28 days by the
    days of each week inside the range."""
    frame = rollup(_window(daily, kpi.id, start, as_of), kpi.id, "week")
    out: list[tuple[date, float | None]] = []
    for r in value_rows(frame):
        week, value = r.period_start, r.value
        if value is not None and kpi.kind == "sum":
            first, last = max(week, start), min(week + timedelta(days=6), as_of)
            value *= WINDOW_DAYS / ((last - first).days + 1)
        out.append((week, value))
    return out


def pace(wh: Warehouse, goal: Goal, as_of: date | None = None) -> GoalStatus:
    """Where ``goal`` stands on ``as_of`` (default: its KPI's last day with data)."""
    kpi = KPIS[goal.kpi]
    day = as_of or last_day(wh, goal.kpi, goal.store_id)
    if day is not None and as_of is None:
        day = min(day, goal.deadline)
    if day is None:
        return GoalStatus(goal, None, None, goal.baseline, None, "no_data", 0.0, None)
    window_start = day - timedelta(days=WINDOW_DAYS - 1)
    daily = _daily(wh, goal, min(window_start, goal.start), day)
    rolled = value_rows(rollup(_window(daily, goal.kpi, window_start, day), goal.kpi))
    current = rolled[0].value if rolled else None
    expected = expected_value(goal.baseline, goal.target, goal.start, goal.deadline, day)
    weekly = weekly_values(daily, kpi, goal.start, day) if day >= goal.start else []
    projected: float | None
    if day >= goal.deadline:
        projected = current
    else:
        # Weekly values sit at mid-week (the middle of the days they cover).
        points = [
            (max(w, goal.start) + (min(w + timedelta(days=6), day) - max(w, goal.start)) / 2, v)
            for w, v in weekly
            if v is not None
        ]
        line = projected_value(points, goal.deadline)
        # A straight line can run past what the KPI can be (a share above 100 %).
        projected = None if line is None else kpi.clamp(line)
    span = goal.target - goal.baseline
    progress = None if current is None or span == 0 else (current - goal.baseline) / span
    return GoalStatus(
        goal=goal,
        as_of=day,
        current=current,
        expected=expected,
        projected=projected,
        status=status_of(kpi, current, expected, goal.target),
        elapsed=elapsed_share(goal.start, goal.deadline, day),
        progress=progress,
        weekly=weekly,
    )


def goal_status(
    source: Workspace | Engine,
    wh: Warehouse | None = None,
    *,
    as_of: date | None = None,
    store_id: str | None = None,
    goal_ids: list[int] | None = None,
) -> list[GoalStatus]:
    """Every goal (or the store's and the chain's, or these ids) with its pacing.

    Pass a :class:`Workspace`, or an ops engine and an open warehouse.
    """
    if isinstance(source, Workspace):
        engine = source.ops_engine()
        try:
            found = list_goals(engine, store_id=store_id, goal_ids=goal_ids)
        finally:
            engine.dispose()
        if wh is None:
            with source.warehouse() as opened:
                return [pace(opened, g, as_of) for g in found]
        return [pace(wh, g, as_of) for g in found]
    if wh is None:
        raise GoalError("goal_status(engine, wh): give the warehouse with the ops engine")
    return [pace(wh, g, as_of) for g in list_goals(source, store_id=store_id, goal_ids=goal_ids)]
