"""Foot traffic from people counters: entries, exits, occupancy, capture rate, peaks.

All times are store-local (``Warehouse.local_time``); a day is a local business day
and weeks start on Monday. Over an optional range of local days (``date_from`` …
``date_to``, both inclusive):

- **entries** (客流 / 进店人数) — sum of ``traffic_counts.ins``; **exits** — sum of
  ``outs``; per store and per entrance, per minute, hour, day, week or month;
- **occupancy** (在店人数) — per store and local day, the running total of entries
  minus exits in time order, starting from 0 at the start of each local day and
  clipped at 0, so counter drift never carries over to the next day;
- **passers-by** (过店客流) — sum of ``passers_by`` where counters report it (NULL when
  no interval reports it); **capture rate** (进店率) = entries / (entries +
  passers-by), over the intervals that report passers-by only;
- **peak hours** (高峰时段) — per store, the local hour(s) of day with the highest
  average entries per day (ties all kept);
- **entrance share** (出入口占比) — an entrance's entries / the store's entries, and
  relative to the store's busiest entrance (side door at 0.45 of the main door);
- **previous period** (环比) — the same numbers for the equally long range of days
  just before ``date_from`` (needs both ends of the range);
- **same period last year** (同比) — the same numbers for last year's comparable range,
  weekday-aligned (364 days back) or Spring Festival-aligned near Spring Festival
  (:func:`storeops.analytics.retail_calendar.last_year_range`; needs both ends).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any, Literal

import ibis
import ibis.expr.types as ir
from pydantic import BaseModel, Field, model_validator

from storeops.analytics.retail_calendar import ComparableRange, last_year_range
from storeops.analytics.values import bucket_label, float_or_none, int_or_none, is_missing
from storeops.errors import StoreOpsError
from storeops.warehouse import Warehouse

Bucket = Literal["minute", "hour", "day", "week", "month"]
BUCKETS: tuple[Bucket, ...] = ("minute", "hour", "day", "week", "month")
_UNIT = {"minute": "m", "hour": "h", "day": "D", "week": "W", "month": "M"}


class TrafficError(StoreOpsError, ValueError):
    """Traffic metrics cannot be computed as asked."""


class TrafficQuery(BaseModel):
    """Which stores and local days to measure, and the bucket size."""

    date_from: date | None = Field(default=None, description="First local day (inclusive).")
    date_to: date | None = Field(default=None, description="Last local day (inclusive).")
    store_ids: tuple[str, ...] | None = Field(default=None, description="Only these stores.")
    by: Bucket = Field(default="day", description="Bucket size for entries and exits.")

    @model_validator(mode="after")
    def _ordered(self) -> TrafficQuery:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError(
                f"date_from {self.date_from} is after date_to {self.date_to}; swap them"
            )
        return self

    def previous(self) -> TrafficQuery | None:
        """The equally long range of days just before this one (None without both ends)."""
        if self.date_from is None or self.date_to is None:
            return None
        days = (self.date_to - self.date_from).days + 1
        return self.model_copy(
            update={
                "date_from": self.date_from - timedelta(days=days),
                "date_to": self.date_from - timedelta(days=1),
            }
        )

    def last_year(self) -> tuple[TrafficQuery, ComparableRange] | None:
        """Last year's comparable range (see ``retail_calendar``); None without both ends."""
        if self.date_from is None or self.date_to is None:
            return None
        span = last_year_range(self.date_from, self.date_to)
        query = self.model_copy(update={"date_from": span.date_from, "date_to": span.date_to})
        return query, span


def _ratio(num: ir.NumericValue, den: ir.NumericValue) -> ir.FloatingValue:
    return num.cast("float64") / den.nullif(0).cast("float64")


