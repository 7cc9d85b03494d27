"""``mart_kpi_daily`` and its roll-ups against independent computations on the raw
rows of a small random merchant (tests/kpi/shop.py): DuckDB SQL written by hand,
pandas by hand, and the analytics the catalog reuses (StoreSummary)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from tests.kpi import shop

from storeops.analytics.store_summary import StoreSummary, StoreSummaryQuery
from storeops.kpi import KPI_MART, KPIS, KpiError, build_kpi_mart, kpi_total, kpi_values
from storeops.marts.kpi_daily import kpi_daily_frame
from storeops.warehouse import Warehouse
from storeops.workspace import Workspace, init_workspace

LOCAL_DAY = "CAST(ts + INTERVAL 8 HOUR AS DATE)"  # Shanghai is UTC+8 all year
SALE = "status IN ('completed', 'partially_refunded')"


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    workspace = init_workspace(tmp_path_factory.mktemp("kpi") / "ws")
    with workspace.warehouse() as wh:
        shop.fill(wh)
    build_kpi_mart(workspace)
    return workspace


@pytest.fixture
def wh(ws: Workspace) -> Iterator[Warehouse]:
    with ws.warehouse() as opened:
        yield opened


def sql(wh: Warehouse, query: str) -> pd.DataFrame:
    return wh.raw.sql(query).df()  # type: ignore[attr-defined]


def values(frame: pd.DataFrame) -> dict[tuple[str, str], float | None]:
    return {
        (str(r.store_id), str(r.period_start)): (None if pd.isna(r.value) else float(r.value))
        for r in frame.itertuples()
    }


def test_conversion_by_month_equals_direct_sql(wh: Warehouse) -> None:
    got = values(kpi_values(wh, ["conversion"], grain="month"))
    direct = sql(
        wh,
        f"""
        WITH t AS (SELECT store_id, date_trunc('month', {LOCAL_DAY.replace("ts", "interval_start")})
                          AS m, sum(ins) AS entries
                   FROM traffic_counts GROUP BY ALL),
             o AS (SELECT store_id, date_trunc('month', {LOCAL_DAY}) AS m, count(*) AS tx
                   FROM orders WHERE channel = 'store' AND {SALE} GROUP BY ALL)
        SELECT t.store_id, t.m, coalesce(o.tx, 0) / t.entries AS conversion
        FROM t LEFT JOIN o USING (store_id, m)
        """,
    )
    assert len(direct) == len(got) == 2 * 3  # two stores, Jan-Mar
    for r in direct.itertuples():
        assert got[r.store_id, str(r.m.date())] == pytest.approx(r.conversion, rel=1e-12)
    chain = values(kpi_values(wh, ["conversion"], grain="month", chain=True))
    total = sql(
        wh,
        f"""SELECT (SELECT count(*) FROM orders WHERE channel = 'store' AND {SALE})
                 / (SELECT sum(ins) FROM traffic_counts) AS c""",
    )["c"][0]
    assert kpi_total(wh, "conversion", date_from=None, date_to=None) == pytest.approx(total)
    assert set(chain) == {("*", "2026-01-01"), ("*", "2026-02-01"), ("*", "2026-03-01")}


def test_atv_upt_sales_per_m2_and_capture_by_week(wh: Warehouse) -> None:
    frame = kpi_values(
        wh, ["atv", "upt", "sales", "sales_per_m2", "capture_rate"], grain="week",
        stores=["S1"], date_from=date(2026, 1, 5), date_to=date(2026, 1, 11),
    )  # fmt: skip
    got = {r.kpi: r.value for r in frame.itertuples()}
    day = LOCAL_DAY
    o = sql(
        wh,
        f"""SELECT sum(total_fen) AS sales, count(*) AS tx,
                   (SELECT sum(quantity) FROM order_lines l WHERE l.order_id IN (
                       SELECT order_id FROM orders WHERE store_id = 'S1' AND channel = 'store'
                       AND {SALE} AND {day} BETWEEN '2026-01-05' AND '2026-01-11')) AS units
            FROM orders WHERE store_id = 'S1' AND channel = 'store' AND {SALE}
            AND {day} BETWEEN '2026-01-05' AND '2026-01-11'""",
    ).iloc[0]
    assert got["sales"] == o.sales
    assert got["atv"] == pytest.approx(o.sales / o.tx)
    assert got["upt"] == pytest.approx(o.units / o.tx)
    assert got["sales_per_m2"] == pytest.approx(o.sales / (shop.STORES["S1"] * 7))
    c = sql(
        wh,
        f"""SELECT sum(ins) AS e, sum(passers_by) AS p FROM traffic_counts
            WHERE store_id = 'S1' AND passers_by IS NOT NULL
            AND {day.replace("ts", "interval_start")} BETWEEN '2026-01-05' AND '2026-01-11'""",
    ).iloc[0]
    assert got["capture_rate"] == pytest.approx(c.e / (c.e + c.p))


def test_nps_csat_complaints_by_hand(wh: Warehouse) -> None:
    s = sql(wh, f"SELECT store_id, survey, score, {LOCAL_DAY} AS day FROM surveys")
    s["month"] = pd.to_datetime(s["day"]).dt.to_period("M").dt.start_time.dt.date.astype(str)
    got = values(kpi_values(wh, ["nps"], grain="month"))
    for (store, month), g in (
        s[s.survey == "nps"].dropna(subset=["store_id"]).groupby(["store_id", "month"])
    ):
        promoters, detractors = (g.score >= 9).mean(), (g.score <= 6).mean()
        assert got[store, month] == pytest.approx(100 * (promoters - detractors))
    # The chain counts the answer about no store too.
    nps = s[s.survey == "nps"]
    chain_nps = 100 * ((nps.score >= 9).mean() - (nps.score <= 6).mean())
    assert kpi_total(wh, "nps", date_from=None, date_to=None) == pytest.approx(chain_nps)
    csat = s[s.survey == "csat"]
    assert kpi_total(wh, "csat", date_from=None, date_to=None) == pytest.approx(
        (csat.score >= 4).mean()
    )
    tx = sql(wh, f"SELECT count(*) AS n FROM orders WHERE channel = 'store' AND {SALE}")["n"][0]
    complaints = values(kpi_values(wh, ["complaint_rate"], grain="month", chain=True))
    assert sum(
        v * t
        for (_, m), v in complaints.items()
        for t in [
            sql(
                wh,
                f"""SELECT count(*) AS n FROM orders WHERE channel = 'store' AND {SALE}
                    AND date_trunc('month', {LOCAL_DAY}) = DATE '{m}'""",
            )["n"][0]
        ]
        if v is not None
    ) == pytest.approx((csat.score <= 2).sum())
    assert tx > 0


def test_repeat_purchase_rate_is_the_store_summary_over_the_window(wh: Warehouse) -> None:
    """The mart's level on day d is StoreSummary's repeat rate over the 365 days to d."""
    daily = kpi_values(wh, ["repeat_purchase_rate"], grain="day")
    got = {(r.store_id, r.period_start): r for r in daily.itertuples()}
    for d in (shop.FIRST + timedelta(days=3), date(2026, 2, 14), shop.LAST):
        query = StoreSummaryQuery(date_from=d - timedelta(days=364), date_to=d)
        for row in StoreSummary(wh, query).calculate():
            mine = got[row.store_id, d]
            assert (mine.numerator, mine.denominator) == (row.repeat_customers, row.customers)
            assert mine.value == pytest.approx(row.repeat_purchase_rate)
    # A month is its last day; the chain counts each customer once, every channel.
    month = values(kpi_values(wh, ["repeat_purchase_rate"], grain="month", chain=True))
    direct = sql(
        wh,
        f"""SELECT count(*) FILTER (WHERE n >= 2) / count(*) AS r FROM (
                SELECT customer_id, count(*) AS n FROM orders
                WHERE {SALE} AND customer_id IS NOT NULL GROUP BY 1)""",
    )["r"][0]
    assert month["*", "2026-03-01"] == pytest.approx(direct)


def test_active_members_and_retention_by_hand(wh: Warehouse) -> None:
    p = sql(
        wh,
        f"""SELECT store_id, channel, customer_id, {LOCAL_DAY} AS day FROM orders
            WHERE {SALE} AND customer_id IS NOT NULL""",
    )
    p["day"] = pd.to_datetime(p["day"]).dt.date
    d = date(2026, 3, 10)
    window = p[(p.day > d - timedelta(days=90)) & (p.day <= d)]
    got = values(kpi_values(wh, ["active_members"], grain="day", date_from=d, date_to=d))
    for store in shop.STORES:
        at = window[(window.store_id == store) & (window.channel == "store")]
        assert got[store, str(d)] == at.customer_id.nunique()
    chain = kpi_values(wh, ["active_members"], date_from=d, date_to=d, chain=True)
    assert chain["value"].tolist() == [window.customer_id.nunique()]
    # Stores added up (a customer of both stores counts twice), per month: last days.
    both = kpi_values(wh, ["active_members"], grain="month", stores=["S1", "S2"], chain=True)
    per_store = kpi_values(wh, ["active_members"], grain="month", stores=["S1", "S2"])
    assert both["value"].tolist() == per_store.groupby("period_start")["value"].sum().tolist()

    first = p.sort_values("day").groupby("customer_id").day.min()
    later = p.merge(first.rename("first"), left_on="customer_id", right_index=True)
    later = later[later.day > later["first"]].groupby("customer_id").day.min()
    mature = first[first <= shop.LAST - timedelta(days=30)]
    back = [c for c, f in mature.items() if c in later and later[c] <= f + timedelta(days=30)]
    total = kpi_total(wh, "retention_30d", date_from=None, date_to=None)
    assert total == pytest.approx(len(back) / len(mature))
    frame = kpi_values(wh, ["retention_30d"], grain="day", chain=True)
    assert frame["period_start"].max() <= shop.LAST - timedelta(days=30)  # mature only


def test_new_members_private_share_inventory(wh: Warehouse) -> None:
    c = sql(
        wh,
        "SELECT home_store_id, CAST(first_seen_at + INTERVAL 8 HOUR AS DATE) AS d FROM customers",
    )
    got = kpi_values(wh, ["new_members"], grain="month")
    assert got["value"].sum() == c["home_store_id"].notna().sum()
    chain = kpi_values(wh, ["new_members"], grain="month", chain=True)
    assert chain["value"].sum() == len(shop.CUSTOMERS)

    share = values(kpi_values(wh, ["private_domain_share"], grain="month", stores=["S2"]))
    o = sql(
        wh,
        f"""SELECT date_trunc('month', {LOCAL_DAY}) AS m,
                   sum(total_fen) FILTER (WHERE channel IN ('community', 'mini_program'))
                   / sum(total_fen) AS s
            FROM orders WHERE {SALE} AND store_id = 'S2' GROUP BY 1""",
    )
    for r in o.itertuples():
        assert share["S2", str(r.m.date())] == pytest.approx(r.s or 0.0)

    turnover = kpi_values(wh, ["inventory_turnover_days"], grain="month")
    assert set(turnover["store_id"]) == {"S1"}  # S2 records no inventory
    inv = sql(
        wh,
        f"""WITH s AS (SELECT date AS d, sum(on_hand) AS oh FROM inventory_snapshots GROUP BY 1),
                 u AS (SELECT {LOCAL_DAY} AS d, sum(l.quantity) AS units
                       FROM orders o JOIN order_lines l USING (order_id)
                       WHERE o.store_id = 'S1' AND channel = 'store' AND {SALE} GROUP BY 1)
            SELECT sum(oh) / sum(coalesce(units, 0)) AS days FROM s LEFT JOIN u USING (d)""",
    )["days"][0]
    total = kpi_total(wh, "inventory_turnover_days", date_from=None, date_to=None, store="S1")
    assert total == pytest.approx(inv)


def test_ops_kpis_without_ops_data_are_zero_or_absent(wh: Warehouse) -> None:
    ids = ["points_liability", "stored_value_liability"]
    liab = kpi_values(wh, ids, grain="month", chain=True)
    assert len(liab) == 2 * 3 and (liab["value"] == 0).all()
    assert kpi_values(wh, ["coupon_redemption_rate"]).empty  # no coupons issued: no value
    assert kpi_values(wh, ids, stores=["S1"]).empty  # no member of S1 holds value


def test_every_kpi_has_rows_and_values_are_the_stored_ratio(wh: Warehouse) -> None:
    mart = wh.to_pandas(wh.mart(KPI_MART))
    assert set(mart["kpi"]) == set(KPIS) - {"coupon_redemption_rate"}
    scale = mart["kpi"].map({k: v.scale for k, v in KPIS.items()})
    ok = mart["denominator"] != 0
    assert (
        mart.loc[ok, "value"] - scale[ok] * mart.loc[ok, "numerator"] / mart.loc[ok, "denominator"]
    ).abs().max() < 1e-9
    assert mart.loc[~ok, "value"].isna().all()


def test_range_rebuild_replaces_only_its_days(ws: Workspace, wh: Warehouse) -> None:
    before = wh.to_pandas(wh.mart(KPI_MART))
    d1, d2 = date(2026, 2, 1), date(2026, 2, 3)
    built = build_kpi_mart(ws, d1, d2, wh=wh)
    after = wh.to_pandas(wh.mart(KPI_MART))
    days = pd.to_datetime(before["day"]).dt.date
    assert built.rows == int(((days >= d1) & (days <= d2)).sum()) > 0
    key = ["kpi", "store_id", "day"]
    pd.testing.assert_frame_equal(
        before.sort_values(key, ignore_index=True), after.sort_values(key, ignore_index=True)
    )


def test_errors(wh: Warehouse, tmp_path: Path) -> None:
    with pytest.raises(KpiError, match="unknown KPI nope"):
        kpi_values(wh, ["nope"])
    with pytest.raises(KpiError, match="swap"):
        kpi_values(wh, ["sales"], date_from=date(2026, 2, 1), date_to=date(2026, 1, 1))
    empty = init_workspace(tmp_path / "empty")
    with empty.warehouse() as other, pytest.raises(KpiError, match="marts refresh"):
        kpi_values(other, ["sales"])


def test_empty_warehouse_builds_an_empty_mart(tmp_path: Path) -> None:
    empty = init_workspace(tmp_path / "empty")
    assert build_kpi_mart(empty).rows == 0
    with empty.warehouse() as wh:
        assert kpi_values(wh, list(KPIS)).empty
        frame: Any = kpi_daily_frame(wh)
        assert frame.empty
