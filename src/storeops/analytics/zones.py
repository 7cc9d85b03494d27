"""Zone analytics from Wi-Fi probe sightings: visits, dwell, heat and transitions.

The steps, all as one Ibis expression per result (window functions, no row loops):

1. **Sightings** in the window of store-local days, at or above ``min_rssi`` dBm
   (weaker ones are passers-by outside the store or noise and are ignored).
2. **Staff and always-present devices** are dropped for the whole window: a device
   seen on more than ``max_days_seen`` distinct local days, or present (first to last
   sighting) more than ``max_daily_hours`` on any one local day. Shoppers come for
   minutes, a few times a month; staff phones and tills are there all day, every day.
   With ``fixed_per_week`` the test runs per local week (Monday start) instead of over
   the whole window, so a day's result depends on its own week only (the daily mart).
3. **Visits**: the sightings of one device in one store, ordered by time, split
   wherever the gap to the previous sighting exceeds ``gap_minutes``. A gap of
   exactly ``gap_minutes`` stays within the visit.
4. **Zone stays**: per visit and zone, the dwell is the time from the first to the
   last sighting in that zone within the visit. A stay with a single sighting counts
   as 0 s (it is still a visit to the zone), so dwell reads short by about one probe
   interval; it is never invented.
5. **Transitions**: consecutive sightings of a visit in different zones, counted as
   ``from_zone -> to_zone`` (a return A -> B -> A counts A -> B and B -> A).

Heat divides a zone's visits and total dwell by its floor area (``zones.area_m2``);
a zone without an area (or with area 0) has no heat (null).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd
from pydantic import BaseModel, Field, model_validator

from storeops.errors import StoreOpsError
from storeops.warehouse import Warehouse

#: Columns of the per-zone table, in order.
ZONE_COLUMNS = (
    "store_id",
    "zone_id",
    "name",
    "area_m2",
    "visits",
    "mean_dwell_s",
    "median_dwell_s",
    "p90_dwell_s",
    "total_dwell_s",
    "visits_per_m2",
    "dwell_s_per_m2",
)


class ZoneError(StoreOpsError, LookupError):
    """There is nothing to analyse (no Wi-Fi sightings)."""


class ZoneQuery(BaseModel):
    since: date = Field(description="First local day (inclusive).")
    until: date = Field(description="Last local day (exclusive).")
    store_id: str | None = None
    gap_minutes: float = Field(default=10.0, gt=0, description="A longer gap starts a new visit.")
    min_rssi: int = Field(default=-80, le=0, description="Sightings below this (dBm) are ignored.")
    max_days_seen: int = Field(
        default=5, ge=1, description="A device seen on more local days is staff / fixed."
    )
    max_daily_hours: float = Field(
        default=4.0, gt=0, description="A device present longer on one local day is staff / fixed."
    )
    fixed_per_week: bool = Field(
        default=False,
        description="Judge staff / fixed devices per local week (Monday start) instead of "
        "over the whole window, so a day's numbers depend only on its own week.",
    )

    @model_validator(mode="after")
    def _ordered(self) -> ZoneQuery:
        if self.until <= self.since:
            raise ValueError("until must be after since")
        return self


def _seconds(later: ir.TimestampValue, earlier: ir.TimestampValue) -> ir.IntegerValue:
    return later.epoch_seconds() - earlier.epoch_seconds()


def _with_day(wh: Warehouse, s: ir.Table) -> ir.Table:
    stores = wh.table("stores").select("store_id", store_tz="timezone")
    s = s.left_join(stores, s.store_id == stores.store_id).drop("store_id_right")
    tz = s.store_tz.coalesce(ibis.literal(wh.settings.default_timezone))
    return s.mutate(day=wh.local_time(s.ts, tz).date()).drop("store_tz")


def last_sighting_day(wh: Warehouse, store_id: str | None = None) -> date:
    """The store-local day of the latest sighting (for default windows)."""
    s = wh.table("wifi_sightings")
    if store_id is not None:
        s = s.filter(s.store_id == store_id)
    last = wh.execute(_with_day(wh, s).day.max())
    if last is None or pd.isna(last):
        raise ZoneError(
            "there are no Wi-Fi sightings"
            + (f" for store {store_id}" if store_id else "")
            + ": import them (storeops import wifi_sightings FILE) first."
        )
    return pd.Timestamp(last).date()


def sightings(wh: Warehouse, q: ZoneQuery) -> ir.Table:
    """Sightings in the window at or above the RSSI threshold, with their local ``day``."""
    s = wh.table("wifi_sightings")
    if q.store_id is not None:
        s = s.filter(s.store_id == q.store_id)
    s = _with_day(wh, s.filter(s.rssi >= q.min_rssi))
    return s.filter((s.day >= q.since) & (s.day < q.until))


def _device_keys(q: ZoneQuery) -> list[str]:
    return ["store_id", "device_hash", *(["week"] if q.fixed_per_week else [])]


def fixed_devices(s: ir.Table, q: ZoneQuery) -> ir.Table:
    """``store_id, device_hash`` (and ``week`` with ``fixed_per_week``) of staff and
    always-present devices (see module doc)."""
    keys = _device_keys(q)
    if q.fixed_per_week:
        s = s.mutate(week=s.day.truncate("W"))
    daily = s.group_by(*keys, "day").aggregate(span_s=_seconds(s.ts.max(), s.ts.min()))
    per_device = daily.group_by(*keys).aggregate(
        days=daily.day.nunique(), longest_s=daily.span_s.max()
    )
    return per_device.filter(
        (per_device.days > q.max_days_seen) | (per_device.longest_s > q.max_daily_hours * 3600)
    ).select(*keys)


def visit_sightings(wh: Warehouse, q: ZoneQuery) -> ir.Table:
    """Shopper sightings with a ``visit`` number per (store, device), counted from 1."""
    s = sightings(wh, q)
    fixed = fixed_devices(s, q)
    if q.fixed_per_week:
        s = s.mutate(week=s.day.truncate("W"))
        s = s.anti_join(fixed, _device_keys(q)).drop("week")
    else:
        s = s.anti_join(fixed, _device_keys(q))
    # zone_id breaks ties between sensors that saw the device in the same second.
    w = ibis.window(group_by=[s.store_id, s.device_hash], order_by=[s.ts, s.zone_id])
    prev = s.ts.lag().over(w)
    new_visit = prev.isnull() | (_seconds(s.ts, prev) > q.gap_minutes * 60)
    s = s.mutate(_new=new_visit.cast("int64"))
    cum = ibis.cumulative_window(group_by=[s.store_id, s.device_hash], order_by=[s.ts, s.zone_id])
    return s.mutate(visit=s._new.sum().over(cum)).drop("_new")


def zone_stays(wh: Warehouse, q: ZoneQuery) -> ir.Table:
    """One row per visit and zone: ``first``, ``last``, ``sightings``, ``dwell_s`` and
    ``day`` (the local day of the stay's first sighting)."""
    v = visit_sightings(wh, q)
    stays = v.group_by("store_id", "device_hash", "visit", "zone_id").aggregate(
        first=v.ts.min(), last=v.ts.max(), sightings=v.ts.count(), day=v.day.min()
    )
    return stays.mutate(dwell_s=_seconds(stays["last"], stays["first"]))


def visits(wh: Warehouse, q: ZoneQuery) -> ir.Table:
    """One row per visit: local ``day`` of its start, ``start``, ``end``, ``duration_s``."""
    v = visit_sightings(wh, q)
    out = v.group_by("store_id", "device_hash", "visit").aggregate(
        day=v.day.min(),
        start=v.ts.min(),
        end=v.ts.max(),
        sightings=v.ts.count(),
        zones=v.zone_id.nunique(),
    )
    return out.mutate(duration_s=_seconds(out.end, out.start))


@dataclass
class ZoneResult:
    zones: pd.DataFrame  # ZONE_COLUMNS, one row per store and zone with visits
    transitions: pd.DataFrame  # store_id, from_zone, to_zone, transitions
    query: ZoneQuery

    def to_json(self) -> dict[str, Any]:
        def records(df: pd.DataFrame) -> list[dict[str, Any]]:
            return [
                {str(k): (None if pd.isna(v) else v) for k, v in row.items()}
                for row in df.astype(object).to_dict(orient="records")
            ]

        return {
            "since": self.query.since.isoformat(),
            "until": self.query.until.isoformat(),
            "store_id": self.query.store_id,
            "zones": records(self.zones),
            "transitions": records(self.transitions),
        }

    def sankey(self, store_id: str) -> dict[str, Any]:
        """Nodes and links for a sankey chart of one store's transitions."""
        t = self.transitions[self.transitions["store_id"] == store_id]
        nodes = sorted(set(t["from_zone"]) | set(t["to_zone"]))
        index = {z: i for i, z in enumerate(nodes)}
        return {
            "nodes": nodes,
            "links": [
                {"source": index[r.from_zone], "target": index[r.to_zone], "value": r.transitions}
                for r in t.itertuples()
            ],
        }


class ZoneInsight:
    """Dwell distribution, visits and heat per store and zone; zone-to-zone transitions."""

    def __init__(self, wh: Warehouse, query: ZoneQuery) -> None:
        self.wh = wh
        self.query = query

    def to_expr(self) -> ir.Table:
        return self.per_zone_expr(zone_stays(self.wh, self.query))

    def per_zone_expr(self, stays: ir.Table, *keys: str) -> ir.Table:
        """Visits, dwell and heat per store and zone (and ``keys``) from :func:`zone_stays`."""
        per_zone = stays.group_by("store_id", "zone_id", *keys).aggregate(
            visits=stays.count(),
            mean_dwell_s=stays.dwell_s.mean(),
            median_dwell_s=stays.dwell_s.quantile(0.5),
            p90_dwell_s=stays.dwell_s.quantile(0.9),
            total_dwell_s=stays.dwell_s.sum(),
        )
        zones = self.wh.table("zones").select("store_id", "zone_id", "name", "area_m2")
        j = per_zone.left_join(
            zones,
            (per_zone.store_id == zones.store_id) & (per_zone.zone_id == zones.zone_id),
        ).drop("store_id_right", "zone_id_right")
        area = ibis.ifelse(j.area_m2 > 0, j.area_m2, ibis.null("float64"))
        j = j.mutate(
            visits_per_m2=j.visits / area,
            dwell_s_per_m2=j.total_dwell_s / area,
        )
        columns = [*ZONE_COLUMNS[:2], *keys, *ZONE_COLUMNS[2:]]
        return j.select(*columns).order_by("store_id", "zone_id", *keys)

    def transitions_expr(self) -> ir.Table:
        v = visit_sightings(self.wh, self.query)
        w = ibis.window(group_by=[v.store_id, v.device_hash, v.visit], order_by=[v.ts, v.zone_id])
        v = v.mutate(from_zone=v.zone_id.lag().over(w))
        moves = v.filter(v.from_zone.notnull() & (v.from_zone != v.zone_id))
        return (
            moves.group_by("store_id", "from_zone", to_zone=moves.zone_id)
            .aggregate(transitions=moves.count())
            .order_by("store_id", "from_zone", "to_zone")
        )

    def calculate(self) -> ZoneResult:
        zones = self.wh.to_pandas(self.to_expr())
        for col in ("visits", "total_dwell_s"):
            zones[col] = zones[col].astype(int)
        for col in ZONE_COLUMNS[4:]:
            if col not in ("visits", "total_dwell_s"):
                zones[col] = zones[col].astype(float)
        transitions = self.wh.to_pandas(self.transitions_expr())
        transitions["transitions"] = transitions["transitions"].astype(int)
        return ZoneResult(zones.reset_index(drop=True), transitions, self.query)