class TrafficInsight:
    """Traffic metrics as Ibis expressions (``to_expr`` and friends) and a result."""

    def __init__(self, wh: Warehouse, query: TrafficQuery | None = None) -> None:
        self.wh = wh
        self.query = query or TrafficQuery()

    # -- base relation ----------------------------------------------------------------
    def counts(self) -> ir.Table:
        """Counter rows in range with ``local_ts``, ``day`` and ``hour`` (store-local)."""
        q = self.query
        stores = self.wh.table("stores").select(s_id="store_id", tz="timezone")
        if q.store_ids is not None:
            stores = stores.filter(stores.s_id.isin(q.store_ids))
        tc = self.wh.table("traffic_counts")
        tc = tc.join(stores, tc.store_id == stores.s_id)
        local = self.wh.local_time(tc.interval_start, tc.tz)
        tc = tc.select(
            "store_id",
            "entrance_id",
            "interval_start",
            "ins",
            "outs",
            "passers_by",
            local_ts=local,
            day=local.date(),
            hour=local.hour(),
        )
        if q.date_from is not None:
            tc = tc.filter(tc.day >= q.date_from)
        if q.date_to is not None:
            tc = tc.filter(tc.day <= q.date_to)
        return tc

    @staticmethod
    def _measures(t: ir.Table) -> dict[str, ir.Value]:
        reported = t.passers_by.notnull()
        return {
            "entries": t.ins.sum(),
            "exits": t.outs.sum(),
            "passers_by": t.passers_by.sum(),
            "reported_entries": t.ins.sum(where=reported),
        }

    @staticmethod
    def _with_capture(t: ir.Table) -> ir.Table:
        capture = _ratio(t.reported_entries, t.reported_entries + t.passers_by)
        return t.mutate(capture_rate=capture).drop("reported_entries")

    # -- insights ---------------------------------------------------------------------
    def to_expr(self) -> ir.Table:
        """Entries, exits, passers-by and capture rate per store, entrance and bucket."""
        tc = self.counts()
        tc = tc.mutate(bucket=tc.local_ts.truncate(_UNIT[self.query.by]))
        agg = tc.group_by("store_id", "entrance_id", "bucket").aggregate(**self._measures(tc))
        return self._with_capture(agg).order_by("store_id", "entrance_id", "bucket")

    def store_buckets_expr(self) -> ir.Table:
        """As :meth:`to_expr`, summed over entrances."""
        tc = self.counts()
        tc = tc.mutate(bucket=tc.local_ts.truncate(_UNIT[self.query.by]))
        agg = tc.group_by("store_id", "bucket").aggregate(**self._measures(tc))
        return self._with_capture(agg).order_by("store_id", "bucket")

    def totals_expr(self) -> ir.Table:
        """Per store over the whole range: entries, exits, passers-by, capture rate."""
        tc = self.counts()
        agg = tc.group_by("store_id").aggregate(days=tc.day.nunique(), **self._measures(tc))
        return self._with_capture(agg).order_by("store_id")

    def occupancy_expr(self) -> ir.Table:
        """People inside per store and local minute: entries − exits so far that day, ≥ 0."""
        tc = self.counts()
        per = tc.group_by("store_id", "day", "local_ts").aggregate(
            ins=tc.ins.sum(), outs=tc.outs.sum()
        )
        w = ibis.cumulative_window(group_by=[per.store_id, per.day], order_by=per.local_ts)
        running = (per.ins - per.outs).sum().over(w)
        occupancy = ibis.greatest(running, ibis.literal(0)).cast("int64")
        return per.mutate(occupancy=occupancy).order_by("store_id", "local_ts")

    def peak_hours_expr(self) -> ir.Table:
        """Entries per local hour of day averaged over the store's counted days; peak flagged."""
        tc = self.counts()
        days = tc.group_by(d_id=tc.store_id).aggregate(days=tc.day.nunique())
        hourly = tc.group_by("store_id", "hour").aggregate(entries=tc.ins.sum())
        hourly = hourly.join(days, hourly.store_id == days.d_id)
        hourly = hourly.select("store_id", "hour", avg_entries=_ratio(hourly.entries, hourly.days))
        top = hourly.avg_entries.max().over(ibis.window(group_by=hourly.store_id))
        return hourly.mutate(peak=hourly.avg_entries == top).order_by("store_id", "hour")

    def entrance_share_expr(self) -> ir.Table:
        """Each entrance's entries, share of the store and ratio to the busiest entrance."""
        tc = self.counts()
        per = tc.group_by("store_id", "entrance_id").aggregate(entries=tc.ins.sum())
        w = ibis.window(group_by=per.store_id)
        return per.mutate(
            share=_ratio(per.entries, per.entries.sum().over(w)),
            relative_to_busiest=_ratio(per.entries, per.entries.max().over(w)),
        ).order_by("store_id", "entrance_id")

    def calculate(self) -> TrafficResult:
        buckets = self.wh.to_pandas(self.store_buckets_expr())
        totals = self.wh.to_pandas(self.totals_expr())
        peaks = self.wh.to_pandas(self.peak_hours_expr())
        shares = self.wh.to_pandas(self.entrance_share_expr())
        stores: dict[str, StoreTraffic] = {}
        for rec in totals.to_dict(orient="records"):
            sid = str(rec["store_id"])
            stores[sid] = StoreTraffic(
                store_id=sid,
                days=int(rec["days"]),
                entries=int(rec["entries"]),
                exits=int(rec["exits"]),
                passers_by=int_or_none(rec["passers_by"]),
                capture_rate=float_or_none(rec["capture_rate"]),
            )
        for rec in peaks.to_dict(orient="records"):
            store = stores.get(str(rec["store_id"]))
            if store is not None and bool(rec["peak"]):
                store.peak_hours.append(int(rec["hour"]))
                store.peak_avg_entries = float(rec["avg_entries"])
        for rec in shares.to_dict(orient="records"):
            store = stores.get(str(rec["store_id"]))
            if store is not None:
                store.entrances[str(rec["entrance_id"])] = EntranceShare(
                    entries=int(rec["entries"]),
                    share=float_or_none(rec["share"]),
                    relative_to_busiest=float_or_none(rec["relative_to_busiest"]),
                )
        rows = [
            BucketRow(
                store_id=str(rec["store_id"]),
                bucket=bucket_label(rec["bucket"], self.query.by),
                entries=int(rec["entries"]),
                exits=int(rec["exits"]),
                passers_by=int_or_none(rec["passers_by"]),
                capture_rate=float_or_none(rec["capture_rate"]),
            )
            for rec in buckets.to_dict(orient="records")
        ]
        previous = None
        prev_query = self.query.previous()
        if prev_query is not None:
            prev = self.wh.to_pandas(TrafficInsight(self.wh, prev_query).totals_expr())
            previous = _compare(stores, prev, prev_query)
        last_year: dict[str, Any] | None = None
        yoy = self.query.last_year()
        if yoy is not None:
            yoy_query, span = yoy
            before = self.wh.to_pandas(TrafficInsight(self.wh, yoy_query).totals_expr())
            compared = _compare(stores, before, yoy_query)
            last_year = {
                "from": compared["from"],
                "to": compared["to"],
                "reason": span.reason,
                "shift_days": span.shift_days,
                "stores": compared["stores"],
            }
        return TrafficResult(self.query, rows, stores, previous, last_year)


