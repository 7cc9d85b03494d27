"""Concurrent spends, redemptions and retries against one member: no overdraft, one
effect per key, balances exact. On PostgreSQL (READ COMMITTED, its default) and SQLite."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from tests.ops_engines import pooled_engine

from storeops.loyalty import (
    InsufficientBalanceError,
    PointsLedger,
    StoredValue,
    enrol,
    trial_balance,
)
from storeops.loyalty.points import lot_totals
from storeops.opsdb.ledger_tables import ledger_txns, point_lot_uses, point_lots

THREADS = 24


@pytest.fixture(params=["sqlite", "postgresql"])
def pooled(request: pytest.FixtureRequest, tmp_path: Path) -> Engine:
    # One connection per thread, so the threads really do race in the database.
    return pooled_engine(request.param, tmp_path, THREADS)


def _race(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls at the same moment; results or the exceptions raised."""
    gate = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> Any:
        gate.wait()
        try:
            return call()
        except Exception as exc:  # collected and checked by the caller
            return exc

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


@pytest.mark.parametrize("trial", range(3))
def test_concurrent_spends_never_overdraw(pooled: Engine, trial: int) -> None:
    member, balance, amount = f"M{trial}", 100_000, 7_000
    enrol(pooled, member)
    sv = StoredValue(pooled, bonuses=())
    sv.top_up(member, balance, key=f"top-{trial}")
    results = _race(
        [
            lambda i=i: sv.spend(member, amount, key=f"spend-{trial}-{i}", reference=f"O{i}")
            for i in range(THREADS)
        ]
    )
    ok = [r for r in results if isinstance(r, dict)]
    refused = [r for r in results if isinstance(r, InsufficientBalanceError)]
    assert len(ok) == balance // amount == 14
    assert len(refused) == THREADS - len(ok)
    assert sv.balance(member) == balance - len(ok) * amount
    assert trial_balance(pooled) == {"stored_value": 0}


def test_one_key_sent_five_times_at_once_has_one_effect(pooled: Engine) -> None:
    enrol(pooled, "M1")
    points = PointsLedger(pooled)
    answers = _race([lambda: points.earn("M1", 25, key="same", reference="O1")] * 5)
    assert all(isinstance(a, dict) for a in answers), answers
    assert len({json.dumps(a) for a in answers}) == 1
    assert points.balance("M1") == 25
    with pooled.connect() as con:
        assert con.execute(select(func.count()).select_from(ledger_txns)).scalar() == 1
        assert con.execute(select(func.count()).select_from(point_lots)).scalar() == 1
    sequential = [points.earn("M1", 25, key="same", reference="O1") for _ in range(5)]
    assert {json.dumps(a) for a in sequential} == {json.dumps(answers[0])}


def test_racing_redemptions_and_refunds_keep_lots_consistent(pooled: Engine) -> None:
    enrol(pooled, "M1")
    points = PointsLedger(pooled)
    for i in range(6):
        points.earn("M1", 50, key=f"e{i}", reference=f"O{i}")
    calls: list[Callable[[], Any]] = [
        lambda i=i: points.redeem("M1", 40, key=f"r{i}") for i in range(THREADS // 2)
    ]
    calls += [
        lambda i=i: points.refund(
            "M1", order_id=f"O{i % 6}", refund_id=f"R{i}", refund_fen=100, order_fen=1_000
        )
        for i in range(THREADS // 2)
    ]
    results = _race(calls)
    assert not [r for r in results if isinstance(r, Exception)
                and not isinstance(r, InsufficientBalanceError)]  # fmt: skip
    assert points.balance("M1") == lot_totals(pooled, "M1") >= 0
    with pooled.connect() as con:
        used = dict(
            con.execute(
                select(point_lot_uses.c.lot_id, func.sum(point_lot_uses.c.points)).group_by(
                    point_lot_uses.c.lot_id
                )
            ).all()
        )
        lots = con.execute(select(point_lots.c.lot_id, point_lots.c.points,
                                  point_lots.c.remaining)).all()  # fmt: skip
    for lot_id, earned, remaining in lots:
        assert int(used.get(lot_id, 0)) == earned - remaining  # no lot consumed twice
    assert trial_balance(pooled) == {"points": 0}
