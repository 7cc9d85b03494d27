"""Bulk enrolment and earns for imports and backfills: the same rows as single calls,
each at its business time, once per key."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select

from storeops.loyalty import (
    IdempotencyConflictError,
    LedgerError,
    PointsLedger,
    PointsPolicy,
    UnknownMemberError,
    enrol,
    trial_balance,
)
from storeops.loyalty.backfill import Earn, NewMember, earn_many, enrol_many
from storeops.loyalty.ledger import entries_sum, member_account
from storeops.loyalty.members import MemberError
from storeops.loyalty.points import lot_totals
from storeops.opsdb.ledger_tables import ledger_accounts, ledger_txns, members, point_lots

T0 = datetime(2025, 9, 1, 3, 0)


def _members(n: int) -> list[NewMember]:
    return [
        NewMember(f"B{i}", T0 + timedelta(days=i), store_id=f"S00{i % 2 + 1}", customer_id=f"C{i}")
        for i in range(n)
    ]


def test_enrol_many_makes_members_and_accounts_once(ops_engine: Engine) -> None:
    enrol(ops_engine, "B0", store_id="S001")  # enrolled before: left as it is
    assert enrol_many(ops_engine, _members(4)) == 3
    assert enrol_many(ops_engine, _members(4)) == 0
    with ops_engine.connect() as con:
        rows = {r.member_id: r for r in con.execute(select(members))}
        accounts = con.execute(
            select(ledger_accounts.c.owner, ledger_accounts.c.asset).where(
                ledger_accounts.c.owner.like("B%")
            )
        ).all()
    assert rows["B0"].enrolled_via == "store"
    assert rows["B2"].enrolled_via == "import" and rows["B2"].created_at == T0 + timedelta(days=2)
    assert rows["B3"].store_id == "S002" and rows["B3"].customer_id == "C3"
    assert sorted(accounts) == sorted(
        (f"B{i}", a) for i in range(4) for a in ("points", "stored_value")
    )
    with pytest.raises(MemberError, match="twice"):
        enrol_many(ops_engine, [*_members(1), *_members(1)])
    with pytest.raises(MemberError, match="channel"):
        enrol_many(ops_engine, [NewMember("B9", T0, via="fax")])


def test_earn_many_posts_like_single_earns(ops_engine: Engine) -> None:
    enrol_many(ops_engine, _members(3))
    book = PointsLedger(ops_engine, PointsPolicy(expiry_days=30))
    single = book.earn("B2", 70, key="one", reference="O0", at=T0)
    earns = [
        Earn("B0", 100, T0 + timedelta(days=1), "k1", "O1"),
        Earn("B1", 40, T0 + timedelta(days=2), "k2", "O2"),
        Earn("B0", 25, T0 + timedelta(days=3), "k3", "O3"),
    ]
    done = earn_many(book, earns)
    assert (done.posted, done.skipped, done.points) == (3, 0, 165)
    assert book.balance("B0") == 125 and book.balance("B1") == 40
    assert trial_balance(ops_engine) == {"points": 0}
    with ops_engine.connect() as con:
        for m in ("B0", "B1", "B2"):
            acc = member_account(con, m, "points")
            assert entries_sum(con, acc) == book.balance(m) == lot_totals(ops_engine, m)
        txns = con.execute(select(ledger_txns).where(ledger_txns.c.idempotency_key == "k3")).one()
        lot = con.execute(select(point_lots).where(point_lots.c.txn_id == txns.txn_id)).one()
    # the business time, not the clock, on the transaction and the lot
    assert txns.created_at == T0 + timedelta(days=3) and txns.kind == "points_earn"
    assert lot.expires_at == T0 + timedelta(days=33) and lot.remaining == 25
    # the stored answer has the single earn's shape, and a single earn replays it
    assert set(txns.result) == set(single)
    assert txns.result["balance"] == 125 and txns.result["lot_id"] == lot.lot_id
    again = book.earn("B0", 25, key="k3", reference="O3", at=T0 + timedelta(days=3))
    assert again == txns.result
    assert book.balance("B0") == 125
    # redemptions after the backfill take its lots, earliest expiry first
    book.redeem("B0", 110, key="r1", at=T0 + timedelta(days=20))
    assert book.balance("B0") == 15 == lot_totals(ops_engine, "B0")


def test_earn_many_is_once_per_key_and_all_or_nothing(ops_engine: Engine) -> None:
    enrol_many(ops_engine, _members(2))
    book = PointsLedger(ops_engine)
    batch = [Earn("B0", 10, T0, "a"), Earn("B1", 20, T0, "b")]
    earn_many(book, batch)
    again = earn_many(book, [*batch, Earn("B1", 5, T0, "c")])
    assert (again.posted, again.skipped, again.points) == (1, 2, 5)
    assert book.balance("B1") == 25
    with pytest.raises(IdempotencyConflictError):
        earn_many(book, [Earn("B0", 11, T0, "a")])
    with pytest.raises(UnknownMemberError):
        earn_many(book, [Earn("B0", 1, T0, "d"), Earn("NOBODY", 1, T0, "e")])
    with pytest.raises(LedgerError, match="twice"):
        earn_many(book, [Earn("B0", 1, T0, "f"), Earn("B0", 1, T0, "f")])
    with pytest.raises(LedgerError, match="positive"):
        earn_many(book, [Earn("B0", 0, T0, "g")])
    with ops_engine.connect() as con:  # the refused batches wrote nothing
        keys = set(con.execute(select(ledger_txns.c.idempotency_key)).scalars())
        lots = con.execute(select(func.count()).select_from(point_lots)).scalar_one()
    assert keys == {"a", "b", "c"} and lots == 3
    assert book.balance("B0") == 10 and trial_balance(ops_engine) == {"points": 0}
