"""The coupon race shared by the tests and ``bench/bench_coupon_race.py``: many
terminals redeem one single-use coupon at the same moment, trial after trial."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select

from storeops.opsdb.promotion_tables import coupon_redemptions, coupons
from storeops.promotions import (
    Basket,
    CouponAlreadyRedeemedError,
    Line,
    PromotionService,
    make_program,
)

AT = datetime(2026, 6, 1, 12)
BASKET = Basket((Line("sku", 20_000, 1, "tops"),), store_id="S1", channel="store")


class Racer:
    """A pool of ``n`` threads that start each batch of calls at the same moment."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.pool = ThreadPoolExecutor(n)

    def race(self, calls: list[Callable[[], Any]]) -> list[Any]:
        """Results, or the exception each call raised, in call order."""
        gate = threading.Barrier(len(calls))

        def run(call: Callable[[], Any]) -> Any:
            gate.wait()
            try:
                return call()
            except Exception as exc:  # collected and checked by the caller
                return exc

        return list(self.pool.map(run, calls))

    def close(self) -> None:
        self.pool.shutdown()

    def __enter__(self) -> Racer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class RaceFigures:
    trials: int = 0
    terminals: int = 0
    successes_per_trial: list[int] = field(default_factory=list)
    refused: int = 0
    #: Of the refused, how many lost at the conditional UPDATE itself (they had read the
    #: coupon as issued: a real race) rather than reading it already redeemed.
    lost_at_update: int = 0
    other_errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def violations(self) -> int:
        return sum(1 for s in self.successes_per_trial if s != 1) + len(self.other_errors)


def single_use_race(engine: Engine, racer: Racer, trials: int, *, tag: str = "") -> RaceFigures:
    """``trials`` coupons, each redeemed by ``racer.n`` terminals at once."""
    svc = PromotionService(engine)
    program = f"RACE{tag}"
    svc.create_program(make_program(program, "coupon", {"amount_off_fen": 1_000}))
    codes = svc.issue_coupons(program, trials, key=f"race-batch{tag}", at=AT)["codes"]
    figures = RaceFigures(trials=trials, terminals=racer.n)
    started = time.perf_counter()
    for t, code in enumerate(codes):
        calls: list[Callable[[], Any]] = [
            lambda t=t, i=i, code=code: svc.redeem(
                code, order_id=f"T{t}-POS{i}", basket=BASKET, key=f"{tag}{t}-pos{i}", at=AT
            )
            for i in range(racer.n)
        ]
        results = racer.race(calls)
        figures.successes_per_trial.append(sum(isinstance(r, dict) for r in results))
        refused = [r for r in results if isinstance(r, CouponAlreadyRedeemedError)]
        figures.refused += len(refused)
        figures.lost_at_update += sum("was redeemed already" in str(r) for r in refused)
        figures.other_errors += [
            repr(r)
            for r in results
            if isinstance(r, Exception) and not isinstance(r, CouponAlreadyRedeemedError)
        ]
    figures.seconds = time.perf_counter() - started
    # The database agrees: one live redemption per coupon, the program counted each once.
    with engine.connect() as con:
        live = con.execute(
            select(coupon_redemptions.c.coupon_id, func.count())
            .where(coupon_redemptions.c.voided_at.is_(None))
            .where(coupon_redemptions.c.program_id == program)
            .group_by(coupon_redemptions.c.coupon_id)
        ).all()
        redeemed = con.execute(
            select(func.count())
            .select_from(coupons)
            .where(coupons.c.program_id == program, coupons.c.status == "redeemed")
        ).scalar_one()
    if sorted(n for _, n in live) != [1] * trials or redeemed != trials:
        figures.other_errors.append(f"database: live={live!r} redeemed={redeemed}")
    if svc.program(program).uses != trials:
        figures.other_errors.append(f"program uses {svc.program(program).uses} != {trials}")
    return figures
