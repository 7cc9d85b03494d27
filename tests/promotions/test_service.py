"""PromotionService on SQLite and PostgreSQL: programs, codes, quotes, redeem and void,
limits, the O2O loop, and retries (sequential; the concurrent ones are in
test_concurrency.py)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select

from storeops.loyalty import IdempotencyConflictError, trial_balance
from storeops.opsdb.promotion_tables import coupon_redemptions, coupons, promotion_programs
from storeops.opsdb.tables import audit_log
from storeops.promotions import (
    AlreadyVoidedError,
    Basket,
    CouponAlreadyRedeemedError,
    CouponNotApplicableError,
    CouponNotFoundError,
    LimitReachedError,
    Line,
    ProgramDefinitionError,
    PromotionError,
    PromotionService,
    UnknownProgramError,
    load_programs,
    make_program,
)
from storeops.promotions.codes import ALPHABET, display, normalise
from storeops.promotions.toml_programs import EXAMPLE

AT = datetime(2026, 6, 1, 12)


def cart(amount: int, *, store: str = "S1", channel: str = "store") -> Basket:
    return Basket((Line("sku", amount, 1, "tops"),), store_id=store, channel=channel)


@pytest.fixture
def svc(ops_engine: Engine) -> PromotionService:
    s = PromotionService(ops_engine)
    s.create_program(
        make_program("C20", "coupon", {"amount_off_fen": 2_000, "min_spend_fen": 10_000})
    )
    return s


def count(engine: Engine, table: object) -> int:
    with engine.connect() as con:
        return int(con.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def test_programs_from_the_example_toml_file(ops_engine: Engine) -> None:
    svc = PromotionService(ops_engine)
    programs = load_programs(EXAMPLE)
    assert {p.kind for p in programs} == {
        "threshold",
        "percent_off",
        "buy_x_get_y",
        "coupon",
        "next_order",
        "points_multiplier",
    }
    for p in programs:
        assert svc.create_program(p) == {"program_id": p.program_id, "created": True}
        assert svc.create_program(p)["created"] is False  # the same definition: no change
    stored = {p.program_id: p for p in svc.programs()}
    assert stored["MJ-200-300"].params == {"tiers": [[20000, 4000], [30000, 8000]]}
    assert stored["MJ-200-300"].starts_at == datetime(2026, 1, 1)
    changed = make_program("MJ-200-300", "threshold", {"tiers": [[20000, 5000]]})
    with pytest.raises(ProgramDefinitionError, match="exists with a different definition"):
        svc.create_program(changed)
    with ops_engine.connect() as con:
        assert (
            con.execute(
                select(func.count())
                .select_from(audit_log)
                .where(audit_log.c.action == "promotion.create")
            ).scalar()
            == 6
        )


def test_generated_codes_are_unique_unambiguous_and_normalised(svc: PromotionService) -> None:
    made = svc.issue_coupons("C20", 500, key="batch-1", at=AT)
    codes = made["codes"]
    assert made["count"] == len(set(codes)) == 500
    assert all(len(c) == 16 and set(c) <= set(ALPHABET) for c in codes)
    assert not set("01OI") & set("".join(codes))
    shown = display(codes[0])
    assert shown.count("-") == 3 and normalise(shown.lower()) == codes[0]
    assert svc.coupon(shown.lower())["status"] == "issued"
    with pytest.raises(PromotionError, match="applies without codes"):
        svc.create_program(make_program("MJ", "threshold", {"tiers": [[100, 10]]}))
        svc.issue_coupons("MJ", 1, key="k")
    with pytest.raises(UnknownProgramError):
        svc.issue_coupons("NOPE", 1, key="k2")


def test_imported_codes_all_or_nothing(svc: PromotionService) -> None:
    assert svc.import_codes("C20", ["vip-0001", "VIP0002"], key="imp-1")["count"] == 2
    assert svc.coupon("VIP0001")["source"] == "imported"
    with pytest.raises(PromotionError, match=r"exist already, e\.g\. VIP0002"):
        svc.import_codes("C20", ["VIP0002", "VIP0003"], key="imp-2")
    with pytest.raises(CouponNotFoundError):
        svc.coupon("VIP0003")
    with pytest.raises(PromotionError, match="repeated"):
        svc.import_codes("C20", ["VIP0009", "vip-0009"], key="imp-3")
    with pytest.raises(PromotionError, match="not a coupon code"):
        svc.import_codes("C20", ["no!"], key="imp-4")


def test_redeem_once_then_refused_then_void_restores_once(
    svc: PromotionService, ops_engine: Engine
) -> None:
    [code] = svc.import_codes("C20", ["TILL0001"], key="imp")["count"] and ["TILL0001"]
    q = svc.quote(cart(15_000), codes=[code], at=AT)
    assert q.coupon(code).applied and q.total_fen == 13_000  # type: ignore[union-attr]
    done = svc.redeem(code, order_id="O1", basket=cart(15_000), key="r1", at=AT)
    assert done["discount_fen"] == 2_000 and done["total_fen"] == 13_000
    assert svc.coupon(code)["status"] == "redeemed"
    with pytest.raises(CouponAlreadyRedeemedError):
        svc.redeem(code, order_id="O2", basket=cart(15_000), key="r2", at=AT)
    q = svc.quote(cart(15_000), codes=[code], at=AT)
    assert q.coupon(code).reason == "already_redeemed"  # type: ignore[union-attr]

    voided = svc.void(done["redemption_id"], key="v1", at=AT)
    assert voided["restored_fen"] == 2_000 and voided["coupon_code"] == code
    assert svc.void(done["redemption_id"], key="v1", at=AT) == voided  # a retry
    with pytest.raises(AlreadyVoidedError):
        svc.void(done["redemption_id"], key="v2", at=AT)
    assert svc.coupon(code)["status"] == "issued"
    assert svc.program("C20").uses == 0 and svc.program("C20").spent_fen == 0
    again = svc.redeem(code, order_id="O3", basket=cart(15_000), key="r3", at=AT)
    assert again["redemption_id"] != done["redemption_id"]
    assert [r["voided_at"] is None for r in svc.coupon(code)["redemptions"]] == [False, True]
    assert trial_balance(ops_engine) == {}  # coupons move no ledger value


def test_a_coupon_that_does_not_apply_is_refused_with_its_reason(svc: PromotionService) -> None:
    svc.import_codes("C20", ["SMALL001"], key="imp")
    with pytest.raises(CouponNotApplicableError) as info:
        svc.redeem("SMALL001", order_id="O1", basket=cart(9_999), key="r", at=AT)
    assert info.value.reason == "below_minimum"
    assert "minimum spend" in str(info.value)
    with pytest.raises(CouponNotFoundError):
        svc.redeem("NOSUCH01", order_id="O1", basket=cart(20_000), key="r", at=AT)
    assert svc.coupon("SMALL001")["status"] == "issued"


def test_retries_replay_the_answer_and_a_changed_request_is_refused(
    svc: PromotionService, ops_engine: Engine
) -> None:
    batch = [svc.issue_coupons("C20", 3, key="b", at=AT) for _ in range(5)]
    assert len({json.dumps(b) for b in batch}) == 1
    assert count(ops_engine, coupons) == 3
    code = batch[0]["codes"][0]
    answers = [
        svc.redeem(code, order_id="O1", basket=cart(20_000), key="r", at=AT + timedelta(minutes=i))
        for i in range(5)
    ]
    assert len({json.dumps(a) for a in answers}) == 1
    assert count(ops_engine, coupon_redemptions) == 1
    with pytest.raises(IdempotencyConflictError):
        svc.redeem(code, order_id="O9", basket=cart(20_000), key="r", at=AT)
    voids = [svc.void(answers[0]["redemption_id"], key="v", at=AT) for _ in range(5)]
    assert len({json.dumps(v) for v in voids}) == 1
    assert svc.program("C20").uses == 0


def test_budget_uses_and_per_customer_limits(ops_engine: Engine) -> None:
    svc = PromotionService(ops_engine)
    svc.create_program(make_program("B", "coupon", {"amount_off_fen": 3_000}, budget_fen=7_000))
    svc.create_program(make_program("U", "coupon", {"amount_off_fen": 100}, max_uses=2))
    svc.create_program(make_program("ONE", "coupon", {"amount_off_fen": 100}, per_customer_limit=1))
    b = svc.issue_coupons("B", 3, key="b", at=AT)["codes"]
    u = svc.issue_coupons("U", 3, key="u", at=AT)["codes"]
    one = svc.issue_coupons("ONE", 2, key="o", at=AT)["codes"]
    for i in range(2):
        svc.redeem(b[i], order_id=f"B{i}", basket=cart(10_000), key=f"b{i}", at=AT)
        svc.redeem(u[i], order_id=f"U{i}", basket=cart(10_000), key=f"u{i}", at=AT)
    with pytest.raises(CouponNotApplicableError) as info:  # 6,000 spent of 7,000
        svc.redeem(b[2], order_id="B2", basket=cart(10_000), key="b2", at=AT)
    assert info.value.reason == "budget_exhausted"
    with pytest.raises(CouponNotApplicableError, match="used up"):
        svc.redeem(u[2], order_id="U2", basket=cart(10_000), key="u2", at=AT)
    with pytest.raises(CouponNotApplicableError) as info:
        svc.redeem(one[0], order_id="A0", basket=cart(10_000), key="a0", at=AT)
    assert info.value.reason == "customer_required"
    svc.redeem(one[0], order_id="A1", basket=cart(10_000), key="a1", customer_id="C1", at=AT)
    with pytest.raises(CouponNotApplicableError) as info:
        svc.redeem(one[1], order_id="A2", basket=cart(10_000), key="a2", customer_id="C1", at=AT)
    assert info.value.reason == "customer_limit_reached"
    svc.redeem(one[1], order_id="A3", basket=cart(10_000), key="a3", customer_id="C2", at=AT)
    assert (svc.program("B").spent_fen, svc.program("U").uses) == (6_000, 2)


def test_limit_error_from_the_conditional_update_itself(ops_engine: Engine) -> None:
    """The quote reads counters without a lock; the conditional update is the guard."""
    svc = PromotionService(ops_engine)
    svc.create_program(make_program("B", "coupon", {"amount_off_fen": 3_000}, budget_fen=5_000))
    codes = svc.issue_coupons("B", 2, key="b", at=AT)["codes"]
    svc.redeem(codes[0], order_id="O1", basket=cart(10_000), key="r1", at=AT)
    with pytest.raises(LimitReachedError):
        # 3,000 + 3,000 > 5,000: refused (by the quote or, under a race, the update)
        svc.redeem(codes[1], order_id="O2", basket=cart(10_000), key="r2", at=AT)
    with ops_engine.connect() as con:
        row = con.execute(select(promotion_programs.c.spent_fen, promotion_programs.c.uses)).one()
    assert tuple(row) == (3_000, 1)
    assert svc.coupon(codes[1])["status"] == "issued"


def test_the_o2o_loop_online_order_earns_a_coupon_used_in_store(ops_engine: Engine) -> None:
    svc = PromotionService(ops_engine)
    for p in load_programs(EXAMPLE):
        svc.create_program(p)
    online = cart(25_000, channel="online")
    assert svc.quote(online, customer_id="C1", at=AT).next_order_rewards == ("O2O-NEXT-30",)
    earned = svc.issue_next_order(online, order_id="W1", customer_id="C1", at=AT)
    assert [
        svc.issue_next_order(online, order_id="W1", customer_id="C1", at=AT) for _ in range(3)
    ] == [earned] * 3
    [ticket] = earned["coupons"]
    code = ticket["code"]
    assert ticket["valid_until"] == (AT + timedelta(days=30)).isoformat()
    stored = svc.coupon(code)
    assert (stored["customer_id"], stored["issued_order_id"]) == ("C1", "W1")
    # not for someone else, not online, not after 30 days
    with pytest.raises(CouponNotApplicableError, match="another customer"):
        svc.redeem(code, order_id="S1", basket=cart(16_000), key="x1", customer_id="C2", at=AT)
    with pytest.raises(CouponNotApplicableError, match="channel"):
        svc.redeem(
            code,
            order_id="S1",
            basket=cart(16_000, channel="online"),
            key="x2",
            customer_id="C1",
            at=AT,
        )
    with pytest.raises(CouponNotApplicableError, match="no longer valid"):
        svc.redeem(
            code,
            order_id="S1",
            basket=cart(16_000),
            key="x3",
            customer_id="C1",
            at=AT + timedelta(days=30),
        )
    done = svc.redeem(
        code,
        order_id="S1",
        basket=cart(16_000),
        key="x4",
        customer_id="C1",
        at=AT + timedelta(days=3),
    )
    assert done["discount_fen"] == 3_000
    # A store order earns nothing.
    none = svc.issue_next_order(cart(50_000), order_id="S2", customer_id="C1", at=AT)
    assert none["coupons"] == []


def test_a_paused_program_stops_applying(svc: PromotionService) -> None:
    svc.import_codes("C20", ["PAUSE001"], key="imp")
    svc.set_status("C20", "paused")
    q = svc.quote(cart(20_000), codes=["PAUSE001"], at=AT)
    assert q.coupon("PAUSE001").reason == "inactive"  # type: ignore[union-attr]
    with pytest.raises(UnknownProgramError):
        svc.set_status("NOPE", "paused")


def test_commit_order_records_every_offer_and_void_order_restores_them(
    ops_engine: Engine,
) -> None:
    svc = PromotionService(ops_engine)
    svc.create_program(
        make_program("MJ", "threshold", {"tiers": [[20_000, 4_000]]}, budget_fen=6_000)
    )
    svc.create_program(make_program("X2", "points_multiplier", {"multiplier_pct": 200}))
    svc.create_program(make_program("C5", "coupon", {"amount_off_fen": 500}, stackable=True))
    codes = svc.issue_coupons("C5", 2, key="c5", at=AT)["codes"]
    b = Basket((Line("a", 25_000, 1, "tops"),), store_id="S1")
    done = svc.commit_order(b, order_id="O1", key="k1", customer_id="C1", codes=[codes[0]], at=AT)
    assert (done["discount_fen"], done["total_fen"]) == (4_500, 20_500)
    assert done["points_multiplier_pct"] == 200
    assert [(r["program_id"], r["coupon_code"]) for r in done["redemptions"]] == [
        ("MJ", None),
        ("C5", codes[0]),
    ]
    assert svc.program("MJ").spent_fen == 4_000 and svc.coupon(codes[0])["status"] == "redeemed"
    # The MJ budget (6,000) cannot give 4,000 again: the next order goes without it.
    second = svc.commit_order(b, order_id="O2", key="k2", customer_id="C1", at=AT)
    assert second["discount_fen"] == 0 and second["redemptions"] == []
    # A code that does not apply refuses the whole commit.
    with pytest.raises(CouponAlreadyRedeemedError):
        svc.commit_order(b, order_id="O3", key="k3", codes=[codes[0]], at=AT)
    assert count(ops_engine, coupon_redemptions) == 2

    undone = svc.void_order("O1", key="u1", at=AT)
    assert undone["restored_fen"] == 4_500 and len(undone["voided"]) == 2
    assert svc.void_order("O1", key="u1", at=AT) == undone
    assert svc.void_order("O1", key="u2", at=AT)["voided"] == []
    with ops_engine.begin() as con:  # inside a caller's transaction: nothing live left
        assert svc.void_order_in(con, 0, "O1", at=AT)["restored_fen"] == 0
    assert svc.program("MJ").spent_fen == 0 and svc.coupon(codes[0])["status"] == "issued"
    again = svc.commit_order(b, order_id="O4", key="k4", customer_id="C1", at=AT)
    assert again["discount_fen"] == 4_000
    with pytest.raises(PromotionError, match="order_id"), ops_engine.begin() as con:
        svc.commit_in(con, 0, Basket(b.lines), customer_id=None, codes=[], at=AT)
