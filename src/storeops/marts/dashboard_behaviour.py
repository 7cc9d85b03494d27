"""Behaviour marts for the dashboard's funnels page: fixed default definitions,
precomputed so that the page reads a few rows instead of scanning events.

- ``mart_dashboard_funnel`` — the app's purchase funnel :data:`DEFAULT_FUNNEL`
  (Product Viewed → Product Added → Checkout Started → Order Completed, within
  7 days) over the last :data:`FUNNEL_DAYS` days of events, for everyone
  (``breakdown = "*"``) and per channel (mini-program, app, site …);
- ``mart_dashboard_retention`` — weekly cohorts by first event, returning with any
  event, for the last :data:`RETENTION_COHORTS` cohort weeks and
  :data:`RETENTION_PERIODS` weeks after.

App events belong to the chain, not to a store, so these marts have no store rows
and the page is shown to roles that see every store.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pyarrow as pa

from storeops.analytics.values import is_missing
from storeops.behaviour.funnel import FunnelInsight, FunnelQuery, FunnelStep, StepResult
from storeops.behaviour.retention import RetentionInsight, RetentionQuery
from storeops.marts.frames import write_frame_mart
from storeops.warehouse import Warehouse
from storeops.workspace import Workspace

FUNNEL_MART = "mart_dashboard_funnel"
RETENTION_MART = "mart_dashboard_retention"
DEFAULT_FUNNEL = ("Product Viewed", "Product Added", "Checkout Started", "Order Completed")
FUNNEL_DAYS = 30
RETENTION_COHORTS = 12
RETENTION_PERIODS = 8
#: ``breakdown`` of the rows that count everyone.
EVERYONE = "*"

SCHEMAS: dict[str, pa.Schema] = {
    FUNNEL_MART: pa.schema(
        [
            ("breakdown", pa.string()),
            ("step", pa.int64()),
            ("event", pa.string()),
            ("people", pa.int64()),
            ("conversion_from_start", pa.float64()),
            ("conversion_from_previous", pa.float64()),
            ("since", pa.date32()),
            ("until", pa.date32()),
        ]
    ),
    RETENTION_MART: pa.schema(
        [
            ("cohort", pa.date32()),
            ("cohort_size", pa.int64()),
            ("period", pa.int64()),
            ("retained", pa.int64()),
            ("rate", pa.float64()),
        ]
    ),
}


def _write(wh: Warehouse, name: str, frame: pd.DataFrame) -> int:
    return write_frame_mart(wh, name, frame, SCHEMAS[name])


def last_event_day(wh: Warehouse) -> date | None:
    events = wh.table("events")
    last = wh.execute(events.ts.max())
    return None if is_missing(last) else pd.Timestamp(last).date()


def funnel_rows(wh: Warehouse, last: date) -> pd.DataFrame:
    since, until = last - timedelta(days=FUNNEL_DAYS - 1), last + timedelta(days=1)
    query = FunnelQuery(
        steps=[FunnelStep(event=e) for e in DEFAULT_FUNNEL],
        since=since,
        until=until,
        breakdown="channel",
    )
    result = FunnelInsight(wh, query).calculate()
    everyone = FunnelInsight(wh, query.model_copy(update={"breakdown": None})).calculate()

    def rows(label: str, steps: list[StepResult]) -> list[dict[str, object]]:
        return [
            {
                "breakdown": label,
                "step": s.index,
                "event": s.event,
                "people": s.count,
                "conversion_from_start": s.conversion_from_start,
                "conversion_from_previous": s.conversion_from_previous,
                "since": since,
                "until": until,
            }
            for s in steps
        ]

    out = rows(EVERYONE, everyone.steps)
    for label, steps in result.breakdown.items():
        out += rows(label, steps)
    return pd.DataFrame(out)


def retention_rows(wh: Warehouse, last: date) -> pd.DataFrame:
    last_monday = last - timedelta(days=last.weekday())
    since = last_monday - timedelta(weeks=RETENTION_COHORTS - 1)
    query = RetentionQuery(period="week", periods=RETENTION_PERIODS, since=since)
    table = RetentionInsight(wh, query).calculate().table
    return table


def build_behaviour_marts(ws: Workspace, wh: Warehouse) -> int:
    """The default funnel and retention marts; empty without events."""
    last = last_event_day(wh)
    if last is None:
        return _write(wh, FUNNEL_MART, pd.DataFrame()) + _write(wh, RETENTION_MART, pd.DataFrame())
    return _write(wh, FUNNEL_MART, funnel_rows(wh, last)) + _write(
        wh, RETENTION_MART, retention_rows(wh, last)
    )
