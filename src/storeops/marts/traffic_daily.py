"""Daily traffic, store-performance and zone marts for the dashboard.

Per store (and zone) and local business day, computed by the traffic analytics and
stored with :meth:`Warehouse.write_mart`; nothing here defines a metric again:

- ``mart_traffic_daily`` — :class:`~storeops.analytics.traffic.TrafficInsight`: entries,
  exits, passers-by and capture rate per day; the day's peak local hour (the earliest
  of tied hours) with its entries; the day's highest occupancy;
- ``mart_store_performance_daily`` — :class:`~storeops.analytics.performance.
  StorePerformance` by day: entries, transactions, sales_fen, units, staff-hours,
  conversion, ATV, UPT, sales per visitor and per m², STAR;
- ``mart_zone_daily`` — :class:`~storeops.analytics.zones.ZoneInsight` per day: visits,
  dwell (mean, median, p90, total) and heat per zone, with staff and always-present
  devices judged per local week (Monday start), so a day's numbers depend only on
  its own week, never on the range rebuilt.

**Idempotent per range.** ``build_*(wh, date_from, date_to)`` recomputes the local
days ``date_from`` … ``date_to`` (both inclusive; an open end means all days that
way) and replaces exactly those days: rows of other days are kept, rows of these days
are dropped first, so rebuilding a range twice gives the same mart. A mart stored
with other columns (an older storeops) is rebuilt over all days.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from storeops.analytics.performance import PerformanceQuery, StorePerformance
from storeops.analytics.traffic import TrafficInsight, TrafficQuery
from storeops.analytics.values import is_missing
from storeops.analytics.zones import ZoneInsight, ZoneQuery, zone_stays
from storeops.analytics.zones import sightings as zone_sightings
from storeops.warehouse import Warehouse

TRAFFIC_MART = "mart_traffic_daily"
PERFORMANCE_MART = "mart_store_performance_daily"
ZONE_MART = "mart_zone_daily"

_I, _F, _S, _D = "int64", "float64", "string", "date"

#: The columns of each mart, in order, with their types.
SCHEMAS: dict[str, ibis.Schema] = {
    TRAFFIC_MART: ibis.schema(
        {
            "store_id": _S,
            "day": _D,
            "entries": _I,
            "exits": _I,
            "passers_by": _I,
            "capture_rate": _F,
            "peak_hour": _I,
            "peak_hour_entries": _I,
            "max_occupancy": _I,
        }
    ),
    PERFORMANCE_MART: ibis.schema(
        {
            "store_id": _S,
            "day": _D,
            "entries": _I,
            "transactions": _I,
            "sales_fen": _I,
            "units": _I,
            "staff_hours": _I,
            "conversion": _F,
            "atv_fen": _F,
            "upt": _F,
            "sales_per_visitor_fen": _F,
            "sales_per_m2_fen": _F,
            "star": _F,
        }
    ),
    ZONE_MART: ibis.schema(
        {
            "store_id": _S,
            "zone_id": _S,
            "day": _D,
            "name": _S,
            "area_m2": _F,
            "visits": _I,
            "mean_dwell_s": _F,
            "median_dwell_s": _F,
            "p90_dwell_s": _F,
            "total_dwell_s": _I,
            "visits_per_m2": _F,
            "dwell_s_per_m2": _F,
        }
    ),
}


@dataclass(frozen=True)
class MartBuild:
    """What one build wrote: the mart, the local days replaced and the rows in them."""

    mart: str
    date_from: date | None
    date_to: date | None
    rows: int

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("date_from", "date_to"):
            out[key] = out[key].isoformat() if out[key] else None
        return out


def traffic_daily_expr(
    wh: Warehouse, date_from: date | None = None, date_to: date | None = None
) -> ir.Table:
    """``mart_traffic_daily`` rows for the local days in range."""
    query = TrafficQuery(date_from=date_from, date_to=date_to, by="day")
    days = TrafficInsight(wh, query).store_buckets_expr()
    hourly = TrafficInsight(wh, query.model_copy(update={"by": "hour"})).store_buckets_expr()
    hourly = hourly.mutate(p_day=hourly.bucket.date(), p_hour=hourly.bucket.hour())
    w = ibis.window(
        group_by=[hourly.store_id, hourly.p_day],
        order_by=[ibis.desc(hourly.entries), hourly.p_hour],
    )
    peak = hourly.mutate(rn=ibis.row_number().over(w))
    peak = peak.filter(peak.rn == 0).select(
        p_id=peak.store_id, p_day=peak.p_day, peak_hour=peak.p_hour, peak_entries=peak.entries
    )
    occ = TrafficInsight(wh, query).occupancy_expr()
    occ = occ.group_by(o_id=occ.store_id, o_day=occ.day).aggregate(max_occ=occ.occupancy.max())
    days = days.mutate(day=days.bucket.date())
    t = days.left_join(peak, [days.store_id == peak.p_id, days.day == peak.p_day])
    t = t.left_join(occ, [t.store_id == occ.o_id, t.day == occ.o_day])
    return _shaped(
        TRAFFIC_MART,
        t.mutate(peak_hour=t.peak_hour, peak_hour_entries=t.peak_entries, max_occupancy=t.max_occ),
    )


def store_performance_daily_expr(
    wh: Warehouse, date_from: date | None = None, date_to: date | None = None
) -> ir.Table:
    """``mart_store_performance_daily`` rows for the local days in range."""
    query = PerformanceQuery(date_from=date_from, date_to=date_to, by="day")
    t = StorePerformance(wh, query).to_expr()
    return _shaped(PERFORMANCE_MART, t.mutate(day=t.bucket.date()))


def zone_daily_expr(wh: Warehouse, date_from: date, date_to: date) -> ir.Table:
    """``mart_zone_daily`` rows for the local days in range (both ends needed)."""
    # Sessionize over whole local weeks: staff are judged per week (see module doc).
    since = date_from - timedelta(days=date_from.weekday())
    until = date_to + timedelta(days=7 - date_to.weekday())
    query = ZoneQuery(since=since, until=until, fixed_per_week=True)
    stays = zone_stays(wh, query)
    stays = stays.filter((stays.day >= date_from) & (stays.day <= date_to))
    return _shaped(ZONE_MART, ZoneInsight(wh, query).per_zone_expr(stays, "day"))


def _shaped(mart: str, t: ir.Table) -> ir.Table:
    schema = SCHEMAS[mart]
    return t.select(*[t[name].cast(dtype).name(name) for name, dtype in schema.items()])


def _stale(wh: Warehouse, mart: str) -> bool:
    """True when ``mart`` is stored with other columns than :data:`SCHEMAS` gives."""
    return mart in wh.con.list_tables() and wh.mart(mart).schema() != SCHEMAS[mart]


def _replace_days(
    wh: Warehouse, mart: str, new: ir.Table, date_from: date | None, date_to: date | None
) -> MartBuild:
    """Write ``new`` as the days in range of ``mart``, keeping its other days."""
    schema = SCHEMAS[mart]
    arrow_schema = schema.to_pyarrow()
    fresh = wh.to_pyarrow(new).select(list(schema.names)).cast(arrow_schema)
    parts = [fresh]
    if mart in wh.con.list_tables() and (date_from is not None or date_to is not None):
        old = wh.mart(mart)
        inside = ibis.literal(True)
        if date_from is not None:
            inside &= old.day >= date_from
        if date_to is not None:
            inside &= old.day <= date_to
        kept = wh.to_pyarrow(old.filter(~inside))
        parts.insert(0, kept.select(list(schema.names)).cast(arrow_schema))
    keys = [(name, "ascending") for name in schema.names if name in ("store_id", "zone_id", "day")]
    wh.write_mart(mart, pa.concat_tables(parts).sort_by(keys))
    return MartBuild(mart, date_from, date_to, fresh.num_rows)


def _build(
    wh: Warehouse,
    mart: str,
    make: Callable[[Warehouse, date | None, date | None], ir.Table],
    date_from: date | None,
    date_to: date | None,
) -> MartBuild:
    if _stale(wh, mart):
        date_from = date_to = None
    return _replace_days(wh, mart, make(wh, date_from, date_to), date_from, date_to)


def build_traffic_daily(
    wh: Warehouse, date_from: date | None = None, date_to: date | None = None
) -> MartBuild:
    """Recompute ``mart_traffic_daily`` for the local days in range."""
    return _build(wh, TRAFFIC_MART, traffic_daily_expr, date_from, date_to)


def build_store_performance_daily(
    wh: Warehouse, date_from: date | None = None, date_to: date | None = None
) -> MartBuild:
    """Recompute ``mart_store_performance_daily`` for the local days in range."""
    return _build(wh, PERFORMANCE_MART, store_performance_daily_expr, date_from, date_to)


def build_zone_daily(
    wh: Warehouse, date_from: date | None = None, date_to: date | None = None
) -> MartBuild:
    """Recompute ``mart_zone_daily`` for the local days in range (open ends: all days)."""
    if _stale(wh, ZONE_MART):
        date_from = date_to = None
    start, end = date_from, date_to
    if start is None or end is None:
        s = zone_sightings(wh, ZoneQuery(since=date(1900, 1, 1), until=date(2200, 1, 1)))
        first, last = wh.execute(s.aggregate(first=s.day.min(), last=s.day.max())).iloc[0]
        if not is_missing(first):
            start = start or _as_date(first)
            end = end or _as_date(last)
    if start is None or end is None or start > end:  # no sightings in range
        empty = pa.Table.from_pylist([], schema=SCHEMAS[ZONE_MART].to_pyarrow())
        return _replace_days(wh, ZONE_MART, wh.stage(empty), date_from, date_to)
    return _replace_days(wh, ZONE_MART, zone_daily_expr(wh, start, end), date_from, date_to)


def _as_date(value: Any) -> date:
    return date.fromisoformat(str(value)[:10])


def build_daily_marts(
    wh: Warehouse, date_from: date | None = None, date_to: date | None = None
) -> list[MartBuild]:
    """All three daily marts for the local days in range."""
    return [
        build_traffic_daily(wh, date_from, date_to),
        build_store_performance_daily(wh, date_from, date_to),
        build_zone_daily(wh, date_from, date_to),
    ]
