"""Points and stored-value liabilities and the coupon redemption rate from the ops
database, on SQLite and PostgreSQL; days in the workspace's zone (Shanghai, UTC+8)."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest
from sqlalchemy import Engine, insert

from storeops.kpi.compute import ops_kpis
from storeops.loyalty import PointsLedger
from storeops.loyalty.members import enrol
from storeops.loyalty.stored_value import StoredValue
from storeops.opsdb.promotion_tables import coupons, promotion_programs

DAYS = pd.date_range("2026-03-01", "2026-03-05", freq="D")


def by_kpi(
    frames: list[pd.DataFrame], store: str = "*"
) -> dict[str, dict[date, tuple[float, float]]]:
    out: dict[str, dict[date, tuple[float, float]]] = {}
    for f in frames:
        for r in f.itertuples():
            if r.store_id == store:
                out.setdefault(str(r.kpi), {})[r.day] = (r.numerator, r.denominator)
    return out


def test_empty_ops_database(ops_engine: Engine) -> None:
    got = by_kpi(ops_kpis(ops_engine, "Asia/Shanghai", DAYS))
    assert set(got) == {"points_liability", "stored_value_liability"}
    assert all(v == (0.0, 1.0) for kpi in got.values() for v in kpi.values())
    assert len(got["points_liability"]) == len(DAYS)


def test_liabilities_and_redemption(ops_engine: Engine) -> None:
    enrol(ops_engine, "M1", at=datetime(2026, 2, 1))
    enrol(ops_engine, "M2", store_id="S1", at=datetime(2026, 2, 1))
    points, stored = PointsLedger(ops_engine), StoredValue(ops_engine, bonuses=())
    points.earn("M1", 500, key="e0", at=datetime(2026, 2, 20, 3))  # before the range
    points.earn("M1", 300, key="e1", at=datetime(2026, 3, 1, 15, 59))  # 03-01 23:59 local
    points.earn("M2", 200, key="e2", at=datetime(2026, 3, 1, 16, 0))  # 03-02 00:00 local
    points.redeem("M1", 100, key="r1", at=datetime(2026, 3, 4, 2))
    stored.top_up("M2", 10_000, key="t1", at=datetime(2026, 3, 2, 2))
    stored.spend("M2", 2_500, key="s1", at=datetime(2026, 3, 3, 2))
    with ops_engine.begin() as con:
        con.execute(
            insert(promotion_programs).values(
                program_id="P1",
                name="P",
                kind="amount_off",
                params={},
                scope={},
                created_at=datetime(2026, 2, 1),
            )
        )
        for i, (at, status) in enumerate(
            [
                (datetime(2026, 3, 2, 1), "redeemed"),
                (datetime(2026, 3, 2, 2), "issued"),
                (datetime(2026, 3, 2, 3), "redeemed"),
                (datetime(2026, 3, 4, 20), "issued"),  # 03-05 local
            ]
        ):
            con.execute(
                insert(coupons).values(
                    code=f"C{i}", program_id="P1", status=status, source="batch", issued_at=at
                )
            )
    got = by_kpi(ops_kpis(ops_engine, "Asia/Shanghai", DAYS))
    pts = {d.isoformat(): n for d, (n, _) in got["points_liability"].items()}
    assert pts == {
        "2026-03-01": 800.0,
        "2026-03-02": 1000.0,
        "2026-03-03": 1000.0,
        "2026-03-04": 900.0,
        "2026-03-05": 900.0,
    }
    sv = {d.isoformat(): n for d, (n, _) in got["stored_value_liability"].items()}
    assert sv == {
        "2026-03-01": 0.0,
        "2026-03-02": 10_000.0,
        "2026-03-03": 7_500.0,
        "2026-03-04": 7_500.0,
        "2026-03-05": 7_500.0,
    }
    # A store's liabilities are its members': M2 enrolled at S1, M1 at no store.
    s1 = by_kpi(ops_kpis(ops_engine, "Asia/Shanghai", DAYS), store="S1")
    assert {d.isoformat(): n for d, (n, _) in s1["points_liability"].items()} == {
        "2026-03-01": 0.0,
        "2026-03-02": 200.0,
        "2026-03-03": 200.0,
        "2026-03-04": 200.0,
        "2026-03-05": 200.0,
    }
    assert s1["stored_value_liability"][date(2026, 3, 3)] == (7_500.0, 1.0)
    assert "coupon_redemption_rate" not in s1  # issued coupons belong to no store
    coupon = {d.isoformat(): v for d, v in got["coupon_redemption_rate"].items()}
    assert coupon == {"2026-03-02": (2.0, 3.0), "2026-03-05": (0.0, 1.0)}


@pytest.mark.parametrize("tz", ["UTC"])
def test_days_follow_the_zone(ops_engine: Engine, tz: str) -> None:
    enrol(ops_engine, "M1", at=datetime(2026, 2, 1))
    PointsLedger(ops_engine).earn("M1", 300, key="e1", at=datetime(2026, 3, 1, 23, 0))
    got = by_kpi(ops_kpis(ops_engine, tz, DAYS))
    assert got["points_liability"][date(2026, 3, 1)][0] == 300.0
