"""A hypothesis state machine over coupon issue, redeem, commit, void, void-order and
retries, against a plain Python model: after every step each coupon has at most one
live redemption and its status agrees, program and customer usage equal the live
redemptions, the budget is never exceeded, and retries replay the first answer."""

from __future__ import annotations

import itertools
import json
import shutil
import tempfile
from functools import partial
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from sqlalchemy import func, select
from tests.ops_engines import new_engine
from tests.promotions.coupon_race import AT, BASKET

from storeops.opsdb.promotion_tables import coupon_redemptions, coupons
from storeops.promotions import (
    AlreadyVoidedError,
    CouponAlreadyRedeemedError,
    LimitReachedError,
    PromotionService,
    make_program,
)

BUDGET, OFF, LIMIT = 9_000, 1_000, 3
CUSTOMERS = ["C1", "C2", None]


class CouponMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="storeops-coupon-sm-"))
        self.engine = new_engine("sqlite", self.folder)
        self.svc = PromotionService(self.engine)
        self.svc.create_program(
            make_program(
                "P", "coupon", {"amount_off_fen": OFF}, budget_fen=BUDGET, per_customer_limit=LIMIT
            )
        )
        self.svc.create_program(make_program("A", "coupon", {"amount_off_fen": OFF}))
        self.codes: list[str] = []
        self.program_of: dict[str, str] = {}
        # model: code -> live redemption id; redemption id -> (code, program, customer)
        self.live: dict[str, int] = {}
        self.redemptions: dict[int, tuple[str, str, str | None]] = {}
        self.answers: dict[str, tuple[Any, dict[str, Any]]] = {}
        self.keys = itertools.count()

    def teardown(self) -> None:
        self.engine.dispose()
        shutil.rmtree(self.folder, ignore_errors=True)

    def _remember(self, key: str, call: Any, answer: dict[str, Any]) -> None:
        self.answers[key] = (call, answer)

    @rule(program=st.sampled_from(["P", "A"]), n=st.integers(1, 3))
    def issue(self, program: str, n: int) -> None:
        key = f"i{next(self.keys)}"
        made = self.svc.issue_coupons(program, n, key=key, at=AT)
        self.codes += made["codes"]
        self.program_of.update({c: program for c in made["codes"]})
        self._remember(
            key, lambda p=program, n=n, k=key: self.svc.issue_coupons(p, n, key=k, at=AT), made
        )

    def _uses(self, program: str, customer: str | None = None) -> int:
        return sum(
            1
            for rid in self.live.values()
            if self.redemptions[rid][1] == program
            and (customer is None or self.redemptions[rid][2] == customer)
        )

    @precondition(lambda self: self.codes)
    @rule(data=st.data(), customer=st.sampled_from(CUSTOMERS))
    def redeem(self, data: st.DataObject, customer: str | None) -> None:
        code = data.draw(st.sampled_from(self.codes))
        program = self.program_of[code]
        key = f"r{next(self.keys)}"
        call = partial(
            self.svc.redeem,
            code,
            order_id=key,
            basket=BASKET,
            key=key,
            customer_id=customer,
            at=AT,
        )
        expected_ok = code not in self.live
        if expected_ok and program == "P":
            expected_ok = (
                customer is not None
                and self._uses("P", customer) < LIMIT
                and (self._uses("P") + 1) * OFF <= BUDGET
            )
        try:
            done = call()
        except CouponAlreadyRedeemedError:
            assert code in self.live
            return
        except LimitReachedError:
            assert not expected_ok and code not in self.live
            return
        assert expected_ok, (code, customer)
        self.live[code] = done["redemption_id"]
        self.redemptions[done["redemption_id"]] = (code, program, customer)
        self._remember(key, call, done)

    @precondition(lambda self: self.redemptions)
    @rule(data=st.data())
    def void(self, data: st.DataObject) -> None:
        rid = data.draw(st.sampled_from(sorted(self.redemptions)))
        code = self.redemptions[rid][0]
        key = f"v{next(self.keys)}"
        call = partial(self.svc.void, rid, key=key, at=AT)
        try:
            done = call()
        except AlreadyVoidedError:
            assert self.live.get(code) != rid
            return
        assert self.live.pop(code) == rid
        assert done["restored_fen"] == OFF
        self._remember(key, call, done)

    @precondition(lambda self: self.redemptions)
    @rule(data=st.data())
    def void_order(self, data: st.DataObject) -> None:
        rid = data.draw(st.sampled_from(sorted(self.redemptions)))
        order = next(
            k
            for k, (_, a) in self.answers.items()
            if isinstance(a, dict) and a.get("redemption_id") == rid and k.startswith("r")
        )
        code = self.redemptions[rid][0]
        was_live = self.live.get(code) == rid
        done = self.svc.void_order(order, key=f"vo{next(self.keys)}", at=AT)
        assert [v["redemption_id"] for v in done["voided"]] == ([rid] if was_live else [])
        if was_live:
            del self.live[code]

    @precondition(lambda self: self.answers)
    @rule(data=st.data())
    def retry(self, data: st.DataObject) -> None:
        key = data.draw(st.sampled_from(sorted(self.answers)))
        call, first = self.answers[key]
        assert json.dumps(call()) == json.dumps(first)

    @invariant()
    def database_matches_the_model(self) -> None:
        with self.engine.connect() as con:
            live = dict(
                con.execute(
                    select(coupons.c.code, coupons.c.redemption_id).where(
                        coupons.c.status == "redeemed"
                    )
                ).all()
            )
            count = con.execute(
                select(func.count())
                .select_from(coupon_redemptions)
                .where(coupon_redemptions.c.voided_at.is_(None))
            ).scalar_one()
        assert live == self.live
        assert count == len(self.live)
        for program in ("P", "A"):
            stored = self.svc.program(program)
            assert stored.uses == self._uses(program)
            assert (
                stored.spent_fen
                == self._uses(program) * OFF
                <= (BUDGET if program == "P" else 10**9)
            )


CouponMachine.TestCase.settings = settings(
    max_examples=40,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestCoupons = CouponMachine.TestCase
