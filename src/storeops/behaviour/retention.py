"""Retention: of the people who started in a period, how many came back N periods later.

- **Cohort**: a person's cohort is the calendar period (day, week from Monday, or
  month, in the workspace's local time zone for events and the store's for
  purchases) of their **first** cohort activity in all history: their first event
  (``cohort_event``, or any track event) or their first purchase. Only cohorts
  that start in ``[since, until)`` are shown.
- **Return activity**: a track event (``return_event``, or any) or a purchase.
- **Bounded** (N-period) retention: the share of the cohort active in period N
  exactly. **Unbounded** (rolling) retention: active in period N *or any later
  period*. Period 0 is the cohort's own period, counted like any other (it is 100%
  when the return activity is the cohort activity).
- **Revenue retention**: the cohort's purchase revenue in period N divided by its
  revenue in period 0 (customers only: purchases have no anonymous ids).
- Periods are shown from 0 to ``periods`` while they have started by the last day
  with any return activity.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, ClassVar, Literal

import ibis
import ibis.expr.types as ir
import pandas as pd
from pydantic import BaseModel, Field

from storeops.analytics.purchases import purchases
from storeops.behaviour.events import CountBy, person_events
from storeops.behaviour.validation import Rule, validate
from storeops.warehouse import Warehouse

Period = Literal["day", "week", "month"]
Activity = Literal["event", "purchase"]
_TRUNC = {"day": "D", "week": "W", "month": "M"}


class RetentionQuery(BaseModel):
    period: Period = "week"
    periods: int = Field(default=8, ge=1, le=400, description="Periods after the cohort's.")
    cohort_by: Activity = "event"
    cohort_event: str | None = Field(default=None, description="None: any track event.")
    return_by: Activity = "event"
    return_event: str | None = Field(default=None, description="None: any track event.")
    bounded: bool = True
    count_by: CountBy = "customer"
    include_anonymous: bool = True
    since: date | None = Field(default=None, description="First cohort day (inclusive).")
    until: date | None = Field(default=None, description="Cohorts before this day.")


class PurchasesNeedCustomers(Rule[RetentionQuery]):
    code: ClassVar[str] = "retention.purchases_need_customers"

    def check(self, query: RetentionQuery) -> str | None:
        uses_purchases = "purchase" in (query.cohort_by, query.return_by)
        if uses_purchases and query.count_by != "customer":
            return "purchases belong to customers, not devices: use --count-by customer"
        return None


class OrderedRange(Rule[RetentionQuery]):
    code: ClassVar[str] = "retention.bad_range"

    def check(self, query: RetentionQuery) -> str | None:
        if query.since and query.until and query.until <= query.since:
            return f"the range is empty: {query.since} is not before {query.until}"
        return None


RULES: tuple[Rule[RetentionQuery], ...] = (PurchasesNeedCustomers(), OrderedRange())


@dataclass
class RetentionResult:
    table: pd.DataFrame  # cohort, cohort_size, period, retained, rate, revenue_fen, revenue_rate
    query: RetentionQuery

    def to_dict(self) -> dict[str, Any]:
        q = self.query
        cohorts = []
        for cohort, rows in self.table.groupby("cohort", sort=True):
            rows = rows.sort_values("period")
            cohorts.append(
                {
                    "cohort": cohort.isoformat() if isinstance(cohort, date) else str(cohort),
                    "size": int(rows["cohort_size"].iloc[0]),
                    "retained": [int(x) for x in rows["retained"]],
                    "rates": [round(float(x), 6) for x in rows["rate"]],
                    "revenue_fen": [int(x) for x in rows["revenue_fen"]],
                    "revenue_rates": [
                        None if pd.isna(x) else round(float(x), 6) for x in rows["revenue_rate"]
                    ],
                }
            )
        return {
            "period": q.period,
            "bounded": q.bounded,
            "cohort_by": q.cohort_by,
            "cohort_event": q.cohort_event,
            "return_by": q.return_by,
            "return_event": q.return_event,
            "count_by": q.count_by,
            "cohorts": cohorts,
        }


class RetentionInsight:
    def __init__(
        self, wh: Warehouse, query: RetentionQuery, *, events: ir.Table | None = None
    ) -> None:
        validate(query, RULES)
        self.wh = wh
        self.query = query
        self.events = events

    def _activity(self, kind: Activity, event: str | None) -> ir.Table:
        """person_id, day, revenue_fen."""
        q = self.query
        if kind == "purchase":
            p = purchases(self.wh)
            return p.select(person_id="customer_id", day="day", revenue_fen="total_fen")
        e = person_events(
            self.wh,
            count_by=q.count_by,
            include_anonymous=q.include_anonymous,
            events=self.events,
        )
        if event is not None:
            e = e.filter(e.event == event)
        local = self.wh.local_time(e.ts, self.wh.settings.default_timezone)
        return e.select("person_id", day=local.date(), revenue_fen=ibis.literal(0, type="int64"))

    def _start(self, day: ir.DateValue) -> ir.DateValue:
        return day.truncate(_TRUNC[self.query.period]).cast("date")

    def _index(self, start: ir.DateValue, cohort: ir.DateValue) -> ir.IntegerValue:
        if self.query.period == "month":
            return (start.year() * 12 + start.month()) - (cohort.year() * 12 + cohort.month())
        days = start.delta(cohort, unit="day")
        return days if self.query.period == "day" else days // 7

    def cohorts_expr(self) -> ir.Table:
        q = self.query
        entry = self._activity(q.cohort_by, q.cohort_event)
        first = entry.group_by("person_id").aggregate(first_day=entry.day.min())
        c = first.select("person_id", cohort=self._start(first.first_day))
        if q.since is not None:
            c = c.filter(c.cohort >= self._start(ibis.literal(q.since)))
        if q.until is not None:
            c = c.filter(c.cohort < q.until)
        return c

    def to_expr(self) -> ir.Table:
        """(cohort, period, retained[, revenue_fen]) for periods 0..``periods``."""
        q = self.query
        c = self.cohorts_expr()
        act = self._activity(q.return_by, q.return_event)
        act = act.mutate(start=self._start(act.day))
        j = c.join(act, "person_id")
        j = j.mutate(period=self._index(j.start, j.cohort))
        if q.bounded:
            j = j.filter((j.period >= 0) & (j.period <= q.periods))
            per = j.group_by("person_id", "cohort", "period").aggregate()
            return per.group_by("cohort", "period").aggregate(retained=per.count())
        # Unbounded: counted at every period up to their last active one (which may
        # lie beyond the periods shown).
        j = j.filter(j.period >= 0)
        last = j.group_by("person_id", "cohort").aggregate(
            last=ibis.least(j.period.max(), q.periods)
        )
        return last.group_by("cohort", period=last["last"]).aggregate(retained=last.count())

    def revenue_expr(self) -> ir.Table:
        q = self.query
        c = self.cohorts_expr()
        p = self._activity("purchase", None)
        p = p.mutate(start=self._start(p.day))
        j = c.join(p, "person_id")
        j = j.mutate(period=self._index(j.start, j.cohort))
        j = j.filter((j.period >= 0) & (j.period <= q.periods))
        return j.group_by("cohort", "period").aggregate(revenue_fen=j.revenue_fen.sum())

    def calculate(self) -> RetentionResult:
        q = self.query
        sizes = self.wh.to_pandas(
            self.cohorts_expr().group_by("cohort").aggregate(cohort_size=ibis._.count())
        )
        if sizes.empty:
            return RetentionResult(pd.DataFrame(columns=COLUMNS), q)
        act = self._activity(q.return_by, q.return_event)
        last = self.wh.execute(self._start(act.day.max()))
        if last is None or pd.isna(last):  # nobody ever came back: no period has data
            return RetentionResult(pd.DataFrame(columns=COLUMNS), q)
        last_start = _as_date(last)
        retained: dict[tuple[date, int], int] = {}
        for r in self.wh.to_pandas(self.to_expr()).to_dict(orient="records"):
            retained[(_as_date(r["cohort"]), int(r["period"]))] = int(r["retained"])
        revenue: dict[tuple[date, int], int] = {}
        if q.count_by == "customer":
            for r in self.wh.to_pandas(self.revenue_expr()).to_dict(orient="records"):
                revenue[(_as_date(r["cohort"]), int(r["period"]))] = int(r["revenue_fen"])
        rows = []
        for r in sizes.to_dict(orient="records"):
            cohort, size = _as_date(r["cohort"]), int(r["cohort_size"])
            base = revenue.get((cohort, 0), 0)
            for n in range(q.periods + 1):
                if _ADD[q.period](cohort, n) > last_start:
                    break
                if q.bounded:
                    people = retained.get((cohort, n), 0)
                else:
                    people = sum(v for (c, k), v in retained.items() if c == cohort and k >= n)
                rev = revenue.get((cohort, n), 0)
                rows.append(
                    {
                        "cohort": cohort,
                        "cohort_size": size,
                        "period": n,
                        "retained": people,
                        "rate": people / size,
                        "revenue_fen": rev,
                        "revenue_rate": rev / base if base else None,
                    }
                )
        table = pd.DataFrame(rows, columns=COLUMNS).sort_values(["cohort", "period"])
        return RetentionResult(table.reset_index(drop=True), q)


COLUMNS = ["cohort", "cohort_size", "period", "retained", "rate", "revenue_fen", "revenue_rate"]


def _as_date(value: Any) -> date:
    return pd.Timestamp(value).date()


def _add_months(d: date, n: int) -> date:
    months = d.year * 12 + d.month - 1 + n
    return date(months // 12, months % 12 + 1, 1)


_ADD: dict[str, Callable[[date, int], date]] = {
    "day": lambda d, n: d + timedelta(days=n),
    "week": lambda d, n: d + timedelta(days=7 * n),
    "month": _add_months,
}
