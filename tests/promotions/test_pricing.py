"""The pricing function: hand-built cases with exact numbers, and properties over random
baskets and programs (hypothesis): the discount never exceeds the basket, no price goes
negative, the best offer wins unless stackable, stackable offers add on top."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storeops.loyalty.earn_rules import points_for
from storeops.promotions import (
    Basket,
    Coupon,
    Customer,
    Line,
    ProgramDefinitionError,
    PromotionError,
    make_program,
    quote,
)
from storeops.promotions.model import Program

AT = datetime(2026, 6, 1, 12)
ME = Customer("C1")

MJ = make_program("MJ", "threshold", {"tiers": [[20000, 4000], [30000, 8000]]})


def basket(*lines: Line, store: str = "S1", channel: str = "store", order: str = "O1") -> Basket:
    return Basket(tuple(lines), store_id=store, channel=channel, order_id=order)


def one(amount: int, category: str | None = None) -> Basket:
    return basket(Line("sku", amount, 1, category))


# -- exact cases ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "off"),
    [(19_999, 0), (20_000, 4_000), (29_999, 4_000), (30_000, 8_000), (88_800, 8_000)],
)
def test_threshold_gives_the_best_tier_reached(amount: int, off: int) -> None:
    q = quote(one(amount), ME, [MJ], [], AT)
    assert q.discount_fen == off
    assert q.total_fen == amount - off
    if off == 0:
        assert q.checks[0].reason == "below_minimum"


def test_percent_off_only_on_its_category_rounding_down() -> None:
    shoes = make_program("P15", "percent_off", {"percent_off": 15}, scope={"categories": ["shoes"]})
    q = quote(
        basket(Line("s", 19_999, 1, "shoes"), Line("t", 5_000, 1, "tops")), ME, [shoes], [], AT
    )
    assert q.discount_fen == 19_999 * 15 // 100 == 2_999
    assert [ln.discount_fen for ln in q.lines] == [2_999, 0]


def test_buy_two_get_one_free_frees_the_cheapest_of_each_full_group() -> None:
    bx = make_program("BX", "buy_x_get_y", {"buy": 2, "get": 1}, scope={"skus": ["a", "b"]})
    # units by price: 1500, 1000, 1000 | 1000 (an incomplete group gets nothing)
    q = quote(basket(Line("a", 1_000, 3), Line("b", 1_500, 1)), ME, [bx], [], AT)
    assert q.discount_fen == 1_000
    q6 = quote(basket(Line("a", 1_000, 6)), ME, [bx], [], AT)
    assert q6.discount_fen == 2_000


def test_the_best_offer_wins_and_the_loser_is_told_why() -> None:
    shoes = make_program("P15", "percent_off", {"percent_off": 15}, scope={"categories": ["shoes"]})
    q = quote(
        basket(Line("s", 25_000, 1, "shoes"), Line("t", 8_000, 1, "tops")), ME, [MJ, shoes], [], AT
    )
    assert [a.program_id for a in q.applied] == ["MJ"]
    assert q.discount_fen == 8_000
    [lost] = [c for c in q.checks if c.program_id == "P15"]
    assert lost.reason == "outranked"
    assert "MJ gives 8000 fen off" in lost.message


def test_stackable_offers_add_on_top_of_the_best_one() -> None:
    socks = make_program(
        "BX", "buy_x_get_y", {"buy": 2, "get": 1}, stackable=True, scope={"categories": ["socks"]}
    )
    c20 = make_program(
        "C20", "coupon", {"amount_off_fen": 2_000, "min_spend_fen": 10_000}, stackable=True
    )
    b = basket(
        Line("shoe", 25_000, 1, "shoes"),
        Line("sock", 1_000, 3, "socks"),
        Line("tee", 5_000, 1, "tops"),
    )
    q = quote(b, ME, [MJ, socks, c20], [Coupon("ABCD2345", "C20")], AT)
    assert [(a.program_id, a.discount_fen) for a in q.applied] == [
        ("MJ", 8_000),
        ("BX", 1_000),
        ("C20", 2_000),
    ]
    assert (q.gross_fen, q.discount_fen, q.total_fen) == (33_000, 11_000, 22_000)
    assert sum(ln.discount_fen for ln in q.lines) == 11_000
    assert q.coupon("ABCD2345") is not None and q.coupon("ABCD2345").applied  # type: ignore[union-attr]


def test_a_percent_coupon_with_a_cap() -> None:
    c = make_program("C", "coupon", {"percent_off": 20, "max_discount_fen": 5_000})
    assert quote(one(10_000), ME, [c], [Coupon("X1X1", "C")], AT).discount_fen == 2_000
    assert quote(one(90_000), ME, [c], [Coupon("X1X1", "C")], AT).discount_fen == 5_000


def test_a_coupon_alone_never_applies_without_its_code() -> None:
    c = make_program("C", "coupon", {"amount_off_fen": 1_000})
    assert quote(one(10_000), ME, [c], [], AT).discount_fen == 0


@pytest.mark.parametrize(
    ("coupon", "program_fields", "b", "customer", "reason"),
    [
        (Coupon("K1K1", "C", valid_until=AT), {}, one(20_000), ME, "expired"),
        (
            Coupon("K1K1", "C", valid_from=AT + timedelta(seconds=1)),
            {},
            one(20_000),
            ME,
            "not_started",
        ),
        (Coupon("K1K1", "C", customer_id="C2"), {}, one(20_000), ME, "other_customer"),
        (Coupon("K1K1", "C", status="redeemed"), {}, one(20_000), ME, "already_redeemed"),
        (Coupon("K1K1", "C", issued_order_id="O1"), {}, one(20_000), ME, "same_order"),
        (Coupon("K1K1", "C"), {"scope": {"stores": ["S9"]}}, one(20_000), ME, "wrong_store"),
        (
            Coupon("K1K1", "C"),
            {"scope": {"channels": ["online"]}},
            one(20_000),
            ME,
            "wrong_channel",
        ),
        (
            Coupon("K1K1", "C"),
            {"scope": {"categories": ["toys"]}},
            one(20_000),
            ME,
            "no_eligible_items",
        ),
        (Coupon("K1K1", "C"), {}, one(9_999), ME, "below_minimum"),
        (Coupon("K1K1", "C"), {"ends_at": AT}, one(20_000), ME, "expired"),
        (
            Coupon("K1K1", "C"),
            {"per_customer_limit": 1},
            one(20_000),
            Customer("C1", {"C": 1}),
            "customer_limit_reached",
        ),
        (
            Coupon("K1K1", "C"),
            {"per_customer_limit": 1},
            one(20_000),
            Customer(),
            "customer_required",
        ),
        (Coupon("K1K1", "C"), {"max_uses": 5, "uses": 5}, one(20_000), ME, "budget_exhausted"),
        (
            Coupon("K1K1", "C"),
            {"budget_fen": 10_000, "spent_fen": 9_000},
            one(20_000),
            ME,
            "budget_exhausted",
        ),
        (Coupon("K1K1", "NOPE"), {}, one(20_000), ME, "unknown_program"),
    ],
)
def test_a_coupon_that_does_not_apply_says_why(
    coupon: Coupon, program_fields: dict[str, object], b: Basket, customer: Customer, reason: str
) -> None:
    c = make_program(
        "C", "coupon", {"amount_off_fen": 2_000, "min_spend_fen": 10_000}, **program_fields
    )
    q = quote(b, customer, [c], [coupon], AT)
    check = q.coupon("K1K1")
    assert check is not None and not check.applied
    assert check.reason == reason
    assert check.message
    assert q.discount_fen == 0


def test_points_multiplier_is_exposed_and_the_highest_wins() -> None:
    x2 = make_program(
        "X2", "points_multiplier", {"multiplier_pct": 200}, scope={"categories": ["beauty"]}
    )
    x3 = make_program("X3", "points_multiplier", {"multiplier_pct": 300, "min_spend_fen": 50_000})
    b = basket(Line("lipstick", 30_000, 1, "beauty"))
    q = quote(b, ME, [x2, x3], [], AT)
    assert (q.points_multiplier_pct, q.points_multiplier_program) == (200, "X2")
    assert q.discount_fen == 0
    q = quote(basket(Line("lipstick", 60_000, 1, "beauty")), ME, [x2, x3], [], AT)
    assert q.points_multiplier_pct == 300
    assert quote(one(60_000, "tops"), ME, [x2], [], AT).points_multiplier_pct == 100


def test_the_multiplier_and_the_paid_lines_feed_the_points_earn() -> None:
    x2 = make_program("X2", "points_multiplier", {"multiplier_pct": 200})
    q = quote(basket(Line("a", 25_000, 1, "tops")), ME, [MJ, x2], [], AT)
    # 250 yuan - 40 (满200减40) = 210 yuan paid, 1 point per yuan, doubled
    assert (
        points_for(q.paid_lines(), tier="standard", promotion_multiplier=q.points_multiplier) == 420
    )


def test_next_order_reward_is_earned_online_and_redeemable_in_store() -> None:
    o2o = make_program(
        "O2O",
        "next_order",
        {"amount_off_fen": 3_000, "min_spend_fen": 15_000, "trigger_min_spend_fen": 20_000},
        scope={"channels": ["store"]},
    )
    online = quote(basket(Line("a", 20_000), channel="online"), ME, [o2o], [], AT)
    assert online.next_order_rewards == ("O2O",)
    assert (
        quote(basket(Line("a", 19_999), channel="online"), ME, [o2o], [], AT).next_order_rewards
        == ()
    )
    assert quote(basket(Line("a", 50_000)), ME, [o2o], [], AT).next_order_rewards == ()
    ticket = Coupon("NEXT2345", "O2O", customer_id="C1", issued_order_id="O1")
    later = quote(basket(Line("a", 16_000), order="O2"), ME, [o2o], [ticket], AT)
    assert later.discount_fen == 3_000
    again_online = quote(
        basket(Line("a", 16_000), channel="online", order="O2"), ME, [o2o], [ticket], AT
    )
    assert again_online.coupons[0].reason == "wrong_channel"


def test_two_coupons_of_one_program_count_once() -> None:
    c = make_program("C", "coupon", {"amount_off_fen": 1_000}, stackable=True)
    q = quote(one(10_000), ME, [c], [Coupon("AAAA", "C"), Coupon("BBBB", "C")], AT)
    assert q.discount_fen == 1_000
    assert [ck.reason for ck in q.coupons] == [None, "one_per_program"]


def test_bad_definitions_and_baskets_are_refused_clearly() -> None:
    with pytest.raises(ProgramDefinitionError, match="unknown program kind"):
        make_program("X", "bogo", {})
    with pytest.raises(ProgramDefinitionError, match="exactly one of amount_off_fen"):
        make_program("X", "coupon", {"amount_off_fen": 1, "percent_off": 5})
    with pytest.raises(ProgramDefinitionError, match="tiers"):
        make_program("X", "threshold", {})
    with pytest.raises(ProgramDefinitionError, match="unknown parameter"):
        make_program("X", "percent_off", {"percent_off": 10, "percent": 5})
    with pytest.raises(PromotionError, match="quantity must be"):
        quote(basket(Line("a", 100, 0)), ME, [MJ], [], AT)


# -- properties -----------------------------------------------------------------------

CATS = ["x", "y", "z"]
lines_st = st.lists(
    st.builds(
        Line,
        sku=st.sampled_from(["a", "b", "c", "d"]),
        unit_price_fen=st.integers(0, 40_000),
        quantity=st.integers(1, 5),
        category=st.sampled_from([*CATS, None]),
    ),
    min_size=1,
    max_size=6,
)


@st.composite
def programs_st(draw: st.DrawFn, stackable: bool | None = None) -> Program:
    kind = draw(st.sampled_from(["threshold", "percent_off", "buy_x_get_y", "coupon"]))
    if kind == "threshold":
        spends = draw(st.lists(st.integers(1, 100_000), min_size=1, max_size=3, unique=True))
        params: dict[str, object] = {"tiers": [[s, draw(st.integers(1, 120_000))] for s in spends]}
    elif kind == "buy_x_get_y":
        params = {
            "buy": draw(st.integers(1, 3)),
            "get": draw(st.integers(1, 2)),
            "get_percent_off": draw(st.sampled_from([50, 100])),
        }
    elif kind == "percent_off" or draw(st.booleans()):
        params = {
            "percent_off": draw(st.integers(1, 100)),
            "min_spend_fen": draw(st.integers(0, 50_000)),
        }
    else:
        params = {
            "amount_off_fen": draw(st.integers(1, 150_000)),
            "min_spend_fen": draw(st.integers(0, 50_000)),
        }
    if kind == "coupon" and "percent_off" not in params and draw(st.booleans()):
        params["max_discount_fen"] = draw(st.integers(1, 10_000))
    categories = draw(st.lists(st.sampled_from(CATS), max_size=2, unique=True))
    return make_program(
        f"{'S' if stackable else 'P'}{draw(st.integers(0, 10**6))}-{kind}",
        kind,
        params,
        scope={"categories": categories},
        stackable=draw(st.booleans()) if stackable is None else stackable,
        priority=draw(st.integers(0, 3)),
    )


def _coupons(programs: list[Program]) -> list[Coupon]:
    return [
        Coupon(f"CODE{i:04d}", p.program_id) for i, p in enumerate(programs) if p.kind == "coupon"
    ]


def _unique(programs: list[Program]) -> list[Program]:
    return list({p.program_id: p for p in programs}.values())


@settings(max_examples=300, deadline=None)
@given(lines=lines_st, programs=st.lists(programs_st(), max_size=6))
def test_prices_stay_between_zero_and_the_basket(
    lines: list[Line], programs: list[Program]
) -> None:
    programs = _unique(programs)
    b = basket(*lines)
    q = quote(b, ME, programs, _coupons(programs), AT)
    assert 0 <= q.discount_fen <= q.gross_fen == b.gross_fen
    assert q.total_fen == q.gross_fen - q.discount_fen
    assert all(0 <= ln.net_fen <= ln.gross_fen for ln in q.lines)
    assert sum(ln.discount_fen for ln in q.lines) == q.discount_fen
    assert sum(a.discount_fen for a in q.applied) == q.discount_fen
    assert all(a.discount_fen > 0 for a in q.applied)
    assert sum(1 for a in q.applied if not a.stackable) <= 1


@settings(max_examples=300, deadline=None)
@given(lines=lines_st, programs=st.lists(programs_st(stackable=False), min_size=1, max_size=6))
def test_without_stacking_the_single_best_offer_wins(
    lines: list[Line], programs: list[Program]
) -> None:
    programs = _unique(programs)
    b = basket(*lines)
    coupons = _coupons(programs)
    alone = [
        quote(b, ME, [p], [c for c in coupons if c.program_id == p.program_id], AT).discount_fen
        for p in programs
    ]
    q = quote(b, ME, programs, coupons, AT)
    assert q.discount_fen == max(alone)
    assert len(q.applied) <= 1


@settings(max_examples=300, deadline=None)
@given(
    lines=lines_st,
    exclusive=st.lists(programs_st(stackable=False), max_size=4),
    stackable=st.lists(programs_st(stackable=True), min_size=1, max_size=4),
)
def test_stackable_offers_only_add(
    lines: list[Line], exclusive: list[Program], stackable: list[Program]
) -> None:
    b = basket(*lines)
    exclusive = _unique(exclusive)
    everything = _unique(exclusive + stackable)
    coupons = _coupons(everything)
    best_alone = quote(b, ME, exclusive, coupons, AT).discount_fen
    q = quote(b, ME, everything, coupons, AT)
    assert best_alone <= q.discount_fen <= q.gross_fen
    applied = {a.program_id for a in q.applied}
    for p in everything:
        if p.stackable and p.program_id not in applied:
            mine = [c for c in coupons if c.program_id == p.program_id]
            # It gives nothing alone, or nothing on what is left after the others.
            alone = quote(b, ME, [p], mine, AT).discount_fen
            reasons = {c.reason for c in [*q.checks, *q.coupons] if c.program_id == p.program_id}
            assert alone == 0 or reasons == {"nothing_left"}, (p, reasons)


@settings(max_examples=150, deadline=None)
@given(lines=lines_st, programs=st.lists(programs_st(), max_size=6), seed=st.integers(0, 99))
def test_the_quote_does_not_depend_on_input_order(
    lines: list[Line], programs: list[Program], seed: int
) -> None:
    programs = _unique(programs)
    coupons = _coupons(programs)
    first = quote(basket(*lines), ME, programs, coupons, AT)
    rng = random.Random(seed)
    rng.shuffle(programs)
    rng.shuffle(coupons)
    assert quote(basket(*lines), ME, programs, coupons, AT) == first
