"""Funnels: how many people went through ordered steps within a conversion window.

Semantics (those of ClickHouse ``windowFunnel``, made deterministic):

- a person's events are totally ordered by ``(ts, seq, source_id, message_id)``
  (see :mod:`storeops.behaviour.events`);
- a person **reaches required step k** if there are events e1 < e2 < … < ek in that
  order, ei matching step i (event name and property filters) for the required
  steps up to k, with ``ts(ek) - ts(e1) <= window``; the best chain counts, so a
  person who reached step 3 once and step 1 a hundred times is at step 3. Events
  with equal timestamps may chain in ``seq`` order; one event never fills two steps;
- an **optional step** j is reached when the required steps before it and then j
  itself form such a chain; the required steps after it do not depend on it
  (people who skip it still count further down), as in PostHog;
- the first step cannot be optional.

How it is computed, one window pass per required step: for every event that
matches step k, ``start_k`` is the latest start time of any chain of steps 1..k
that ends at this event — the running maximum of ``start_{k-1}`` over the strictly
earlier events of the person (a window function). The latest start makes the
shortest chain, so step k is reached iff some event has ``ts - start_k <= window``,
and the smallest such difference is the person's time to reach step k. After the
first pass only the rows that can still matter go on (see :meth:`FunnelInsight.to_expr`).

On DuckDB, from :data:`KERNEL_MIN_EVENTS` events, the same per-person table is
computed by a compiled kernel instead (:mod:`storeops.behaviour.funnel_kernel`);
:meth:`FunnelInsight.sql_expr` stays the portable path and the reference.

Breakdowns attribute each person to one value: the property's value on their
first event that matches step 1 (first touch), so the groups add up to the total.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar, Literal
from uuid import uuid4

import ibis
import ibis.expr.types as ir
import pandas as pd
from pydantic import BaseModel, Field

from storeops.analytics.values import float_or_none, int_or_none
from storeops.behaviour.events import (
    BREAKDOWNS,
    EVENT_COLUMNS,
    BehaviourError,
    CountBy,
    breakdown_value,
    check_path,
    day_bounds_utc,
    person_events,
    property_value,
)
from storeops.behaviour.validation import Rule, validate
from storeops.warehouse import Warehouse

if TYPE_CHECKING:
    from storeops.behaviour.funnel_kernel import KernelStats

NO_VALUE = "(none)"
#: Upper edges (seconds) of the time-to-convert buckets; the last bucket is open.
TIME_BUCKETS: tuple[tuple[str, int | None], ...] = (
    ("< 1 min", 60),
    ("1–5 min", 300),
    ("5–15 min", 900),
    ("15–60 min", 3_600),
    ("1–3 h", 10_800),
    ("3–12 h", 43_200),
    ("12–24 h", 86_400),
    ("1–3 d", 259_200),
    ("3–7 d", 604_800),
    ("≥ 7 d", None),
)


class FunnelStep(BaseModel):
    """One step: an event name, equality filters on its properties, optional or not."""

    event: str = Field(min_length=1)
    where: dict[str, str | int | float | bool] = Field(
        default_factory=dict,
        description="Property path → value; JSON values compare as text (true/false, 3).",
    )
    optional: bool = False
    label: str | None = None

    @property
    def name(self) -> str:
        if self.label:
            return self.label
        if not self.where:
            return self.event
        filters = ";".join(f"{k}={_text(v)}" for k, v in self.where.items())
        return f"{self.event}[{filters}]"


class FunnelQuery(BaseModel):
    steps: list[FunnelStep]
    window_seconds: int = Field(default=7 * 86_400, ge=1)
    count_by: CountBy = "customer"
    include_anonymous: bool = Field(
        default=True, description="customer mode: unlinked devices count as their own person."
    )
    breakdown: str | None = Field(default=None, description="store, channel, … or a path.")
    since: date | None = Field(default=None, description="First local day (inclusive).")
    until: date | None = Field(default=None, description="Last local day (exclusive).")
    sequence_column: str = Field(
        default="message_id", description="Orders events that share a timestamp."
    )


def _text(value: str | int | float | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


_STEP = re.compile(r"^(?P<opt>\?)?\s*(?P<event>[^\[\]]+?)\s*(\[(?P<where>[^\]]*)\])?$")


def parse_steps(text: str) -> list[FunnelStep]:
    """``"Product Viewed[category=shoes],?Coupon Applied,Order Completed"`` → steps.

    ``?`` marks an optional step; ``[path=value;path=value]`` adds filters, where a
    bare key means ``properties.KEY``.
    """
    steps = []
    for raw in text.split(","):
        m = _STEP.match(raw.strip())
        if m is None or not m.group("event"):
            raise BehaviourError(
                "funnel.bad_step",
                f"cannot read the step {raw.strip()!r}: write EVENT, ?EVENT (optional) "
                "or EVENT[key=value;key2=value2]",
            )
        where: dict[str, str | int | float | bool] = {}
        for cond in filter(None, (m.group("where") or "").split(";")):
            key, sep, value = cond.partition("=")
            if not sep or not key.strip():
                raise BehaviourError(
                    "funnel.bad_step", f"filter {cond!r} in step {raw.strip()!r} is not key=value"
                )
            key = key.strip()
            where[key if "." in key else f"properties.{key}"] = value.strip()
        steps.append(FunnelStep(event=m.group("event"), where=where, optional=bool(m.group("opt"))))
    return steps


# -- validation rules ------------------------------------------------------------------
class TwoSteps(Rule[FunnelQuery]):
    code: ClassVar[str] = "funnel.too_few_steps"

    def check(self, query: FunnelQuery) -> str | None:
        required = [s for s in query.steps if not s.optional]
        if len(query.steps) < 2 or len(required) < 1:
            return (
                "a funnel needs at least two steps, e.g. --steps 'Product Viewed,Order Completed'"
            )
        return None


class FirstStepRequired(Rule[FunnelQuery]):
    code: ClassVar[str] = "funnel.optional_first_step"

    def check(self, query: FunnelQuery) -> str | None:
        if query.steps and query.steps[0].optional:
            return "the first step cannot be optional: every chain starts with it"
        return None


class AtMostTwentySteps(Rule[FunnelQuery]):
    code: ClassVar[str] = "funnel.too_many_steps"

    def check(self, query: FunnelQuery) -> str | None:
        if len(query.steps) > 20:
            return f"a funnel has at most 20 steps (got {len(query.steps)})"
        return None


class KnownPaths(Rule[FunnelQuery]):
    code: ClassVar[str] = "funnel.bad_property_path"

    def check(self, query: FunnelQuery) -> str | None:
        paths = [p for s in query.steps for p in s.where]
        if query.breakdown is not None and query.breakdown not in BREAKDOWNS:
            paths.append(query.breakdown)
        for path in paths:
            try:
                check_path(path)
            except BehaviourError as exc:
                return str(exc)
        return None


class OrderedRange(Rule[FunnelQuery]):
    code: ClassVar[str] = "funnel.bad_range"

    def check(self, query: FunnelQuery) -> str | None:
        if query.since and query.until and query.until <= query.since:
            return f"the range is empty: {query.since} is not before {query.until}"
        return None


RULES: tuple[Rule[FunnelQuery], ...] = (
    TwoSteps(),
    FirstStepRequired(),
    AtMostTwentySteps(),
    KnownPaths(),
    OrderedRange(),
)


# -- result --------------------------------------------------------------------------
@dataclass
class StepResult:
    index: int
    name: str
    event: str
    optional: bool
    count: int
    conversion_from_previous: float | None
    conversion_from_start: float | None
    dropped: int | None
    median_seconds_from_start: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "name": self.name,
            "event": self.event,
            "optional": self.optional,
            "count": self.count,
            "conversion_from_previous": _round(self.conversion_from_previous),
            "conversion_from_start": _round(self.conversion_from_start),
            "dropped": self.dropped,
            "median_seconds_from_start": self.median_seconds_from_start,
        }


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 6)


@dataclass
class FunnelResult:
    query: FunnelQuery
    steps: list[StepResult]
    breakdown: dict[str, list[StepResult]] = field(default_factory=dict)
    time_to_convert: list[dict[str, Any]] = field(default_factory=list)
    median_seconds_to_convert: float | None = None

    @property
    def conversion_rate(self) -> float | None:
        return self.steps[-1].conversion_from_start if self.steps else None

    def to_dict(self) -> dict[str, Any]:
        q = self.query
        return {
            "steps": [s.to_dict() for s in self.steps],
            "conversion_rate": _round(self.conversion_rate),
            "window_seconds": q.window_seconds,
            "count_by": q.count_by,
            "since": q.since.isoformat() if q.since else None,
            "until": q.until.isoformat() if q.until else None,
            "breakdown_by": q.breakdown,
            "breakdown": [
                {"value": value, "steps": [s.to_dict() for s in steps]}
                for value, steps in self.breakdown.items()
            ],
            "time_to_convert": self.time_to_convert,
            "median_seconds_to_convert": self.median_seconds_to_convert,
        }


def _order_keys(sequence_column: str) -> list[str]:
    """The total event order; the natural key breaks ties that ``seq`` leaves."""
    if sequence_column == "message_id":
        return ["ts", "message_id", "source_id"]
    return ["ts", "seq", "source_id", "message_id"]


def _parents(steps: list[FunnelStep]) -> list[int | None]:
    """For each step, the required step before it (None for the first)."""
    parents: list[int | None] = []
    last_required: int | None = None
    for i, step in enumerate(steps):
        parents.append(last_required)
        if not step.optional:
            last_required = i
    return parents


#: How the per-person table is computed: ``sql`` (the portable expression),
#: ``kernel`` (the native kernel, DuckDB only) or ``auto`` (the kernel where it pays).
Engine = Literal["auto", "sql", "kernel"]
#: ``auto`` uses the kernel on DuckDB from this many events (the ``events`` table or
#: the given events, before any filter): below it the SQL answers in well under a
#: second and loading the compiled kernel would cost as much as it saves.
KERNEL_MIN_EVENTS = 1_000_000
#: … and up to this many: the kernel holds about 25 bytes per matching event in
#: memory (29 with a breakdown), where DuckDB's SQL path can spill to disk.
KERNEL_MAX_EVENTS = 200_000_000


class FunnelInsight:
    """A funnel: per-person reach (:meth:`to_expr`), counts (:meth:`calculate`)."""

    def __init__(
        self,
        wh: Warehouse,
        query: FunnelQuery,
        *,
        events: ir.Table | None = None,
        engine: Engine = "auto",
    ) -> None:
        validate(query, RULES)
        self.wh = wh
        self.query = query
        self.events = events
        self.engine = engine
        #: Timings of the last kernel run (None when the SQL path answered).
        self.kernel_stats: KernelStats | None = None
        # The kernel's per-person table, kept for the insight's later questions
        # (results, then who dropped off) so the events are read once.
        self._kernel_persons: ir.Table | None = None

    # -- expressions ------------------------------------------------------------------
    def _matches(self, t: ir.Table, step: FunnelStep) -> ir.BooleanValue:
        cond = t.event == step.event
        for path, value in step.where.items():
            cond = cond & (property_value(self.wh, t, path) == _text(value)).fill_null(False)
        return cond

    def _use_kernel(self) -> bool:
        if self.engine == "sql":
            return False
        if self.engine == "kernel":
            return True  # kernel_expr() refuses other backends
        if self.wh.name != "duckdb":
            return False
        return KERNEL_MIN_EVENTS <= self._event_count() <= KERNEL_MAX_EVENTS

    def to_expr(self) -> ir.Table:
        """One row per person with a step-1 event: ``person_id``, ``breakdown``,
        ``reached_<i>`` (0/1) and ``seconds_<i>`` (shortest time from step 1 to
        step i, NULL when not reached) for every step ``i`` (0-based).

        On DuckDB (from :data:`KERNEL_MIN_EVENTS` events, or always with
        ``engine="kernel"``) the table is computed by the native kernel
        (:mod:`storeops.behaviour.funnel_kernel`) and returned as an in-memory table;
        elsewhere it is the SQL expression of :meth:`sql_expr`. Both give the same rows.
        """
        if not self._use_kernel():
            self.kernel_stats = None
            return self.sql_expr()
        return self.kernel_expr()

    def _reach(self) -> ir.Table:
        """The per-person table for counting: :meth:`to_expr`, except that the
        kernel's persons are keys, not ids (the ids cost a query of their own)."""
        return self._kernel_table() if self._use_kernel() else self.to_expr()

    def kernel_expr(self) -> ir.Table:
        """The per-person table computed by the native kernel (DuckDB only)."""
        from storeops.behaviour.funnel_kernel import with_person_ids

        return with_person_ids(self._kernel_events(), self._kernel_table())

    def _kernel_table(self) -> ir.Table:
        """The kernel's per-person table, persons by key (``_h``, ``_h2``) instead
        of id; computed once per insight, so ``calculate()`` then ``dropoff_expr()``
        read the events once."""
        if self.wh.name != "duckdb":
            raise BehaviourError(
                "funnel.kernel_backend",
                f"the native funnel kernel runs on DuckDB only, not on {self.wh.name}; "
                "use engine='sql' (the portable path) there",
            )
        if self._kernel_persons is not None:
            return self._kernel_persons
        from storeops.behaviour.funnel_kernel import kernel_persons

        q = self.query
        table, self.kernel_stats = kernel_persons(
            self.wh,
            self._kernel_events(),
            parents=_parents(q.steps),
            window_seconds=q.window_seconds,
            order_keys=_order_keys(q.sequence_column),
            with_breakdown=q.breakdown is not None,
            no_value=NO_VALUE,
            capacity=self._kernel_capacity(),
        )
        self._kernel_persons = self.wh.stage(table)
        return self._kernel_persons

    def _event_count(self) -> int:
        """Events before any filter (the ``events`` table's count is kept by DuckDB,
        so this costs nothing there)."""
        events = self.events if self.events is not None else self.wh.table("events")
        return int(self.wh.execute(events.count()))

    def _kernel_capacity(self) -> int:
        """An upper bound of the kernel's rows, cheap on DuckDB (the ``ts`` zone maps
        and the ``event`` column's dictionary): the range's events named as a step.
        The kernel sizes its memory by it, so a small funnel over a large table
        stays small."""
        q = self.query
        tz = self.wh.settings.default_timezone
        e = self.events if self.events is not None else self.wh.table("events")
        if q.since:
            e = e.filter(e.ts >= day_bounds_utc(q.since, tz))
        if q.until:
            e = e.filter(e.ts < day_bounds_utc(q.until, tz))
        # A simple CASE (not IN): DuckDB evaluates it once per dictionary entry.
        named = e.event.cases(*[(s.event, 1) for s in q.steps], else_=0)
        return int(self.wh.execute(named.sum()) or 0)

    def _kernel_events(self) -> ir.Table:
        """The kernel's input: the events of the range that match some step, with
        ``person_id``, the order keys, ``mask`` (bit i: matches step i) and, with a
        breakdown, ``bd`` (the breakdown value on step-1 events)."""
        from storeops.behaviour.funnel_kernel import mask_type

        q = self.query
        e = self._events()
        # Steps on the event name alone become one ``CASE event WHEN …``, which
        # DuckDB evaluates on the column's dictionary instead of on every row.
        by_name: dict[str, int] = {}
        for i, s in enumerate(q.steps):
            if not s.where:
                by_name[s.event] = by_name.get(s.event, 0) | 1 << i
        mask: ir.IntegerValue = (
            e.event.cases(*by_name.items(), else_=0) if by_name else ibis.literal(0)
        )
        for i, s in enumerate(q.steps):
            if s.where:
                mask = mask + ibis.ifelse(self._matches(e, s), 1 << i, 0)
        columns: dict[str, ir.Value] = {"mask": mask.cast(mask_type(len(q.steps)))}
        if q.breakdown is not None:
            value = breakdown_value(self.wh, e, q.breakdown)
            columns["bd"] = ibis.ifelse(self._matches(e, q.steps[0]), value, ibis.null("string"))
        keys = _order_keys(q.sequence_column)
        matched = e.select("person_id", *keys, **columns)
        return matched.filter(matched.mask != 0)

    def _events(self) -> ir.Table:
        """The range's track events, with ``person_id`` and ``seq``."""
        q = self.query
        tz = self.wh.settings.default_timezone
        return person_events(
            self.wh,
            count_by=q.count_by,
            include_anonymous=q.include_anonymous,
            since=day_bounds_utc(q.since, tz) if q.since else None,
            until=day_bounds_utc(q.until, tz) if q.until else None,
            events=self.events,
            seq=q.sequence_column,
        )

    def _matched_events(self) -> ir.Table:
        """The events of the range that match some step, with ``_m<i>`` flags."""
        e = self._events()
        m = {f"_m{i}": self._matches(e, s) for i, s in enumerate(self.query.steps)}
        e = e.mutate(**m)
        return e.filter(ibis.or_(*[e[c] for c in m]))

    def sql_expr(self) -> ir.Table:
        """The per-person table of :meth:`to_expr` as one SQL expression (any backend)."""
        q = self.query
        e = self._matched_events()
        steps = q.steps
        n = len(steps)
        m = [f"_m{i}" for i in range(n)]
        keys = _order_keys(q.sequence_column)
        extra = ["properties", "context", *EVENT_COLUMNS] if q.breakdown is not None else []
        t = e.select(*dict.fromkeys(["person_id", *keys, *m, *extra]))
        window = ibis.interval(seconds=q.window_seconds)
        parents = _parents(steps)
        # Level by level, each step whose parent is known gets ``_s<i>``: the latest
        # start of a chain ending at this row. Between levels, rows that can no
        # longer matter are dropped — only rows of later steps, in-window chain
        # ends and each person's first step-1 row stay — so the first window pass
        # sorts every matching event and later passes sort few rows.
        t = t.mutate(_s0=ibis.ifelse(t._m0, t.ts, ibis.null("timestamp")).cast("timestamp"))
        done = {0}
        ok: dict[int, ir.BooleanValue] = {}
        while len(done) < n:
            ready = [i for i in range(n) if i not in done and parents[i] in done]
            prev = ibis.window(group_by=t.person_id, order_by=[t[k] for k in keys], rows=(None, -1))
            columns = {
                f"_s{i}": ibis.ifelse(
                    t[f"_m{i}"], t[f"_s{parents[i]}"].max().over(prev), ibis.null("timestamp")
                ).cast("timestamp")
                for i in ready
            }
            if done == {0}:
                # The person's first step-1 row, in the same window pass (one sort).
                first = t._m0.cast("int64").sum().over(prev).fill_null(0) == 0
                columns["_first"] = t._m0 & first
            t = t.mutate(**columns)
            if done == {0}:
                if q.breakdown is not None:
                    value = breakdown_value(self.wh, t, q.breakdown)
                    t = t.mutate(_bd=ibis.ifelse(t._first, value, ibis.null("string")))
                    t = t.drop(*[c for c in extra if c not in ["person_id", *keys]])
                else:
                    t = t.mutate(_bd=ibis.null("string"))
            done.update(ready)
            ok = {
                i: t[f"_s{i}"].notnull() & (t.ts <= t[f"_s{i}"] + window)
                for i in sorted(done)
                if i > 0
            }
            future = [t[f"_m{i}"] for i in range(n) if i not in done]
            providers = (
                [t._s0.notnull()] if any(parents[i] == 0 for i in range(n) if i not in done) else []
            )
            t = t.filter(ibis.or_(t._first, *future, *providers, *ok.values()))
        ok = {i: t[f"_s{i}"].notnull() & (t.ts <= t[f"_s{i}"] + window) for i in range(1, n)}
        secs = {i: t.ts.delta(t[f"_s{i}"], unit="millisecond") / 1000.0 for i in ok}
        per = t.group_by("person_id").aggregate(
            breakdown=t._bd.max(),
            reached_0=t._first.cast("int64").max(),
            seconds_0=ibis.ifelse(t._first, 0.0, ibis.null("float64")).min(),
            **{f"reached_{i}": ok[i].cast("int64").max() for i in ok},
            **{f"seconds_{i}": ibis.ifelse(ok[i], secs[i], ibis.null("float64")).min() for i in ok},
        )
        per = per.filter(per.reached_0 == 1)
        return per.mutate(breakdown=per.breakdown.fill_null(NO_VALUE))

    def counts_expr(self, persons: ir.Table | None = None) -> ir.Table:
        """People who reached each step (``count_<i>``), per breakdown value."""
        p = persons if persons is not None else self._reach()
        n = len(self.query.steps)
        return p.group_by("breakdown").aggregate(
            **{f"count_{i}": p[f"reached_{i}"].sum() for i in range(n)}
        )

    def summary_expr(self, persons: ir.Table | None = None) -> ir.Table:
        """Counts and median times per breakdown value (one row without breakdown)."""
        p = persons if persons is not None else self._reach()
        n = len(self.query.steps)
        return p.group_by("breakdown").aggregate(
            **{f"count_{i}": p[f"reached_{i}"].sum() for i in range(n)},
            **{f"median_{i}": p[f"seconds_{i}"].quantile(0.5) for i in range(n)},
        )

    def time_to_convert_expr(self, persons: ir.Table | None = None) -> ir.Table:
        """People who converted (reached the last required step) per time bucket."""
        p = persons if persons is not None else self._reach()
        last = max(i for i, s in enumerate(self.query.steps) if not s.optional)
        secs = p[f"seconds_{last}"]
        cases = []
        for label, upper in TIME_BUCKETS:
            if upper is not None:
                cases.append((secs < upper, label))
        bucket = ibis.cases(*cases, else_=TIME_BUCKETS[-1][0])
        converted = p.filter(p[f"reached_{last}"] == 1).mutate(bucket=bucket)
        return converted.group_by("bucket").aggregate(
            people=converted.count(), median_seconds=converted[f"seconds_{last}"].quantile(0.5)
        )

    def dropoff_expr(self, step: int) -> ir.Table:
        """People who reached required step ``step`` (0-based) but not the next
        required one: who stopped there. For the last step: who converted."""
        steps = self.query.steps
        if not 0 <= step < len(steps) or steps[step].optional:
            raise BehaviourError(
                "funnel.bad_dropoff_step",
                f"step {step + 1} is not a required step of this funnel "
                f"(1..{len(steps)}, optional steps excluded)",
            )
        p = self.to_expr()
        nxt = next((i for i in range(step + 1, len(steps)) if not steps[i].optional), None)
        cond = p[f"reached_{step}"] == 1
        if nxt is not None:
            cond = cond & (p[f"reached_{nxt}"] == 0)
        return p.filter(cond).select("person_id", "breakdown").order_by("person_id")

    # -- results --------------------------------------------------------------------
    def _steps(self, row: dict[str, Any]) -> list[StepResult]:
        steps = self.query.steps
        parents = _parents(steps)
        counts = [int_or_none(row.get(f"count_{i}")) or 0 for i in range(len(steps))]
        out = []
        for i, s in enumerate(steps):
            parent = parents[i]
            base = counts[parent] if parent is not None else None
            nxt = next((j for j in range(i + 1, len(steps)) if not steps[j].optional), None)
            dropped = None if s.optional or nxt is None else counts[i] - counts[nxt]
            out.append(
                StepResult(
                    index=i + 1,
                    name=s.name,
                    event=s.event,
                    optional=s.optional,
                    count=counts[i],
                    conversion_from_previous=(counts[i] / base) if base else None,
                    conversion_from_start=(counts[i] / counts[0]) if counts[0] else None,
                    dropped=dropped,
                    median_seconds_from_start=float_or_none(row.get(f"median_{i}")),
                )
            )
        return out

    def calculate(self) -> FunnelResult:
        if self._use_kernel():
            # An in-memory table; the counts need no person ids.
            return self._calculate(self._kernel_table())
        # The per-person table feeds three small queries; compute it once where
        # the backend gains from that (DuckDB), plan it each time elsewhere.
        with self.wh.materialized(self.sql_expr(), f"_funnel_{uuid4().hex[:12]}") as done:
            persons = done if done is not None else self.sql_expr()
            return self._calculate(persons)

    def _calculate(self, persons: ir.Table) -> FunnelResult:
        summary = self.wh.to_pandas(self.summary_expr(persons))
        n = len(self.query.steps)
        rows: list[dict[str, Any]] = [
            {str(k): v for k, v in r.items()} for r in summary.to_dict(orient="records")
        ]
        total: dict[str, Any] = {
            f"count_{i}": sum(int(r[f"count_{i}"]) for r in rows) for i in range(n)
        }
        breakdown: dict[str, list[StepResult]] = {}
        if self.query.breakdown is not None:
            for r in sorted(rows, key=lambda r: (-int(r["count_0"]), str(r["breakdown"]))):
                breakdown[str(r["breakdown"])] = self._steps(r)
        if len(rows) == 1:
            total.update({k: v for k, v in rows[0].items() if k.startswith("median_")})
        elif rows:
            per = persons
            medians = self.wh.to_pandas(
                per.aggregate(
                    **{f"median_{i}": per[f"seconds_{i}"].quantile(0.5) for i in range(n)}
                )
            )
            total.update({str(k): v for k, v in medians.iloc[0].items()})
        buckets = self.wh.to_pandas(self.time_to_convert_expr(persons))
        by_label = {str(r["bucket"]): int(r["people"]) for r in buckets.to_dict(orient="records")}
        histogram = [
            {"bucket": label, "max_seconds": upper, "people": by_label.get(label, 0)}
            for label, upper in TIME_BUCKETS
        ]
        last = max(i for i, s in enumerate(self.query.steps) if not s.optional)
        steps = self._steps(total)
        return FunnelResult(
            query=self.query,
            steps=steps,
            breakdown=breakdown,
            time_to_convert=histogram,
            median_seconds_to_convert=steps[last].median_seconds_from_start,
        )

    def dropoffs(self, step: int) -> pd.DataFrame:
        return self.wh.to_pandas(self.dropoff_expr(step))


def window_label(seconds: int) -> str:
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
