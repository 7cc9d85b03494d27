"""Store performance per local hour or day, and a benchmark across stores.

All times are store-local (``Warehouse.local_time``). Over an optional range of local
days (``date_from`` … ``date_to``, both inclusive), per store and local hour or day:

- **entries** (客流) — sum of ``traffic_counts.ins``;
- **transactions**, **sales_fen** — the sale orders of
  :func:`storeops.analytics.store_summary.sale_orders` (store channel, status
  ``completed`` or ``partially_refunded``), by the local time of the order;
- **units** — sum of ``order_lines.quantity`` of those orders;
- **conversion** (成交转化率) = transactions / entries; **ATV** (客单价) = sales_fen /
  transactions; **UPT** (连带率) = units / transactions; **sales per visitor** =
  sales_fen / entries; **sales per m²** (坪效) = sales_fen / ``stores.area_m2``;
- **staff** — sales staff on the floor: ``staff_shifts`` rows with role ``sales``
  whose local ``[shift_start, shift_end)`` overlaps the local hour ``[h, h+1)`` by
  any positive time (a 09:30–12:00 shift counts for 09:00, 10:00 and 11:00; a shift
  ending at 12:00 sharp does not count for 12:00); a person is counted once per hour;
- **STAR** (shoppers per staff member on the floor) = entries / staff for an hour; for
  a day, entries / staff-hours (the sum of the hourly staff counts over the hours the
  store has any activity).

A ratio whose denominator is 0 or missing is NULL, never 0 or infinity.

The **benchmark** gives the same measures per store over the whole range plus
**traffic density** (entries per m² per counted day) and the **repeat-purchase rate**
(复购率, from :class:`storeops.analytics.store_summary.StoreSummary`), ranks them among
the stores (1 = best, ties share the best rank), turns the rank into a percentile
(1.0 = best, 0.0 = worst) and compares each with a target where one is set.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal

import ibis
import ibis.expr.types as ir
from ibis import _
from ibis.common.deferred import Deferred
from pydantic import BaseModel, Field, model_validator

from storeops.analytics.store_summary import StoreSummary, StoreSummaryQuery, sale_orders
from storeops.analytics.values import bucket_label, float_or_none, int_or_none
from storeops.warehouse import Warehouse
from storeops.warehouse.base import FIXED_FROM, FIXED_UNTIL, fixed_offset_seconds

Grain = Literal["hour", "day"]
_UNIT = {"hour": "h", "day": "D"}

#: Sales-floor role in ``staff_shifts``.
SALES_ROLE = "sales"

#: Benchmark metrics and whether a higher value is better. STAR is reported but not
#: ranked: its good value is a band set by the staffing plan, not a direction.
METRICS: dict[str, bool] = {
    "conversion": True,
    "atv_fen": True,
    "upt": True,
    "sales_per_visitor_fen": True,
    "sales_per_m2_fen": True,
    "traffic_density": True,
    "repeat_purchase_rate": True,
}


class _Range(BaseModel):
    date_from: date | None = Field(default=None, description="First local day (inclusive).")
    date_to: date | None = Field(default=None, description="Last local day (inclusive).")
    store_ids: tuple[str, ...] | None = Field(default=None, description="Only these stores.")

    @model_validator(mode="after")
    def _ordered(self) -> _Range:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError(
                f"date_from {self.date_from} is after date_to {self.date_to}; swap them"
            )
        return self


class PerformanceQuery(_Range):
    """Which stores and local days, per local hour or day."""

    by: Grain = Field(default="day", description="hour or day.")


class BenchmarkTargets(BaseModel):
    """Targets to compare against; None means no target for that metric."""

    conversion: float | None = Field(default=0.06, description="DESIGN.md: 6 % conversion.")
    atv_fen: float | None = Field(default=None, description="Average ticket in fen.")
    traffic_density: float | None = Field(
        default=None, description="Entries per m² per counted day."
    )
    repeat_purchase_rate: float | None = Field(default=None, description="Share, 0 … 1.")


class BenchmarkQuery(_Range):
    """Which stores and local days to benchmark, and the targets."""

    targets: BenchmarkTargets = Field(default_factory=BenchmarkTargets)


def _ratio(num: ir.NumericValue, den: ir.NumericValue) -> ir.FloatingValue:
    return num.cast("float64") / den.nullif(0).cast("float64")


class _Base:
    def __init__(self, wh: Warehouse, query: _Range) -> None:
        self.wh = wh
        self.q = query

    def _stores(self) -> ir.Table:
        s = self.wh.table("stores").select(s_id="store_id", tz="timezone", area="area_m2")
        if self.q.store_ids is not None:
            s = s.filter(s.s_id.isin(self.q.store_ids))
        return s

    def _in_range(self, t: ir.Table) -> ir.Table:
        if self.q.date_from is not None:
            t = t.filter(t.day >= self.q.date_from)
        if self.q.date_to is not None:
            t = t.filter(t.day <= self.q.date_to)
        return t

    def _near_range(
        self, t: ir.Table, start: ir.TimestampValue, end: ir.TimestampValue
    ) -> ir.Table:
        """Rows whose UTC ``[start, end]`` can touch the range of local days: a day
        either side covers every UTC offset, so engines can skip the rest early. The
        exact local-day filter comes later."""
        if self.q.date_from is not None:
            t = t.filter(end >= _utc_midnight(self.q.date_from - timedelta(days=1)))
        if self.q.date_to is not None:
            t = t.filter(start < _utc_midnight(self.q.date_to + timedelta(days=2)))
        return t

    def _per_hour(self, t: ir.Table, ts: str, **measures: Deferred) -> ir.Table:
        """``measures`` per store and local hour of ``t[ts]``, for the stores queried.

        Rows are summed first per UTC hour wherever that loses nothing: for a zone whose
        offset is a fixed whole number of hours (Asia/Shanghai), the local hour is the
        UTC hour shifted. So ``local_time`` runs on one row per store and hour instead of
        one per reading. Other zones keep each row's own time. When every zone in use
        qualifies, the rows need not even be joined to their store's zone first.
        ``measures`` must be sums or counts (they are summed again after the first step).
        """
        stores = self._stores()
        if self.q.store_ids is not None:
            t = t.filter(t.store_id.isin(self.q.store_ids))
        zones = self.wh.known_zones()
        aligned = [
            zone
            for zone in zones
            if (offset := fixed_offset_seconds(zone)) is not None and offset % 3600 == 0
        ]
        if aligned and len(aligned) < len(zones):
            zone = stores.select(z_id="s_id", z_tz="tz")
            t = t.join(zone, t.store_id == zone.z_id)
        when = t[ts]
        key: ir.TimestampValue = when
        if aligned:
            fast = (when >= FIXED_FROM) & (when < FIXED_UNTIL)
            if len(aligned) < len(zones):
                fast &= t.z_tz.isin(aligned)
            key = ibis.ifelse(fast, when.truncate("h"), when)
        first = t.group_by(k_id=t.store_id, k_ts=key).aggregate(**measures)
        first = first.join(stores, first.k_id == stores.s_id)
        local = self.wh.local_time(first.k_ts, first.tz)
        first = self._in_range(first.mutate(hour=local.truncate("h"), day=local.date()))
        return first.group_by(store_id=first.k_id, hour=first.hour).aggregate(
            **{name: first[name].sum() for name in measures}
        )

    def hourly_expr(self) -> ir.Table:
        """Per store and local hour: entries, transactions, sales_fen, units, staff."""
        wh, stores = self.wh, self._stores()
        tc = wh.table("traffic_counts")
        tc = self._near_range(tc, tc.interval_start, tc.interval_start)
        entries = self._per_hour(tc, "interval_start", entries=_.ins.sum())
        entries = entries.select(e_id="store_id", e_hour="hour", entries="entries")

        o = sale_orders(wh)
        o = self._near_range(o, o.ts, o.ts).select("order_id", "store_id", "ts", "total_fen")
        sales = self._per_hour(o, "ts", transactions=_.count(), sales_fen=_.total_fen.sum())
        # Units straight from the lines of those orders: no per-order sum to join back.
        lines = wh.table("order_lines").select(l_id="order_id", quantity="quantity")
        lo = lines.join(o, lines.l_id == o.order_id)
        units = self._per_hour(lo, "ts", units=_.quantity.sum())
        units = units.select(u_id="store_id", u_hour="hour", units="units")
        orders = sales.left_join(
            units, [sales.store_id == units.u_id, sales.hour == units.u_hour]
        ).select(
            o_id="store_id",
            o_hour="hour",
            transactions="transactions",
            sales_fen="sales_fen",
            units=_.units.fill_null(0),
        )

        grid = entries.select(g_id=entries.e_id, g_hour=entries.e_hour).union(
            orders.select(g_id=orders.o_id, g_hour=orders.o_hour), distinct=True
        )
        sh = wh.table("staff_shifts")
        sh = sh.filter(sh.role == SALES_ROLE)
        sh = self._near_range(sh, sh.shift_start, sh.shift_end)
        sh = sh.join(stores, sh.store_id == stores.s_id)
        sh = sh.select(
            "staff_id",
            f_id=sh.store_id,
            f_start=wh.local_time(sh.shift_start, sh.tz),
            f_end=wh.local_time(sh.shift_end, sh.tz),
        )
        # A shift is on the floor in every local hour h with start < h + 1h and end > h:
        # the hours from start's own hour up to the one before end. Listing them makes
        # the match with the activity grid an equi-join instead of a range join.
        first_hour = sh.f_start.truncate("h")
        span_s = sh.f_end.epoch_seconds() - first_hour.epoch_seconds()
        n_hours = (span_s.cast("float64") / 3600).ceil().cast("int64")
        sh = sh.select("staff_id", "f_id", first_hour=first_hour, k=ibis.range(0, n_hours).unnest())
        sh = sh.select(
            "staff_id",
            "f_id",
            f_hour=(sh.first_hour.epoch_seconds() + sh.k * 3600)
            .as_timestamp("s")
            .cast("timestamp"),
        )
        staff = sh.group_by(s_id=sh.f_id, s_hour=sh.f_hour).aggregate(staff=sh.staff_id.nunique())

        t = grid.left_join(entries, [grid.g_id == entries.e_id, grid.g_hour == entries.e_hour])
        t = t.left_join(orders, [t.g_id == orders.o_id, t.g_hour == orders.o_hour])
        t = t.left_join(staff, [t.g_id == staff.s_id, t.g_hour == staff.s_hour])
        return t.select(
            store_id=t.g_id,
            hour=t.g_hour,
            entries=t.entries,
            transactions=t.transactions.fill_null(0),
            sales_fen=t.sales_fen.fill_null(0),
            units=t.units.fill_null(0),
            staff=t.staff.fill_null(0),
        )


def _utc_midnight(day: date) -> ir.TimestampValue:
    return ibis.timestamp(datetime.combine(day, datetime.min.time()))


class StorePerformance(_Base):
    """Per store and local hour or day: traffic, sales, conversion, ATV, UPT, STAR."""

    def __init__(self, wh: Warehouse, query: PerformanceQuery | None = None) -> None:
        self.query = query or PerformanceQuery()
        super().__init__(wh, self.query)

    def to_expr(self) -> ir.Table:
        h = self.hourly_expr()
        h = h.mutate(bucket=h.hour.truncate(_UNIT[self.query.by]))
        t = h.group_by("store_id", "bucket").aggregate(
            entries=h.entries.sum(),
            transactions=h.transactions.sum(),
            sales_fen=h.sales_fen.sum(),
            units=h.units.sum(),
            staff_hours=h.staff.sum(),
        )
        area = self._stores()
        t = t.join(area, t.store_id == area.s_id)
        return t.select(
            "store_id",
            "bucket",
            "entries",
            "transactions",
            "sales_fen",
            "units",
            "staff_hours",
            conversion=_ratio(t.transactions, t.entries),
            atv_fen=_ratio(t.sales_fen, t.transactions),
            upt=_ratio(t.units, t.transactions),
            sales_per_visitor_fen=_ratio(t.sales_fen, t.entries),
            sales_per_m2_fen=_ratio(t.sales_fen, t.area),
            star=_ratio(t.entries, t.staff_hours),
        ).order_by("store_id", "bucket")

    def calculate(self) -> list[PerformanceRow]:
        df = self.wh.to_pandas(self.to_expr())
        return [
            PerformanceRow(
                store_id=str(r["store_id"]),
                bucket=bucket_label(r["bucket"], self.query.by),
                entries=int_or_none(r["entries"]),
                transactions=int(r["transactions"]),
                sales_fen=int(r["sales_fen"]),
                units=int(r["units"]),
                staff_hours=int(r["staff_hours"]),
                conversion=float_or_none(r["conversion"]),
                atv_fen=float_or_none(r["atv_fen"]),
                upt=float_or_none(r["upt"]),
                sales_per_visitor_fen=float_or_none(r["sales_per_visitor_fen"]),
                sales_per_m2_fen=float_or_none(r["sales_per_m2_fen"]),
                star=float_or_none(r["star"]),
            )
            for r in df.to_dict(orient="records")
        ]


class StoreBenchmark(_Base):
    """Per store over the range: the metrics, their ranks, percentiles and targets."""

    def __init__(self, wh: Warehouse, query: BenchmarkQuery | None = None) -> None:
        self.query = query or BenchmarkQuery()
        super().__init__(wh, self.query)

    def metrics_expr(self) -> ir.Table:
        h = self.hourly_expr()
        days = h.filter(h.entries.notnull())
        days = days.group_by(d_id=days.store_id).aggregate(days=days.hour.date().nunique())
        t = h.group_by("store_id").aggregate(
            entries=h.entries.sum(),
            transactions=h.transactions.sum(),
            sales_fen=h.sales_fen.sum(),
            units=h.units.sum(),
            staff_hours=h.staff.sum(),
        )
        q = self.query
        summary = StoreSummary(
            self.wh,
            StoreSummaryQuery(date_from=q.date_from, date_to=q.date_to, store_ids=q.store_ids),
        ).to_expr()
        rep = summary.select(r_id=summary.store_id, rate=summary.repeat_purchase_rate)
        stores = self._stores()
        t = stores.left_join(t, stores.s_id == t.store_id)
        t = t.left_join(days, t.s_id == days.d_id)
        t = t.left_join(rep, t.s_id == rep.r_id)
        transactions = t.transactions.fill_null(0)
        sales = t.sales_fen.fill_null(0)
        return t.select(
            store_id=t.s_id,
            area_m2=t.area,
            days=t.days.fill_null(0),
            entries=t.entries,
            transactions=transactions,
            sales_fen=sales,
            units=t.units.fill_null(0),
            staff_hours=t.staff_hours.fill_null(0),
            conversion=_ratio(transactions, t.entries),
            atv_fen=_ratio(sales, transactions),
            upt=_ratio(t.units.fill_null(0), transactions),
            sales_per_visitor_fen=_ratio(sales, t.entries),
            sales_per_m2_fen=_ratio(sales, t.area),
            traffic_density=_ratio(t.entries, t.area * t.days),
            repeat_purchase_rate=t.rate,
            star=_ratio(t.entries, t.staff_hours),
        )

    def to_expr(self) -> ir.Table:
        """:meth:`metrics_expr` plus ``<metric>_rank`` and ``<metric>_percentile``."""
        t = self.metrics_expr()
        extra: dict[str, ir.Value] = {}
        for name, higher in METRICS.items():
            col = t[name]
            present = col.notnull()
            key = ibis.desc(col) if higher else ibis.asc(col)
            # Missing values sit in their own partition so they never take a rank.
            rank = ibis.rank().over(ibis.window(group_by=present, order_by=key)) + 1
            n = col.count().over(ibis.window(group_by=present))
            pct = ibis.ifelse(n > 1, 1.0 - (rank - 1).cast("float64") / (n - 1), 1.0)
            extra[f"{name}_rank"] = ibis.ifelse(present, rank, ibis.null()).cast("int64")
            extra[f"{name}_percentile"] = ibis.ifelse(present, pct, ibis.null()).cast("float64")
        return t.mutate(**extra).order_by("store_id")

    def calculate(self) -> BenchmarkResult:
        df = self.wh.to_pandas(self.to_expr())
        targets = self.query.targets.model_dump()
        stores: dict[str, StoreBenchmarkRow] = {}
        for r in df.to_dict(orient="records"):
            sid = str(r["store_id"])
            row = StoreBenchmarkRow(
                store_id=sid,
                area_m2=float_or_none(r["area_m2"]),
                days=int(r["days"]),
                entries=int_or_none(r["entries"]),
                transactions=int(r["transactions"]),
                sales_fen=int(r["sales_fen"]),
                units=int(r["units"]),
                staff_hours=int(r["staff_hours"]),
                star=float_or_none(r["star"]),
            )
            for name in METRICS:
                value = float_or_none(r[name])
                target = targets.get(name)
                row.metrics[name] = MetricStanding(
                    value=value,
                    rank=int_or_none(r[f"{name}_rank"]),
                    percentile=float_or_none(r[f"{name}_percentile"]),
                    target=target,
                    vs_target=None if value is None or target is None else value - target,
                    meets_target=None if value is None or target is None else value >= target,
                )
            stores[sid] = row
        return BenchmarkResult(self.query, stores)


@dataclass(frozen=True)
class PerformanceRow:
    store_id: str
    bucket: str
    entries: int | None
    transactions: int
    sales_fen: int
    units: int
    staff_hours: int
    conversion: float | None
    atv_fen: float | None
    upt: float | None
    sales_per_visitor_fen: float | None
    sales_per_m2_fen: float | None
    star: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class MetricStanding:
    value: float | None
    rank: int | None
    percentile: float | None
    target: float | None
    vs_target: float | None
    meets_target: bool | None


@dataclass
class StoreBenchmarkRow:
    store_id: str
    area_m2: float | None
    days: int
    entries: int | None
    transactions: int
    sales_fen: int
    units: int
    staff_hours: int
    star: float | None
    metrics: dict[str, MetricStanding] = field(default_factory=dict)


@dataclass
class BenchmarkResult:
    query: BenchmarkQuery
    stores: dict[str, StoreBenchmarkRow]

    def to_dict(self) -> dict[str, Any]:
        q = self.query
        return {
            "from": q.date_from.isoformat() if q.date_from else None,
            "to": q.date_to.isoformat() if q.date_to else None,
            "targets": q.targets.model_dump(),
            "stores": {sid: asdict(s) for sid, s in self.stores.items()},
        }
