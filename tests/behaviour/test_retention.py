"""Retention: exact cohorts on tiny sets, and a brute-force reference (hypothesis)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.analytics.builders import add_rows, order
from tests.behaviour import reference
from tests.behaviour.builders import T0, add_events, ev, events_table

from storeops.behaviour.events import BehaviourError
from storeops.behaviour.retention import RetentionInsight, RetentionQuery
from storeops.warehouse import Warehouse

DAY = 86_400
SHANGHAI = ZoneInfo("Asia/Shanghai")


def table(wh: Warehouse, **kw: Any) -> dict[str, Any]:
    return RetentionInsight(wh, RetentionQuery(**kw)).calculate().to_dict()


def test_weekly_bounded_and_unbounded(warehouse: Warehouse) -> None:
    # T0 is Monday 2026-03-02 10:00 local.
    add_events(
        warehouse,
        [
            ev("App Opened", anon="a", at=0),
            ev("App Opened", anon="a", at=14 * DAY),  # week 2
            ev("App Opened", anon="b", at=DAY),
            ev("App Opened", anon="b", at=8 * DAY),  # week 1
            ev("App Opened", anon="c", at=7 * DAY),  # next cohort
            ev("App Opened", anon="c", at=7 * DAY + 3600),
            # 23:30 local on Sunday 03-08 is still week 0 (UTC says the same day 15:30).
            ev("App Opened", anon="d", at=6 * DAY + 13.5 * 3600),
        ],
    )
    out = table(warehouse, period="week", periods=3, count_by="anonymous_id")
    cohorts = {c["cohort"]: c for c in out["cohorts"]}
    assert cohorts["2026-03-02"]["size"] == 3
    assert cohorts["2026-03-02"]["retained"] == [3, 1, 1]  # last activity is in week 2
    assert cohorts["2026-03-09"]["retained"] == [1, 0]
    out = table(warehouse, period="week", periods=3, count_by="anonymous_id", bounded=False)
    cohorts = {c["cohort"]: c for c in out["cohorts"]}
    assert cohorts["2026-03-02"]["retained"] == [3, 2, 1]
    assert cohorts["2026-03-02"]["rates"][1] == pytest.approx(2 / 3)


def test_purchase_cohorts_and_revenue(warehouse: Warehouse) -> None:
    add_rows(
        warehouse,
        "stores",
        [{"store_id": "S1", "name": "One", "timezone": "Asia/Shanghai", "city": "Shanghai"}],
    )
    add_rows(
        warehouse,
        "orders",
        [
            order("o1", "C1", "2026-01-05 02:00", 10_000),
            order("o2", "C1", "2026-02-10 02:00", 5_000),
            order("o3", "C2", "2026-01-20 02:00", 30_000),
            order("o4", "C2", "2026-03-01 02:00", 60_000),
            order("o5", "C3", "2026-02-02 02:00", 1_000),
        ],
    )
    out = table(warehouse, period="month", periods=2, cohort_by="purchase", return_by="purchase")
    jan = next(c for c in out["cohorts"] if c["cohort"] == "2026-01-01")
    assert jan["size"] == 2 and jan["retained"] == [2, 1, 1]
    assert jan["revenue_fen"] == [40_000, 5_000, 60_000]
    assert jan["revenue_rates"] == [1.0, 0.125, 1.5]
    feb = next(c for c in out["cohorts"] if c["cohort"] == "2026-02-01")
    assert feb["retained"] == [1, 0]


def test_purchases_need_customers(warehouse: Warehouse) -> None:
    with pytest.raises(BehaviourError) as err:
        RetentionInsight(warehouse, RetentionQuery(return_by="purchase", count_by="anonymous_id"))
    assert err.value.code == "retention.purchases_need_customers"


@st.composite
def retention_cases(
    draw: st.DrawFn, max_people: int
) -> tuple[list[dict[str, Any]], RetentionQuery]:
    rows = []
    for p in range(draw(st.integers(1, max_people))):
        for _ in range(draw(st.integers(0, 6))):
            rows.append(
                ev(
                    draw(st.sampled_from(["A", "B"])),
                    anon=f"p{p}",
                    at=draw(st.integers(0, 75 * 24)) * 3600,
                )
            )
    query = RetentionQuery(
        period=draw(st.sampled_from(["day", "week", "month"])),
        periods=draw(st.integers(1, 10)),
        cohort_event=draw(st.sampled_from([None, "A"])),
        return_event=draw(st.sampled_from([None, "B"])),
        bounded=draw(st.booleans()),
        count_by="anonymous_id",
    )
    return rows, query


def check_retention(wh: Warehouse, rows: list[dict[str, Any]], query: RetentionQuery) -> None:
    def local(r: dict[str, Any]) -> date:
        return r["ts"].replace(tzinfo=ZoneInfo("UTC")).astimezone(SHANGHAI).date()

    cohort_from = [
        (r["anonymous_id"], local(r)) for r in rows if query.cohort_event in (None, r["event"])
    ]
    activity = [
        (r["anonymous_id"], local(r)) for r in rows if query.return_event in (None, r["event"])
    ]
    expected = reference.retention(
        activity, cohort_from, query.period, query.periods, query.bounded
    )
    if not rows:
        return
    staged = wh.stage(events_table(rows))
    result = RetentionInsight(wh, query, events=staged).calculate()
    got = {
        (r["cohort"], int(r["period"])): int(r["retained"]) for r in result.table.to_dict("records")
    }
    assert got == expected, query.model_dump()


SUPPRESS = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large]


@settings(max_examples=300, deadline=None, suppress_health_check=SUPPRESS)
@given(case=retention_cases(max_people=10))
def test_retention_equals_reference_duckdb(duck: Warehouse, case: Any) -> None:
    check_retention(duck, *case)


@pytest.mark.spark
@pytest.mark.slow
@settings(max_examples=10, deadline=None, suppress_health_check=SUPPRESS)
@given(case=retention_cases(max_people=60))
def test_retention_equals_reference_spark(spark_wh: Warehouse, case: Any) -> None:
    check_retention(spark_wh, *case)


def test_t0_is_a_monday() -> None:
    assert (T0 + timedelta(hours=8)).weekday() == 0
