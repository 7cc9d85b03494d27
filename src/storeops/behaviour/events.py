"""The base relation of behaviour analytics: track events with a person and an order.

Every insight in this package starts from :func:`person_events`, which returns one
row per ``track`` event with

- ``person_id`` — who did it, by the chosen :data:`CountBy`:

  * ``customer``: the Segment ``userId`` if the event has one, else the user that
    the event's ``anonymousId`` is linked to (the ``userId`` on the earliest event
    that carries both ids), mapped through identity resolution
    (``mart_customer_map``) so merged records count as one customer. Devices never
    linked to a user count as their own person ``anon:<anonymousId>`` unless
    ``include_anonymous=False`` drops them;
  * ``anonymous_id``: the device or cookie id; events without one are left out;

- ``ts`` and ``seq`` — the event order. Events are ordered by ``(ts, seq,
  source_id, message_id)``; ``seq`` is the query's sequence column (``message_id``
  unless the events carry a better one), so events with equal timestamps still have
  one deterministic order.

Event properties are JSON text (see the warehouse data contracts). Paths such as
``properties.category`` or ``context.campaign.name`` are read with the engine's own
JSON function, chosen from :data:`JSON_TEXT` by backend name — Ibis's portable JSON
accessor runs a Python UDF on Spark, which is slow and needs pandas on the workers.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from typing import Literal
from zoneinfo import ZoneInfo

import ibis
import ibis.expr.types as ir

from storeops.analytics.purchases import apply_customer_map
from storeops.errors import StoreOpsError
from storeops.warehouse import Warehouse

CountBy = Literal["customer", "anonymous_id"]
ANON_PREFIX = "anon:"
#: Columns of the ``events`` table that a path may name directly.
EVENT_COLUMNS = ("source_id", "message_id", "type", "event", "user_id", "anonymous_id")
_PATH = re.compile(r"^(properties|context)(\.[A-Za-z0-9_]+)+$")


class BehaviourError(StoreOpsError, ValueError):
    """A behaviour query is invalid; ``code`` is stable for programs and tests."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@ibis.udf.scalar.builtin(name="json_extract_string")
def _duckdb_json_text(doc: str, path: str) -> str:  # type: ignore[empty-body]
    """DuckDB: the value at ``path`` as text (scalars unquoted), NULL when missing."""


@ibis.udf.scalar.builtin(name="get_json_object")
def _spark_json_text(doc: str, path: str) -> str:  # type: ignore[empty-body]
    """Spark: the value at ``path`` as text (scalars unquoted), NULL when missing."""


JSON_TEXT: dict[str, Callable[[ir.StringValue, str], ir.StringValue]] = {
    "duckdb": lambda doc, path: _duckdb_json_text(doc, path),
    "spark": lambda doc, path: _spark_json_text(doc, path),
}

#: Named breakdowns (``--by store``) and the property path(s) behind each, first
#: non-NULL wins. Any other ``properties.*`` / ``context.*`` path or event column
#: may be given as is.
BREAKDOWNS: dict[str, tuple[str, ...]] = {
    "store": ("properties.store_id", "context.store_id"),
    "channel": ("context.channel", "properties.channel"),
    "source": ("source_id",),
    "campaign": ("context.campaign.name", "properties.campaign"),
    "utm_source": ("context.campaign.source",),
}


def check_path(path: str) -> None:
    if path in EVENT_COLUMNS or _PATH.match(path):
        return
    raise BehaviourError(
        "behaviour.bad_property_path",
        f"unknown property path {path!r}: use an event column ({', '.join(EVENT_COLUMNS)}), "
        "properties.KEY or context.KEY.SUBKEY (letters, digits and _), "
        f"or one of the named breakdowns {', '.join(BREAKDOWNS)}",
    )


