"""The demo's loyalty and coupon activity: planted through the real services at business
times, before the KPI mart, so the mart's liabilities and coupon redemption rate equal
what the ops database holds — computed here independently from its tables."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from storeops.cli.main import app
from storeops.demo import DemoTruth
from storeops.demo.ops_activity import PROGRAM_ID, seed_ops_activity
from storeops.loyalty import trial_balance
from storeops.loyalty.points import PointsPolicy
from storeops.opsdb.ledger_tables import (
    ledger_accounts,
    ledger_entries,
    ledger_txns,
    members,
    point_lots,
)
from storeops.opsdb.promotion_tables import coupons
from storeops.pos.service import FEN_PER_POINT
from storeops.reports.schedule import add_default_schedules, list_schedules
from storeops.workspace import Workspace, open_workspace

pytestmark = pytest.mark.slow
runner = CliRunner()
TZ = ZoneInfo("Asia/Shanghai")
ARGS = ["--stores", "2", "--customers", "400", "--days", "70", "--events", "500", "--seed", "9"]


@dataclass
class Demo:
    ws: Workspace
    truth: DemoTruth
    output: dict[str, Any]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    target = tmp_path_factory.mktemp("ops") / "demo"
    result = runner.invoke(app, ["demo", str(target), *ARGS, "--json"])
    assert result.exit_code == 0, result.output
    return Demo(
        open_workspace(target), DemoTruth.read(target / "sources"), json.loads(result.output)
    )


@pytest.fixture
def engine(demo: Demo) -> Iterator[Engine]:
    e = demo.ws.ops_engine()
    yield e
    e.dispose()


def _mart(demo: Demo, kpi: str) -> pd.DataFrame:
    with demo.ws.warehouse() as wh:
        t = wh.mart("mart_kpi_daily")
        frame = wh.to_pandas(t.filter(t.kpi == kpi))
    frame["day"] = pd.to_datetime(frame["day"]).dt.date
    return frame


def _local_day(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values).dt.tz_localize("UTC").dt.tz_convert(TZ).dt.date


def _member_moves(engine: Engine, asset: str) -> pd.DataFrame:
    """Every entry on a member account of ``asset``: time, member, store, amount."""
    e, a, t, m = ledger_entries, ledger_accounts, ledger_txns, members
    query = (
        select(t.c.created_at, a.c.owner, m.c.store_id, e.c.amount)
        .select_from(
            e.join(a, e.c.account_id == a.c.account_id)
            .join(t, e.c.txn_id == t.c.txn_id)
            .join(m, m.c.member_id == a.c.owner)
        )
        .where(a.c.asset == asset)
    )
    with engine.connect() as con:
        rows = pd.DataFrame(con.execute(query).all(), columns=["at", "member", "store", "amount"])
    rows["day"] = _local_day(rows["at"])
    return rows


def _balances(engine: Engine, asset: str) -> pd.DataFrame:
    a, m = ledger_accounts, members
    with engine.connect() as con:
        return pd.DataFrame(
            con.execute(
                select(a.c.owner, m.c.store_id, a.c.balance)
                .select_from(a.join(m, m.c.member_id == a.c.owner))
                .where(a.c.asset == asset, a.c.purpose == "balance")
            ).all(),
            columns=["member", "store", "balance"],
        )


def test_the_demo_plants_every_kind_of_activity(demo: Demo) -> None:
    planted = demo.truth.ops_activity
    output = demo.output["ops_activity"]
    assert output["members_enrolled_now"] == 400 and output["seconds"] > 0
    assert planted == {k: v for k, v in output.items() if k in planted}
    assert set(output) - set(planted) == {"members_enrolled_now", "seconds"}
    assert planted["members"] == demo.truth.customers["count"] == 400
    p, sv, c = planted["points"], planted["stored_value"], planted["coupons"]
    assert p["earn_transactions"] > 500 and p["earned"] > 0
    assert p["redemptions"] > 0 and p["clawbacks"] > 0
    assert p["outstanding"] == p["earned"] - p["redeemed"] - p["clawed_back"] - p["expired"]
    assert sv["top_ups"] > 0 and sv["spends"] > 0
    assert sv["outstanding_fen"] == (
        sv["cash_fen"] + sv["bonus_fen"] - sv["spent_fen"] + sv["refunded_fen"]
    )
    assert c["program_id"] == PROGRAM_ID and c["issued"] > c["redeemed"] > 0
    assert [b["issued_on"] for b in c["batches"]] == ["2026-09-17", "2026-10-17"]


def test_the_ledger_balances_and_matches_the_planted_figures(demo: Demo, engine: Engine) -> None:
    planted = demo.truth.ops_activity
    assert trial_balance(engine) == {"points": 0, "stored_value": 0}
    points, stored = _balances(engine, "points"), _balances(engine, "stored_value")
    assert int(points["balance"].sum()) == planted["points"]["outstanding"]
    assert int(stored["balance"].sum()) == planted["stored_value"]["outstanding_fen"]
    with engine.connect() as con:
        lot_rows = pd.DataFrame(
            con.execute(select(point_lots.c.member_id, point_lots.c.remaining)).all(),
            columns=["member", "remaining"],
        )
    by_member = lot_rows.groupby("member")["remaining"].sum()
    cached = points.set_index("member")["balance"]
    assert (by_member.reindex(cached.index, fill_value=0) == cached).all()
    for asset, frame in (("points", points), ("stored_value", stored)):
        moves = _member_moves(engine, asset)
        # every cached balance is the sum of its entries ...
        summed = moves.groupby("member")["amount"].sum()
        assert (summed.reindex(frame["member"], fill_value=0).to_numpy() == frame["balance"]).all()
        # ... and no balance was ever below 0 at any business time
        ordered = moves.sort_values(["member", "at"], kind="stable")
        assert (ordered.groupby("member")["amount"].cumsum() >= 0).all()


def test_kpi_liabilities_equal_the_ledger_on_every_day(demo: Demo, engine: Engine) -> None:
    end = date.fromisoformat(demo.truth.period["end"])
    planted = demo.truth.ops_activity
    for kpi, asset, factor in (
        ("points_liability", "points", FEN_PER_POINT),
        ("stored_value_liability", "stored_value", 1),
    ):
        mart = _mart(demo, kpi)
        chain = mart[mart.store_id == "*"].set_index("day")["value"]
        moves = _member_moves(engine, asset)
        daily = moves.groupby("day")["amount"].sum()
        levels = daily.reindex(chain.index, fill_value=0).cumsum() * factor
        assert len(chain) == demo.truth.config["days"]
        assert (chain == levels).all(), kpi
        assert chain.nunique() > 10  # a history, not one jump
        # the last day: the members' balances = minus the system accounts (trial balance 0)
        members_sum = int(_balances(engine, asset)["balance"].sum()) * factor
        a = ledger_accounts
        with engine.connect() as con:
            system = con.execute(
                select(ledger_entries.c.amount)
                .join(a, a.c.account_id == ledger_entries.c.account_id)
                .where(a.c.asset == asset, a.c.owner == "system")
            ).scalars()
            system_sum = sum(int(x) for x in system) * factor
        assert chain[end] == members_sum == -system_sum
        # the planted month-end levels
        for day, level in planted["liabilities"].items():
            assert chain[date.fromisoformat(day)] == level[f"{kpi}_fen"], (kpi, day)
        # stores: their members' balances on the last day
        stores = mart[(mart.store_id != "*") & (mart.day == end)].set_index("store_id")["value"]
        by_store = _balances(engine, asset).groupby("store")["balance"].sum() * factor
        assert stores.sort_index().to_dict() == by_store.astype(float).sort_index().to_dict()
        assert {s: v[f"{kpi}_fen"] for s, v in planted["liabilities_by_store"].items()} == (
            by_store.to_dict()
        )


def test_coupon_redemption_rate_equals_redeemed_over_issued(demo: Demo, engine: Engine) -> None:
    with engine.connect() as con:
        rows = pd.DataFrame(
            con.execute(
                select(coupons.c.issued_at, coupons.c.status).where(
                    coupons.c.program_id == PROGRAM_ID
                )
            ).all(),
            columns=["issued_at", "status"],
        )
    rows["day"] = _local_day(rows["issued_at"])
    expected = rows.groupby("day")["status"].agg(
        issued="size", redeemed=lambda s: int((s == "redeemed").sum())
    )
    mart = _mart(demo, "coupon_redemption_rate").set_index("day")
    assert set(mart["store_id"]) == {"*"}
    assert sorted(mart.index) == sorted(expected.index)
    for day, row in expected.iterrows():
        assert mart.loc[day, "numerator"] == row["redeemed"]
        assert mart.loc[day, "denominator"] == row["issued"]
        assert mart.loc[day, "value"] == pytest.approx(row["redeemed"] / row["issued"])
    planted = demo.truth.ops_activity["coupons"]
    assert planted["issued"] == len(rows)
    assert planted["redeemed"] == int((rows["status"] == "redeemed").sum())
    assert planted["redemption_rate"] == pytest.approx(planted["redeemed"] / planted["issued"])


def test_report_schedules_are_added_once(demo: Demo, engine: Engine) -> None:
    kinds = [s["kind"] for s in demo.output["report_schedules"]]
    assert kinds == ["daily", "weekly", "monthly"]
    assert [s.kind for s in list_schedules(engine)] == kinds
    assert add_default_schedules(engine) == []


def _ledger_rows(engine: Engine) -> list[tuple[Any, ...]]:
    t = ledger_txns.c
    with engine.connect() as con:
        return sorted(
            (r.idempotency_key, r.kind, r.created_at, r.member_id, r.reference)
            for r in con.execute(
                select(t.idempotency_key, t.kind, t.created_at, t.member_id, t.reference)
            )
        )


def test_seeding_again_changes_nothing(demo: Demo, engine: Engine, tmp_path: Path) -> None:
    before = _ledger_rows(engine)
    with demo.ws.warehouse() as wh:
        again = seed_ops_activity(demo.ws, wh, demo.truth)
    assert again.members_enrolled_now == 0
    assert again.planted() == demo.truth.ops_activity
    assert _ledger_rows(engine) == before


def _fresh_copy(demo: Demo, folder: Path) -> Workspace:
    """The demo workspace with an empty ops database (same warehouse)."""
    shutil.copytree(demo.ws.root, folder, ignore=shutil.ignore_patterns("ops.sqlite*"))
    return open_workspace(folder)


def test_same_seed_same_ledger(demo: Demo, engine: Engine, tmp_path: Path) -> None:
    ws = _fresh_copy(demo, tmp_path / "copy")
    with ws.warehouse() as wh:
        planted = seed_ops_activity(ws, wh, demo.truth)
    assert planted.planted() == demo.truth.ops_activity
    other = ws.ops_engine()
    try:
        assert _ledger_rows(other) == _ledger_rows(engine)
        with other.connect() as con:
            codes = sorted(con.execute(select(coupons.c.code, coupons.c.status)).all())
        with engine.connect() as con:
            assert codes == sorted(con.execute(select(coupons.c.code, coupons.c.status)).all())
    finally:
        other.dispose()


def test_expiry_job_expires_what_the_model_says(demo: Demo, tmp_path: Path) -> None:
    """With points living 20 days, the monthly expiry job has work in a 70-day demo."""
    ws = _fresh_copy(demo, tmp_path / "short")
    with ws.warehouse() as wh:
        planted = seed_ops_activity(ws, wh, demo.truth, policy=PointsPolicy(expiry_days=20))
    p = planted.points
    assert p["expired"] > 0 and p["expired_lots"] > 0
    e = ws.ops_engine()
    try:
        assert trial_balance(e) == {"points": 0, "stored_value": 0}
        a, t = ledger_accounts, ledger_txns
        with e.connect() as con:
            expired = con.execute(
                select(ledger_entries.c.amount, t.c.created_at)
                .join(a, a.c.account_id == ledger_entries.c.account_id)
                .join(t, t.c.txn_id == ledger_entries.c.txn_id)
                .where(a.c.owner == "system", a.c.purpose == "expired")
            ).all()
        assert sum(int(x) for x, _ in expired) == p["expired"]
        # posted by the job on the 1st of the month at 03:00 local
        local = {at.replace(tzinfo=ZoneInfo("UTC")).astimezone(TZ) for _, at in expired}
        assert {(t.day, t.hour, t.minute) for t in local} == {(1, 3, 0)}
        assert int(_balances(e, "points")["balance"].sum()) == p["outstanding"]
    finally:
        e.dispose()