@dataclass
class EntranceShare:
    entries: int
    share: float | None
    relative_to_busiest: float | None


@dataclass
class StoreTraffic:
    store_id: str
    days: int
    entries: int
    exits: int
    passers_by: int | None
    capture_rate: float | None
    peak_hours: list[int] = field(default_factory=list)
    peak_avg_entries: float | None = None
    entrances: dict[str, EntranceShare] = field(default_factory=dict)


@dataclass(frozen=True)
class BucketRow:
    store_id: str
    bucket: str
    entries: int
    exits: int
    passers_by: int | None
    capture_rate: float | None


@dataclass
class TrafficResult:
    query: TrafficQuery
    buckets: list[BucketRow]
    stores: dict[str, StoreTraffic]
    previous: dict[str, Any] | None
    last_year: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        q = self.query
        return {
            "from": q.date_from.isoformat() if q.date_from else None,
            "to": q.date_to.isoformat() if q.date_to else None,
            "by": q.by,
            "buckets": [asdict(r) for r in self.buckets],
            "stores": {sid: asdict(s) for sid, s in self.stores.items()},
            "previous": self.previous,
            "last_year": self.last_year,
        }


def _compare(
    stores: dict[str, StoreTraffic], prev: Any, prev_query: TrafficQuery
) -> dict[str, Any]:
    before = {str(r["store_id"]): r for r in prev.to_dict(orient="records")}
    per_store: dict[str, Any] = {}
    for sid, cur in stores.items():
        rec = before.get(sid)
        entries = int(rec["entries"]) if rec is not None else 0
        per_store[sid] = {
            "entries": entries,
            "capture_rate": float_or_none(rec["capture_rate"]) if rec is not None else None,
            "entries_change": cur.entries - entries,
            "entries_change_pct": (cur.entries - entries) / entries if entries else None,
        }
    assert prev_query.date_from is not None and prev_query.date_to is not None
    return {
        "from": prev_query.date_from.isoformat(),
        "to": prev_query.date_to.isoformat(),
        "stores": per_store,
    }


def last_traffic_day(wh: Warehouse, store_ids: tuple[str, ...] | None = None) -> date | None:
    """The latest local day with counter readings (None when there are none)."""
    tc = TrafficInsight(wh, TrafficQuery(store_ids=store_ids)).counts()
    value = wh.execute(tc.day.max())
    return None if is_missing(value) else date.fromisoformat(str(value)[:10])
