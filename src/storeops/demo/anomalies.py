"""Planted anomalies: known store-days in the last weeks of the demo that alert rules
must find (and every other day of those weeks must not alert).

- **counter outage** (客流计数器故障): the people counters of one store read nothing
  from 11:00 to closing on one day. Visitors still come and buy — only the count is
  lost — so entries fall to the first hour's and conversion (transactions / entries)
  jumps as an artefact;
- **conversion collapse** (成交转化率骤降): on another store-day only 5 % of the
  store's sales go through (payments down most of the day). Entries are normal;
  conversion and sales fall.

The days count back from the demo's end date (moved further back to an ordinary day
if they fall on a festival or promotion day). The collapse is planted on the store
with the most expected transactions a day (with a handful of sales a day, a store's
daily conversion is mostly chance); the outage on the store with the most entries
among the others (the same store when there is only one). Each is recorded in the
truth (``anomalies``) with the KPIs it moves and the realised counts of its store-day,
so tests check alerts against it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from storeops.demo._util import rng_for
from storeops.demo.calendar import Calendar
from storeops.demo.config import DemoConfig
from storeops.demo.orders import Sales
from storeops.demo.stores import StoreProfile

COUNTER_OUTAGE = "counter_outage"
CONVERSION_COLLAPSE = "conversion_collapse"
#: Days before the end date.
COUNTER_OUTAGE_BEFORE_END = 12
CONVERSION_COLLAPSE_BEFORE_END = 4
OUTAGE_FROM_HOUR = 11
COLLAPSE_FACTOR = 0.05


@dataclass(frozen=True)
class PlantedAnomaly:
    kind: str
    store_index: int
    day_index: int
    day: date
    #: counter outage: the local hour from which counters read nothing.
    from_hour: int | None = None
    #: conversion collapse: the share of the store-day's sales kept.
    factor: float | None = None

    @property
    def moves(self) -> dict[str, str]:
        """The KPIs this anomaly moves, and which way."""
        if self.kind == COUNTER_OUTAGE:
            return {"entries": "down", "conversion": "up"}
        return {"conversion": "down", "sales": "down"}


def _ordinary_day(cal: Calendar, index: int) -> int | None:
    while index >= 0 and (cal.festival[index] >= 0 or cal.promo[index]):
        index -= 1
    return index if index >= 0 else None


def planted_anomalies(
    cfg: DemoConfig, cal: Calendar, stores: list[StoreProfile]
) -> list[PlantedAnomaly]:
    busiest = max(
        range(len(stores)), key=lambda i: stores[i].entries_per_day * stores[i].conversion_rate
    )
    others = [i for i in range(len(stores)) if i != busiest] or [busiest]
    counted = max(others, key=lambda i: stores[i].entries_per_day)  # fmt: skip
    planted = []
    for kind, before_end, store in (
        (COUNTER_OUTAGE, COUNTER_OUTAGE_BEFORE_END, counted),
        (CONVERSION_COLLAPSE, CONVERSION_COLLAPSE_BEFORE_END, busiest),
    ):
        index = _ordinary_day(cal, cfg.days - 1 - before_end)
        if index is None:
            continue
        planted.append(
            PlantedAnomaly(
                kind=kind,
                store_index=store,
                day_index=index,
                day=cal.dates[index],
                from_hour=OUTAGE_FROM_HOUR if kind == COUNTER_OUTAGE else None,
                factor=COLLAPSE_FACTOR if kind == CONVERSION_COLLAPSE else None,
            )
        )
    return planted


def silence_counters(
    arrays: tuple[np.ndarray, ...], outages: list[PlantedAnomaly], store_index: int,
    open_hour: int,
) -> None:  # fmt: skip
    """Zero the (days, entrances, minutes) counter arrays where an outage of this
    store says so, in place."""
    for a in outages:
        if a.kind != COUNTER_OUTAGE or a.store_index != store_index or a.from_hour is None:
            continue
        start = max(0, (a.from_hour - open_hour) * 60)
        for arr in arrays:
            arr[a.day_index, :, start:] = 0


def collapse_conversion(cfg: DemoConfig, sales: Sales, planted: list[PlantedAnomaly]) -> Sales:
    """Keep only ``factor`` of the store sales on each collapsed store-day.

    Applied after the sales are simulated, with its own random stream, so everything
    else in the demo (spend, baskets, refunds, other days) is exactly what it would be
    without the anomaly. The few members' orders dropped are not taken out of the
    customer truth (their BG/NBD draws): a handful of purchases among tens of thousands.
    """
    rng = rng_for(cfg.seed, 97)
    keep = np.ones(len(sales.channel), dtype=bool)
    for a in planted:
        if a.kind != CONVERSION_COLLAPSE or a.factor is None:
            continue
        hit = (sales.channel == 0) & (sales.store == a.store_index) & (sales.day == a.day_index)
        idx = np.flatnonzero(hit)
        keep[idx] = rng.random(len(idx)) < a.factor
    if keep.all():
        return sales
    new_index = np.cumsum(keep) - 1
    line_keep = keep[sales.line_order]
    orders = sales.orders.filter(pa.array(keep))
    refunds = sales.refunds.filter(
        pc.is_in(sales.refunds["order_id"], value_set=orders["order_id"])
    )
    return replace(
        sales,
        orders=orders,
        lines=sales.lines.filter(pa.array(line_keep)),
        refunds=refunds,
        channel=sales.channel[keep],
        store=sales.store[keep],
        customer=sales.customer[keep],
        day=sales.day[keep],
        total_fen=sales.total_fen[keep],
        status=sales.status[keep],
        promo=sales.promo[keep],
        line_order=new_index[sales.line_order[line_keep]],
        line_sku=sales.line_sku[line_keep],
        line_qty=sales.line_qty[line_keep],
    )


def truth_records(
    planted: list[PlantedAnomaly],
    store_ids: list[str],
    counted_entries: np.ndarray,
    transactions: np.ndarray,
) -> list[dict[str, Any]]:
    """What the truth file says about each anomaly; ``counted_entries`` and
    ``transactions`` are (stores, days) as the data has them."""
    records = []
    for a in planted:
        s, d = a.store_index, a.day_index
        same_weekday = [d - 7 * k for k in range(1, 9) if d - 7 * k >= 0]
        records.append(
            {
                "kind": a.kind,
                "store_id": store_ids[s],
                "day": a.day.isoformat(),
                "from_hour": a.from_hour,
                "conversion_factor": a.factor,
                "moves": a.moves,
                "realised": {
                    "entries": int(counted_entries[s, d]),
                    "transactions": int(transactions[s, d]),
                    "entries_same_weekday_median": float(
                        np.median(counted_entries[s, same_weekday])
                    )
                    if same_weekday
                    else None,
                    "transactions_same_weekday_median": float(
                        np.median(transactions[s, same_weekday])
                    )
                    if same_weekday
                    else None,
                },
            }
        )
    return records
