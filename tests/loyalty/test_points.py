"""Points: lots, redemption order, expiry, refund clawback and safe retries."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, func, select

from storeops.loyalty import (
    IdempotencyConflictError,
    InsufficientBalanceError,
    LedgerError,
    PointsLedger,
    PointsPolicy,
    UnknownMemberError,
    enrol,
    trial_balance,
)
from storeops.loyalty.ledger import run_once, write_entries
from storeops.loyalty.points import lot_totals
from storeops.opsdb.ledger_tables import ledger_entries, point_lot_uses, point_lots

T0 = datetime(2026, 1, 1, 12, 0)


def _points(engine: Engine) -> PointsLedger:
    enrol(engine, "M1")
    enrol(engine, "M2")
    return PointsLedger(engine, PointsPolicy(expiry_days=30))


def test_earn_redeem_oldest_lot_first(ops_engine: Engine) -> None:
    p = _points(ops_engine)
    a = p.earn("M1", 100, key="e1", reference="O1", at=T0)
    p.earn("M1", 50, key="e2", reference="O2", at=T0 + timedelta(days=5))
    assert a["balance"] == 100 and a["expires_at"] == "2026-01-31T12:00:00"
    r = p.redeem("M1", 120, key="r1", at=T0 + timedelta(days=6))
    assert r["balance"] == 30
    with ops_engine.connect() as con:
        remaining = dict(con.execute(select(point_lots.c.points, point_lots.c.remaining)).all())
    assert remaining == {100: 0, 50: 30}  # the earlier-expiring lot went first
    assert p.balance("M1") == lot_totals(ops_engine, "M1") == 30
    with pytest.raises(InsufficientBalanceError, match="fewer than 31"):
        p.redeem("M1", 31, key="r2", at=T0 + timedelta(days=6))
    assert p.balance("M1") == 30
    assert trial_balance(ops_engine) == {"points": 0}


def test_expired_points_cannot_be_redeemed_and_expiry_is_idempotent(ops_engine: Engine) -> None:
    p = _points(ops_engine)
    p.earn("M1", 100, key="e1", at=T0)
    p.earn("M1", 40, key="e2", at=T0 + timedelta(days=20))
    later = T0 + timedelta(days=31)  # the first lot expired a day ago, not yet swept
    with pytest.raises(InsufficientBalanceError, match="only 40 unexpired"):
        p.redeem("M1", 50, key="r1", at=later)
    assert p.balance("M1") == 140  # the refused redemption changed nothing
    assert p.expire(later) == {"lots": 1, "points": 100}
    assert p.expire(later) == {"lots": 0, "points": 0}
    assert p.balance("M1") == 40 == lot_totals(ops_engine, "M1")
    assert p.expire(T0 + timedelta(days=60)) == {"lots": 1, "points": 40}
    assert p.balance("M1") == 0
    assert trial_balance(ops_engine) == {"points": 0}


def test_refund_clawback_partial_then_full_and_twice(ops_engine: Engine) -> None:
    p = _points(ops_engine)
    p.earn("M1", 100, key="e1", reference="O1", at=T0)
    first = p.refund("M1", order_id="O1", refund_id="R1", refund_fen=3_000, order_fen=10_000)
    assert (first["clawed_back"], first["unrecovered"], first["balance"]) == (30, 0, 70)
    again = p.refund("M1", order_id="O1", refund_id="R1", refund_fen=3_000, order_fen=10_000)
    assert again == first and p.balance("M1") == 70  # the same refund twice: no change
    rest = p.refund("M1", order_id="O1", refund_id="R2", refund_fen=7_000, order_fen=10_000)
    assert (rest["clawed_back"], rest["target"], rest["balance"]) == (70, 100, 0)
    with pytest.raises(LedgerError, match="more than the order"):
        p.refund("M1", order_id="O1", refund_id="R3", refund_fen=1, order_fen=10_000)
    assert trial_balance(ops_engine) == {"points": 0}


def test_clawback_of_spent_points_stops_at_zero(ops_engine: Engine) -> None:
    p = _points(ops_engine)
    p.earn("M1", 100, key="e1", reference="O1", at=T0)
    p.earn("M1", 20, key="e2", reference="O2", at=T0)
    p.redeem("M1", 110, key="r1", at=T0)
    out = p.refund("M1", order_id="O1", refund_id="R1", refund_fen=5_000, order_fen=5_000)
    assert (out["target"], out["clawed_back"], out["unrecovered"]) == (100, 10, 90)
    assert p.balance("M1") == 0 == lot_totals(ops_engine, "M1")
    # An order that earned nothing claws back nothing.
    none = p.refund("M1", order_id="O9", refund_id="R9", refund_fen=100, order_fen=100)
    assert (none["target"], none["clawed_back"]) == (0, 0)


def test_retries_replay_the_answer_and_change_nothing(ops_engine: Engine) -> None:
    p = _points(ops_engine)
    answers = [p.earn("M1", 10, key="k1", reference="O1", at=T0) for _ in range(5)]
    assert len({json.dumps(a) for a in answers}) == 1
    assert p.balance("M1") == 10
    with ops_engine.connect() as con:
        assert con.execute(select(func.count()).select_from(ledger_entries)).scalar() == 2
    with pytest.raises(IdempotencyConflictError, match="different points_earn"):
        p.earn("M1", 11, key="k1", reference="O1", at=T0)
    with pytest.raises(IdempotencyConflictError):
        p.redeem("M1", 5, key="k1")
    assert p.balance("M1") == 10


def test_bad_requests_are_refused_clearly(ops_engine: Engine) -> None:
    p = _points(ops_engine)
    with pytest.raises(UnknownMemberError, match="enrol"):
        p.earn("nobody", 5, key="x1")
    for bad in (0, -3, 2.5, True):
        with pytest.raises(LedgerError, match="positive whole number"):
            p.earn("M1", bad, key="x2")  # type: ignore[arg-type]
    with pytest.raises(LedgerError, match="idempotency key"):
        p.earn("M1", 5, key="")
    with ops_engine.connect() as con:
        assert con.execute(select(func.count()).select_from(point_lot_uses)).scalar() == 0


def test_points_paid_and_earned_by_one_sale_move_the_balance_once(ops_engine: Engine) -> None:
    """The POS commit's step: the balance must cover the points paid on its own (the
    points the sale earns do not pay for it), and the new lot is not drawn from."""
    p = _points(ops_engine)
    p.earn("M1", 100, key="seed", reference="O0", at=T0)

    def sale(paid: int, earned: int, key: str) -> dict[str, Any]:
        def work(con: Connection, txn_id: int) -> dict[str, Any]:
            entries: list[dict[str, int]] = []
            out = p.pay_and_earn_in(con, txn_id, "M1", paid, earned, T0, entries=entries)
            write_entries(con, entries)
            return {"paid": out[0], "earned": out[1]}

        return run_once(ops_engine, kind="test_sale", key=key, payload={"p": paid}, work=work)

    with pytest.raises(InsufficientBalanceError):
        sale(150, 1_000, "too-much")  # 100 on hand: the 1,000 earned do not pay
    assert p.balance("M1") == 100 and trial_balance(ops_engine)["points"] == 0
    done = sale(60, 500, "ok")
    assert done["paid"] == {"member_id": "M1", "points": 60, "balance": 40}
    assert done["earned"]["balance"] == 540 and done["earned"]["points"] == 500
    assert p.balance("M1") == lot_totals(ops_engine, "M1") == 540
    with ops_engine.connect() as con:
        uses = con.execute(select(point_lot_uses.c.lot_id, point_lot_uses.c.points)).all()
    assert len(uses) == 1 and uses[0].points == 60 and uses[0].lot_id != done["earned"]["lot_id"]
    assert trial_balance(ops_engine) == {"points": 0}
    nothing = sale(0, 0, "nothing")
    assert (nothing["paid"], nothing["earned"]) == (None, None)
