"""The numbers of a report against an independent computation: plain DuckDB SQL over
the canonical tables (orders, traffic counts), not the analytics code."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pytest
from tests.reports.conftest import DAY, WEEK_DAY

from storeops.reports import ReportRequest, assemble_report
from storeops.reports.periods import period_for
from storeops.workspace import Workspace

SALES = """
select coalesce(sum(total_fen), 0), count(*) from orders
where store_id = ? and channel = 'store' and status in ('completed', 'partially_refunded')
  and cast(ts + interval 8 hour as date) between ? and ?
"""
ENTRIES = """
select coalesce(sum(ins), 0) from traffic_counts
where store_id = ? and cast(interval_start + interval 8 hour as date) between ? and ?
"""


def sql(ws: Workspace, query: str, *args: object) -> tuple[int, ...]:
    con = duckdb.connect(str(ws.root / "warehouse.duckdb"), read_only=True)
    try:
        row = con.execute(query, list(args)).fetchone()
    finally:
        con.close()
    assert row is not None
    return tuple(int(v) for v in row)


@pytest.mark.parametrize("store", ["S001", "S002"])
def test_a_days_sales_and_entries_equal_sql_over_orders(demo: Workspace, store: str) -> None:
    with demo.warehouse() as wh:
        data = assemble_report(demo, wh, ReportRequest(kind="daily", store_id=store, day=DAY))
    sales, orders = sql(demo, SALES, store, DAY, DAY)
    (entries,) = sql(demo, ENTRIES, store, DAY, DAY)
    assert sales > 0 and orders > 0 and entries > 0
    kpis = {k.kpi: k for k in data.kpis}
    assert kpis["sales"].value == sales
    assert kpis["entries"].value == entries
    assert kpis["conversion"].value == pytest.approx(orders / entries)
    assert kpis["atv"].value == pytest.approx(sales / orders)
    (day,) = data.daily
    assert (day.day, day.sales_fen, day.transactions, day.entries) == (DAY, sales, orders, entries)
    assert sum(h.sales_fen for h in data.hourly) == sales
    assert sum(h.entries for h in data.hourly) == entries
    before = DAY - timedelta(days=1)
    assert kpis["sales"].previous == sql(demo, SALES, store, before, before)[0]
    assert kpis["sales"].last_year is None  # the demo starts in September 2026


def test_weekly_chain_totals_and_ranking_equal_sql(demo: Workspace) -> None:
    week = period_for("weekly", WEEK_DAY).current
    with demo.warehouse() as wh:
        data = assemble_report(demo, wh, ReportRequest(kind="weekly", day=WEEK_DAY))
    per_store = {s: sql(demo, SALES, s, week.start, week.end)[0] for s in ("S001", "S002")}
    kpis = {k.kpi: k for k in data.kpis}
    assert kpis["sales"].value == sum(per_store.values())
    assert [d.day for d in data.daily] == week.each_day()
    assert sum(d.sales_fen for d in data.daily) == sum(per_store.values())
    assert [r.store_id for r in data.ranking] == sorted(per_store, key=lambda s: -per_store[s])
    assert {r.store_id: r.values["sales"] for r in data.ranking} == per_store
    assert data.period.current.start == date(2026, 10, 19)
