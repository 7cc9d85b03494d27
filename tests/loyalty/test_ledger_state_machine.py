"""A stateful property test of the value ledger: random sequences of earn, redeem,
refund, expire, top-up, spend and retries, checked after every step against a plain
Python model and the ledger's invariants."""

from __future__ import annotations

import json
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from sqlalchemy import Engine, func, select
from tests.ops_engines import new_engine

from storeops.loyalty import (
    InsufficientBalanceError,
    LedgerError,
    PointsLedger,
    PointsPolicy,
    StoredValue,
    enrol,
    trial_balance,
)
from storeops.loyalty.ledger import entries_sum
from storeops.loyalty.points import lot_totals
from storeops.opsdb.ledger_tables import ledger_accounts, point_lot_uses, point_lots

MEMBERS = ("A", "B")
T0 = datetime(2026, 1, 1)


class LedgerMachine(RuleBasedStateMachine):
    backend = "sqlite"

    @initialize()
    def start(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="ledger-sm-"))
        self.engine: Engine = new_engine(self.backend, self.tmp)
        for m in MEMBERS:
            enrol(self.engine, m)
        self.points = PointsLedger(self.engine, PointsPolicy(expiry_days=10))
        self.sv = StoredValue(self.engine)
        self.now = T0
        self.keys = 0
        self.orders: dict[str, tuple[str, int]] = {}  # order -> (member, fen)
        self.refunded: dict[str, int] = {}
        self.sv_spent: dict[str, tuple[str, int]] = {}  # reference -> (member, net fen)
        self.sv_balance = dict.fromkeys(MEMBERS, 0)
        self.earns: dict[str, tuple[str, int, str, dict[str, object]]] = {}

    def teardown(self) -> None:
        if hasattr(self, "engine"):
            self.engine.dispose()

    def _key(self) -> str:
        self.keys += 1
        return f"k{self.keys}"

    @rule(member=st.sampled_from(MEMBERS), points=st.integers(1, 500), fen=st.integers(1, 10**6))
    def earn(self, member: str, points: int, fen: int) -> None:
        order = f"O{len(self.orders)}"
        key = self._key()
        answer = self.points.earn(member, points, key=key, reference=order, at=self.now)
        self.earns[key] = (member, points, order, answer)
        self.orders[order] = (member, fen)

    @rule(member=st.sampled_from(MEMBERS), points=st.integers(1, 800))
    def redeem(self, member: str, points: int) -> None:
        before = self.points.balance(member)
        try:
            self.points.redeem(member, points, key=self._key(), at=self.now)
        except InsufficientBalanceError:
            assert self.points.balance(member) == before
        else:
            assert self.points.balance(member) == before - points

    @rule(data=st.data())
    def refund(self, data: st.DataObject) -> None:
        if not self.orders:
            return
        order = data.draw(st.sampled_from(sorted(self.orders)))
        member, fen = self.orders[order]
        left = fen - self.refunded.get(order, 0)
        if left <= 0:
            return
        amount = data.draw(st.integers(1, left))
        self.points.refund(member, order_id=order, refund_id=self._key(), refund_fen=amount,
                           order_fen=fen)  # fmt: skip
        self.refunded[order] = self.refunded.get(order, 0) + amount

    @rule(days=st.integers(0, 6))
    def time_passes_and_expiry_runs(self, days: int) -> None:
        self.now += timedelta(days=days)
        first = self.points.expire(self.now)
        assert self.points.expire(self.now) == {"lots": 0, "points": 0}
        assert first["points"] >= 0

    @rule(member=st.sampled_from(MEMBERS), fen=st.sampled_from([100, 49_999, 50_000, 100_000]))
    def top_up(self, member: str, fen: int) -> None:
        out = self.sv.top_up(member, fen, key=self._key())
        self.sv_balance[member] += fen + int(out["bonus_fen"])

    @rule(member=st.sampled_from(MEMBERS), fen=st.integers(1, 120_000))
    def spend(self, member: str, fen: int) -> None:
        ref = f"S{self.keys}"
        try:
            self.sv.spend(member, fen, key=self._key(), reference=ref)
        except InsufficientBalanceError:
            assert self.sv_balance[member] < fen
        else:
            self.sv_balance[member] -= fen
            self.sv_spent[ref] = (member, fen)

    @rule(data=st.data())
    def sv_refund(self, data: st.DataObject) -> None:
        if not self.sv_spent:
            return
        ref = data.draw(st.sampled_from(sorted(self.sv_spent)))
        member, net = self.sv_spent[ref]
        amount = data.draw(st.integers(1, net + 10))
        try:
            self.sv.refund(member, amount, key=self._key(), reference=ref)
        except LedgerError:
            assert amount > net
        else:
            self.sv_spent[ref] = (member, net - amount)
            self.sv_balance[member] += amount

    @rule(data=st.data())
    def retry_an_earlier_earn(self, data: st.DataObject) -> None:
        if not self.earns:
            return
        key = data.draw(st.sampled_from(sorted(self.earns)))
        member, points, order, first = self.earns[key]
        before = self.points.balance(member)
        again = self.points.earn(member, points, key=key, reference=order, at=self.now)
        assert json.dumps(again) == json.dumps(first)
        assert self.points.balance(member) == before

    @invariant()
    def books_balance(self) -> None:
        if not hasattr(self, "engine"):
            return
        tb = trial_balance(self.engine)
        assert all(v == 0 for v in tb.values()), tb
        with self.engine.connect() as con:
            accounts = con.execute(
                select(ledger_accounts.c.account_id, ledger_accounts.c.owner,
                       ledger_accounts.c.asset, ledger_accounts.c.balance)
            ).all()  # fmt: skip
            for acc, owner, _asset, cached in accounts:
                if owner != "system":
                    assert cached >= 0
                    assert cached == entries_sum(con, acc)
            used = dict(
                con.execute(
                    select(point_lot_uses.c.lot_id, func.sum(point_lot_uses.c.points)).group_by(
                        point_lot_uses.c.lot_id
                    )
                ).all()
            )
            for lot_id, pts, remaining in con.execute(
                select(point_lots.c.lot_id, point_lots.c.points, point_lots.c.remaining)
            ).all():
                assert 0 <= remaining <= pts
                assert int(used.get(lot_id, 0)) == pts - remaining  # no lot used twice
        for m in MEMBERS:
            assert self.points.balance(m) == lot_totals(self.engine, m)
            assert self.sv.balance(m) == self.sv_balance[m]


LedgerMachine.TestCase.settings = settings(
    max_examples=40,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_ledger_state_machine_sqlite = LedgerMachine.TestCase


class PostgresLedgerMachine(LedgerMachine):
    backend = "postgresql"


PostgresLedgerMachine.TestCase.settings = settings(
    max_examples=12,
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_ledger_state_machine_postgresql = pytest.mark.slow(PostgresLedgerMachine.TestCase)