def property_value(wh: Warehouse, t: ir.Table, path: str) -> ir.StringValue:
    """The text value at ``path`` (an event column or a JSON path) of each row."""
    check_path(path)
    if path in EVENT_COLUMNS:
        return t[path].cast("string")
    column, _, rest = path.partition(".")
    reader = JSON_TEXT.get(wh.name)
    if reader is None:
        raise BehaviourError(
            "behaviour.backend_json",
            f"reading JSON properties is not implemented for the {wh.name} backend",
        )
    return reader(t[column], "$." + rest)


def breakdown_value(wh: Warehouse, t: ir.Table, by: str) -> ir.StringValue:
    paths = BREAKDOWNS.get(by, (by,))
    values = [property_value(wh, t, p) for p in paths]
    return values[0] if len(values) == 1 else ibis.coalesce(*values)


#: Range of local days a query may name (a day near year 1 or 9999 has no UTC start).
EARLIEST_DAY, LATEST_DAY = date(1900, 1, 1), date(2200, 12, 31)


def day_bounds_utc(day: date, timezone: str) -> datetime:
    """UTC-naive start of local ``day`` in ``timezone`` (events are stored UTC-naive)."""
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise BehaviourError(
            "behaviour.bad_date",
            f"{day} is outside the dates storeops analyses ({EARLIEST_DAY} … {LATEST_DAY})",
        )
    local = datetime.combine(day, time(0), tzinfo=ZoneInfo(timezone))
    return local.astimezone(UTC).replace(tzinfo=None)


def _linked_users(ev: ir.Table) -> ir.Table:
    """anonymous_id → the userId on the earliest event that carries both."""
    both = ev.filter(ev.anonymous_id.notnull() & ev.user_id.notnull())
    w = ibis.window(group_by=both.anonymous_id, order_by=[both.ts, both.message_id, both.user_id])
    ranked = both.mutate(_r=ibis.row_number().over(w))
    return ranked.filter(ranked._r == 0).select(_anon="anonymous_id", _linked="user_id")


def person_events(
    wh: Warehouse,
    *,
    count_by: CountBy = "customer",
    include_anonymous: bool = True,
    since: datetime | None = None,
    until: datetime | None = None,
    events: ir.Table | None = None,
    seq: str = "message_id",
) -> ir.Table:
    """Track events with ``person_id``, ``ts``, ``seq`` (see the module docstring).

    ``since`` / ``until`` are UTC-naive bounds on ``ts`` (inclusive / exclusive);
    ``events`` replaces the warehouse's ``events`` table (same columns), which
    tests and benchmarks use to run on staged data.
    """
    ev = events if events is not None else wh.table("events")
    if seq not in ev.columns:
        raise BehaviourError(
            "behaviour.unknown_sequence_column",
            f"the events have no column {seq!r} to order same-time events by; "
            f"use one of {', '.join(ev.columns)}",
        )
    ev = ev.filter((ev.type == "track") & ev.event.notnull())
    if since is not None:
        ev = ev.filter(ev.ts >= since)
    if until is not None:
        ev = ev.filter(ev.ts < until)
    ev = ev.mutate(seq=ev[seq].cast("string"))
    if count_by == "anonymous_id":
        ev = ev.filter(ev.anonymous_id.notnull())
        return ev.mutate(person_id=ev.anonymous_id)
    # Links come from all history, not just the range: a device identified last
    # month is still that customer's device today.
    all_ev = events if events is not None else wh.table("events")
    links = _linked_users(all_ev)
    j = ev.left_join(links, ev.anonymous_id == links._anon)
    j = j.mutate(_user=j.user_id.coalesce(j._linked)).drop("_anon", "_linked")
    j = apply_customer_map(wh, j, "_user")
    if not include_anonymous:
        j = j.filter(j._user.notnull())
    j = j.filter(j._user.notnull() | j.anonymous_id.notnull())
    person = j._user.coalesce(ibis.literal(ANON_PREFIX) + j.anonymous_id)
    return j.mutate(person_id=person).drop("_user")
