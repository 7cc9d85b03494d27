"""The POS commit and refund: all or nothing, once per key, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from storeops.loyalty import (
    IdempotencyConflictError,
    InsufficientBalanceError,
    PointsLedger,
    StoredValue,
    enrol,
    trial_balance,
)
from storeops.opsdb.pos_tables import pos_feed
from storeops.pos.schemas import CommitRequest, QuoteRequest, RefundRequest
from storeops.pos.service import OrderExistsError, PosError, PosService
from storeops.promotions.errors import CouponAlreadyRedeemedError
from storeops.promotions.model import make_program
from storeops.promotions.service import PromotionService

LINE = {"sku": "A1", "unit_price_fen": 15_000, "quantity": 1, "category": "apparel"}


def _setup(engine: Engine) -> tuple[PosService, list[str]]:
    enrol(engine, "M1")
    enrol(engine, "M2")
    StoredValue(engine).top_up("M1", 50_000, key="top")  # +5,000 bonus: 55,000
    PointsLedger(engine).earn("M1", 1_000, key="seed", reference="seed")
    promos = PromotionService(engine)
    program = make_program(
        "WELCOME-20", "coupon", {"amount_off_fen": 2000, "min_spend_fen": 10_000}
    )
    promos.create_program(program)
    codes = promos.issue_coupons("WELCOME-20", 3, key="issue")["codes"]
    return PosService(engine), codes


def _commit(code: str, **over: Any) -> CommitRequest:
    body = {"store_id": "S1", "order_id": "O1", "lines": [LINE], "member_id": "M1",
            "coupon_codes": [code], "points_to_use": 500, "stored_value_fen": 3_000}  # fmt: skip
    return CommitRequest(**{**body, **over})


def _feed(engine: Engine) -> int:
    with engine.connect() as con:
        return int(con.execute(select(func.count()).select_from(pos_feed)).scalar_one())


def test_quote_commit_replay_and_refunds(ops_engine: Engine) -> None:
    pos, codes = _setup(ops_engine)
    q = pos.quote(QuoteRequest(**_commit(codes[0]).model_dump(exclude={"order_id", "payment"})))
    assert (q["quote"]["total_fen"], q["payable_fen"], q["points_to_earn"]) == (13_000, 9_500, 125)
    assert q["member"] == {"member_id": "M1", "tier": "standard", "points": 1_000,
                           "stored_value_fen": 55_000}  # fmt: skip
    first = pos.commit(_commit(codes[0]), key="till-1-0001")
    assert (first["total_fen"], first["payable_fen"], first["points_to_earn"]) == (
        13_000,
        9_500,
        125,
    )
    answers = [pos.commit(_commit(codes[0]), key="till-1-0001") for _ in range(5)]
    assert {json.dumps(a) for a in answers} == {json.dumps(first)}
    points, sv = PointsLedger(ops_engine), StoredValue(ops_engine)
    assert (points.balance("M1"), sv.balance("M1")) == (1_000 - 500 + 125, 52_000)
    with pytest.raises(IdempotencyConflictError):
        pos.commit(_commit(codes[0], points_to_use=400), key="till-1-0001")
    with pytest.raises(OrderExistsError, match="already committed"):
        pos.commit(_commit(codes[1]), key="till-1-0002")
    assert _feed(ops_engine) == 1

    half = pos.refund(RefundRequest(store_id="S1", order_id="O1", refund_id="R1",
                                    amount_fen=6_500), key="r-1")  # fmt: skip
    assert (half["stored_value_fen"], half["money_fen"]) == (3_000, 3_500)
    assert (half["points"]["clawed_back"], half["promotions_voided"]) == (62, False)
    rest = pos.refund(RefundRequest(store_id="S1", order_id="O1", refund_id="R2",
                                    amount_fen=6_500), key="r-2")  # fmt: skip
    assert (rest["stored_value_fen"], rest["points"]["clawed_back"]) == (0, 63)
    assert rest["promotions_voided"] is True
    assert (points.balance("M1"), sv.balance("M1")) == (500, 55_000)
    with pytest.raises(PosError, match="more than its 13000"):
        pos.refund(RefundRequest(store_id="S1", order_id="O1", refund_id="R3", amount_fen=1),
                   key="r-3")  # fmt: skip
    with pytest.raises(OrderExistsError):
        pos.refund(RefundRequest(store_id="S1", order_id="O1", refund_id="R1",
                                 amount_fen=1), key="r-4")  # fmt: skip
    with pytest.raises(PosError, match="no order O1 at store S2"):
        pos.refund(RefundRequest(store_id="S2", order_id="O1", refund_id="R5",
                                 amount_fen=1), key="r-5")  # fmt: skip
    # The coupon was voided with the whole order: it can be used again.
    again = pos.commit(_commit(codes[0], order_id="O2", points_to_use=0, stored_value_fen=0),
                       key="till-1-0003")  # fmt: skip
    assert again["discount_fen"] == 2_000
    assert trial_balance(ops_engine) == {"points": 0, "stored_value": 0}


def test_a_refused_part_rolls_back_the_whole_commit(ops_engine: Engine) -> None:
    pos, codes = _setup(ops_engine)
    pos.commit(_commit(codes[0], points_to_use=0, stored_value_fen=0), key="k-0001")
    # The same coupon on another order: refused, and nothing else moves either.
    with pytest.raises(CouponAlreadyRedeemedError):
        pos.commit(_commit(codes[0], order_id="O2"), key="k-0002")
    # M2 has no stored value: the coupon redemption rolls back with the spend.
    with pytest.raises(InsufficientBalanceError):
        pos.commit(_commit(codes[1], order_id="O3", member_id="M2", points_to_use=0),
                   key="k-0003")  # fmt: skip
    assert PointsLedger(ops_engine).balance("M1") == 1_000 + 130
    assert StoredValue(ops_engine).balance("M1") == 55_000
    assert _feed(ops_engine) == 1
    ok = pos.commit(_commit(codes[1], order_id="O4", points_to_use=0, stored_value_fen=0),
                    key="k-0004")  # fmt: skip
    assert ok["discount_fen"] == 2_000  # codes[1] was not used by the failed commit


def test_value_rules(ops_engine: Engine) -> None:
    pos, codes = _setup(ops_engine)
    with pytest.raises(PosError, match="needs a member"):
        pos.commit(_commit(codes[0], member_id=None), key="v-0001")
    with pytest.raises(PosError, match="exceed"):
        pos.commit(_commit(codes[0], stored_value_fen=13_000), key="v-0002")
    with pytest.raises(PosError, match="no member 'M9'"):
        pos.quote(QuoteRequest(store_id="S1", lines=[LINE], member_id="M9"))
    anonymous = pos.commit(_commit(codes[0], member_id=None, points_to_use=0,
                                   stored_value_fen=0), key="v-0003")  # fmt: skip
    assert anonymous["points_to_earn"] == 0 and anonymous["payable_fen"] == 13_000
