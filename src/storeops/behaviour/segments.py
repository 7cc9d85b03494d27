"""Saved person lists (segments) as marts: ``mart_segment_<name>``.

The tag mechanism (``mart_customer_tags``) is rule-based and recomputed on every
apply, so it cannot hold a fixed list such as "who stopped after adding to cart
last week". A saved segment is a snapshot instead: one mart per segment, replaced
whole when saved again under the same name, with columns

``segment, person_id, customer_id, anonymous_id, saved_at, definition``

where ``customer_id`` is set for resolved customers and ``anonymous_id`` for
devices never linked to one (person ids ``anon:<id>``), and ``definition`` is the
query that produced the list as JSON, so the segment can be recomputed.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import ibis.expr.types as ir
import pyarrow as pa

from storeops.behaviour.events import ANON_PREFIX, BehaviourError
from storeops.warehouse import Warehouse

SEGMENT_PREFIX = "mart_segment_"
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


def segment_mart(name: str) -> str:
    if not _NAME.match(name):
        raise BehaviourError(
            "segment.bad_name",
            f"segment name {name!r} must start with a letter and use only a-z, 0-9 and _ "
            "(at most 63 characters), e.g. cart_abandoners_w12",
        )
    return SEGMENT_PREFIX + name


def save_segment(wh: Warehouse, name: str, persons: ir.Table, definition: dict[str, Any]) -> int:
    """Write the ``person_id`` column of ``persons`` as segment ``name``; returns its size."""
    mart = segment_mart(name)
    ids = wh.to_pyarrow(persons.select("person_id").distinct().order_by("person_id"))
    person = [str(x) for x in ids.column("person_id").to_pylist()]
    anon = [p.removeprefix(ANON_PREFIX) if p.startswith(ANON_PREFIX) else None for p in person]
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    n = len(person)
    table = pa.table(
        {
            "segment": pa.array([name] * n, pa.string()),
            "person_id": pa.array(person, pa.string()),
            "customer_id": pa.array(
                [None if a is not None else p for p, a in zip(person, anon, strict=True)],
                pa.string(),
            ),
            "anonymous_id": pa.array(anon, pa.string()),
            "saved_at": pa.array([now] * n, pa.timestamp("us")),
            "definition": pa.array(
                [json.dumps(definition, default=str, ensure_ascii=False)] * n, pa.string()
            ),
        }
    )
    wh.write_mart(mart, table)
    return n


def load_segment(wh: Warehouse, name: str) -> ir.Table:
    return wh.mart(segment_mart(name))


def segment_names(wh: Warehouse) -> list[str]:
    return sorted(
        t.removeprefix(SEGMENT_PREFIX) for t in wh.con.list_tables() if t.startswith(SEGMENT_PREFIX)
    )


__all__ = ["SEGMENT_PREFIX", "load_segment", "save_segment", "segment_mart", "segment_names"]
