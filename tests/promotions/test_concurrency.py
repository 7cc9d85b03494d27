"""Coupons under concurrency, on PostgreSQL (READ COMMITTED, its default) and SQLite:
100 terminals redeem one single-use coupon at once → exactly one wins, trial after
trial; interleaved redeems and voids keep usage equal to the live redemptions; budgets,
total uses and per-customer limits are never exceeded; every mutation sent 5 times
(at once, and one after another) has one effect and five byte-identical answers.

Trials: ``STOREOPS_COUPON_TRIALS`` (default 50 per database);
``bench/bench_coupon_race.py`` runs 1,000.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from tests.ops_engines import pooled_engine
from tests.promotions.coupon_race import AT, BASKET, Racer, single_use_race

from storeops.opsdb.promotion_tables import (
    coupon_redemptions,
    coupons,
    promotion_programs,
    promotion_usage,
)
from storeops.promotions import (
    AlreadyVoidedError,
    Basket,
    CouponAlreadyRedeemedError,
    LimitReachedError,
    Line,
    PromotionService,
    make_program,
)

TERMINALS = 100
DEFAULT_TRIALS = 50


@pytest.fixture(params=["sqlite", "postgresql"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def pooled(kind: str, tmp_path: Path) -> Iterator[Engine]:
    engine = pooled_engine(kind, tmp_path, TERMINALS)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def racer() -> Iterator[Racer]:
    with Racer(TERMINALS) as r:
        yield r


def test_one_single_use_coupon_raced_by_100_terminals_is_redeemed_once(
    pooled: Engine, racer: Racer, kind: str
) -> None:
    trials = int(os.environ.get("STOREOPS_COUPON_TRIALS", DEFAULT_TRIALS))
    figures = single_use_race(pooled, racer, trials)
    print(
        f"\n{kind}: {figures.trials} trials x {figures.terminals} terminals: "
        f"successes per trial {set(figures.successes_per_trial)}, refused {figures.refused} "
        f"({figures.lost_at_update} at the conditional update), "
        f"{figures.seconds:.1f} s"
    )
    assert figures.other_errors == []
    assert figures.successes_per_trial == [1] * trials
    assert figures.refused == trials * (TERMINALS - 1)


def _live_invariants(engine: Engine, program: str) -> None:
    """Usage = live redemptions: per coupon, per customer and for the program."""
    r, c = coupon_redemptions.c, coupons.c
    with engine.connect() as con:
        live = con.execute(
            select(r.redemption_id, r.coupon_id, r.customer_id, r.discount_fen).where(
                r.voided_at.is_(None), r.program_id == program
            )
        ).all()
        rows = con.execute(
            select(c.coupon_id, c.status, c.redemption_id).where(c.program_id == program)
        ).all()
        stored = con.execute(
            select(promotion_programs.c.uses, promotion_programs.c.spent_fen).where(
                promotion_programs.c.program_id == program
            )
        ).one()
        usage = dict(
            con.execute(
                select(promotion_usage.c.customer_id, promotion_usage.c.uses).where(
                    promotion_usage.c.program_id == program
                )
            ).all()
        )
    by_coupon: dict[int, list[int]] = {}
    for rid, cid, _, _ in live:
        by_coupon.setdefault(cid, []).append(rid)
    for cid, status, current in rows:
        mine = by_coupon.get(cid, [])
        assert len(mine) <= 1, f"coupon {cid} has {len(mine)} live redemptions"
        if mine:
            assert (status, current) == ("redeemed", mine[0])
        else:
            assert (status, current) == ("issued", None)
    counters = (len(live), sum(d for *_, d in live))
    prog = PromotionService(engine).program(program)
    assert (prog.uses, prog.spent_fen) == counters
    if prog.budget_fen is None and prog.max_uses is None:
        # An unlimited program keeps no counters in its row (nothing for its orders to
        # queue on); they are counted from the live redemptions when read.
        assert tuple(stored) == (0, 0)
    else:
        assert tuple(stored) == counters
    per_customer: dict[str, int] = {}
    for _, _, customer, _ in live:
        if customer is None:
            continue
        per_customer[customer] = per_customer.get(customer, 0) + 1
    assert {k: v for k, v in usage.items() if v} == per_customer


def test_interleaved_redeems_and_voids_keep_usage_equal_to_live_redemptions(
    pooled: Engine, racer: Racer
) -> None:
    svc = PromotionService(pooled)
    svc.create_program(make_program("RV", "coupon", {"amount_off_fen": 500}))
    codes = svc.issue_coupons("RV", 6, key="rv", at=AT)["codes"]
    rng = random.Random(7)
    known: list[int] = []
    outcomes: dict[str, int] = {}
    for rnd in range(8):
        calls: list[Callable[[], Any]] = []
        for i in range(40):
            if known and rng.random() < 0.45:
                rid = rng.choice(known)
                calls.append(lambda rid=rid, k=f"v{rnd}-{i}": svc.void(rid, key=k, at=AT))
            else:
                code, who = rng.choice(codes), f"C{rng.randrange(3)}"
                calls.append(
                    lambda code=code, who=who, k=f"r{rnd}-{i}": svc.redeem(
                        code, order_id=k, basket=BASKET, key=k, customer_id=who, at=AT
                    )
                )
        for result in racer.race(calls):
            name = type(result).__name__
            outcomes[name] = outcomes.get(name, 0) + 1
            if isinstance(result, dict) and "discount_fen" in result:
                known.append(result["redemption_id"])
            elif isinstance(result, Exception):
                assert isinstance(result, CouponAlreadyRedeemedError | AlreadyVoidedError), result
        _live_invariants(pooled, "RV")
    assert outcomes.get("dict", 0) > 10, outcomes


def test_budget_and_limits_hold_under_concurrency(pooled: Engine, racer: Racer) -> None:
    svc = PromotionService(pooled)
    svc.create_program(make_program("BUD", "coupon", {"amount_off_fen": 3_000}, budget_fen=10_000))
    svc.create_program(make_program("USE", "coupon", {"amount_off_fen": 100}, max_uses=7))
    svc.create_program(make_program("PER", "coupon", {"amount_off_fen": 100}, per_customer_limit=2))
    bud = svc.issue_coupons("BUD", 40, key="bud", at=AT)["codes"]
    use = svc.issue_coupons("USE", 30, key="use", at=AT)["codes"]
    per = svc.issue_coupons("PER", 30, key="per", at=AT)["codes"]

    def redeem_all(codes: list[str], tag: str, customer: Callable[[int], str | None]) -> list[Any]:
        return racer.race(
            [
                lambda i=i, code=code: svc.redeem(
                    code,
                    order_id=f"{tag}{i}",
                    basket=BASKET,
                    key=f"{tag}{i}",
                    customer_id=customer(i),
                    at=AT,
                )
                for i, code in enumerate(codes)
            ]
        )

    def tally(results: list[Any]) -> int:
        assert all(isinstance(r, dict | LimitReachedError) for r in results), results
        return sum(isinstance(r, dict) for r in results)

    assert tally(redeem_all(bud, "b", lambda i: None)) == 10_000 // 3_000 == 3
    assert tally(redeem_all(use, "u", lambda i: None)) == 7
    # 30 terminals, 3 customers (10 each), a limit of 2 per customer → 6 succeed
    assert tally(redeem_all(per, "p", lambda i: f"C{i % 3}")) == 6
    assert (svc.program("BUD").spent_fen, svc.program("USE").uses) == (9_000, 7)
    for program in ("BUD", "USE", "PER"):
        _live_invariants(pooled, program)


def test_racing_order_commits_never_overspend_an_automatic_budget(
    pooled: Engine, racer: Racer
) -> None:
    """30 tills commit 满200减40 orders at once against a budget of 5 discounts: exactly 5
    get it; an order that lost the race at the budget's conditional update is refused
    whole (the till quotes again) and records nothing."""
    svc = PromotionService(pooled)
    svc.create_program(
        make_program("MJ", "threshold", {"tiers": [[20_000, 4_000]]}, budget_fen=20_000)
    )
    svc.create_program(make_program("C1", "coupon", {"amount_off_fen": 100}, stackable=True))
    [code] = svc.issue_coupons("C1", 1, key="c1", at=AT)["codes"]
    results = racer.race(
        [
            lambda i=i: svc.commit_order(
                BASKET, order_id=f"O{i}", key=f"k{i}", codes=[code] if i % 2 else [], at=AT
            )
            for i in range(30)
        ]
    )
    ok = [r for r in results if isinstance(r, dict)]
    assert all(
        isinstance(r, dict | LimitReachedError | CouponAlreadyRedeemedError) for r in results
    ), results
    # Orders that read the budget as spent commit without MJ; those that raced for its
    # last fen and lost at the conditional update are refused whole.
    assert sum(1 for r in ok for x in r["redemptions"] if x["program_id"] == "MJ") == 5
    assert sum(1 for r in ok for x in r["redemptions"] if x["coupon_code"] == code) <= 1
    assert svc.program("MJ").spent_fen == 20_000
    _live_invariants(pooled, "MJ")
    _live_invariants(pooled, "C1")
    voided = racer.race(
        [lambda r=r: svc.void_order(r["order_id"], key=f"v{r['order_id']}", at=AT) for r in ok] * 3
    )
    assert all(isinstance(v, dict) for v in voided), voided
    assert svc.program("MJ").spent_fen == 0
    _live_invariants(pooled, "MJ")
    _live_invariants(pooled, "C1")


def _effects(engine: Engine) -> tuple[int, int]:
    with engine.connect() as con:
        return (
            int(con.execute(select(func.count()).select_from(coupons)).scalar_one()),
            int(
                con.execute(
                    select(func.count())
                    .select_from(coupon_redemptions)
                    .where(coupon_redemptions.c.voided_at.is_(None))
                ).scalar_one()
            ),
        )


@pytest.mark.parametrize("mode", ["concurrent", "sequential"])
def test_every_mutation_sent_five_times_has_one_effect_and_one_answer(
    pooled: Engine, racer: Racer, mode: str
) -> None:
    svc = PromotionService(pooled)
    svc.create_program(make_program("C", "coupon", {"amount_off_fen": 1_000}))
    svc.create_program(make_program("NEXT", "next_order", {"amount_off_fen": 2_000}))

    def five(call: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        answers = racer.race([call] * 5) if mode == "concurrent" else [call() for _ in range(5)]
        assert all(isinstance(a, dict) for a in answers), answers
        assert len({json.dumps(a, sort_keys=False) for a in answers}) == 1, answers
        return answers[0]

    issued = five(lambda: svc.issue_coupons("C", 4, key="issue", at=AT))
    assert issued["count"] == 4 and _effects(pooled) == (4, 0)
    five(lambda: svc.import_codes("C", ["IMP00001", "IMP00002"], key="import", at=AT))
    assert _effects(pooled) == (6, 0)
    code = issued["codes"][0]
    done = five(lambda: svc.redeem(code, order_id="O1", basket=BASKET, key="redeem", at=AT))
    assert _effects(pooled) == (6, 1)
    five(lambda: svc.void(done["redemption_id"], key="void", at=AT))
    assert _effects(pooled) == (6, 0) and svc.coupon(code)["status"] == "issued"
    online = Basket((Line("a", 30_000),), store_id="W", channel="online")
    earned = five(lambda: svc.issue_next_order(online, order_id="W1", customer_id="C1", at=AT))
    assert len(earned["coupons"]) == 1 and _effects(pooled) == (7, 0)
    svc.create_program(make_program("MJ", "threshold", {"tiers": [[100, 10]]}, stackable=True))
    committed = five(
        lambda: svc.commit_order(
            BASKET, order_id="O2", key="commit", codes=[issued["codes"][1]], at=AT
        )
    )
    assert len(committed["redemptions"]) == 2 and _effects(pooled) == (7, 2)
    five(lambda: svc.void_order("O2", key="void-order", at=AT))
    assert _effects(pooled) == (7, 0)
    assert svc.program("C").uses == 0
