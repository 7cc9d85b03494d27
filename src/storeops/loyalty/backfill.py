"""Bulk paths for imports and backfills: many members and many earns, each at its own
business time.

Every ledger operation takes ``at``, the business time it happened, and stores it as
its transaction's ``created_at`` (the KPI layer's liabilities read the ledger by that
day). One call is one database transaction, a few milliseconds: fine at a till, too
slow to load a year of history. These functions do the same writes for a whole batch
in one database transaction:

- :func:`enrol_many` — members and their point and stored-value accounts, as
  :func:`~storeops.loyalty.members.enrol` makes them (no personal data; members
  already enrolled are left as they are);
- :func:`earn_many` — earns as :meth:`PointsLedger.earn
  <storeops.loyalty.points.PointsLedger.earn>` posts them: one ``points_earn``
  transaction per earn with its idempotency key, its business time, two entries
  (member balance, ``issued``) summing to 0, a lot expiring ``expiry_days`` after
  ``at``, and the same stored answer — so a later ``earn`` with the same key replays
  it, and a different request under that key is refused.

The invariants hold as for single calls: entries sum to 0 per transaction, each
member's cached balance moves by exactly their entries, lots hold the balance, and a
key is used once (keys already posted with the same request are skipped). Post a
backfill in time order, before later operations of the same members: a redemption
takes the earliest-expiring lots that exist when it runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, bindparam, insert, select, update

from storeops.loyalty.ledger import (
    IdempotencyConflictError,
    LedgerError,
    UnknownMemberError,
    request_hash,
    require_positive,
)
from storeops.loyalty.members import ASSETS, CHANNELS, MemberError
from storeops.loyalty.points import EARN, PointsLedger
from storeops.opsdb.ledger_tables import (
    ledger_accounts,
    ledger_entries,
    ledger_txns,
    members,
    point_lots,
)

#: Rows per ``IN (…)`` lookup.
_CHUNK = 900


@dataclass(frozen=True)
class NewMember:
    """A member to enrol: id, home store, warehouse customer and enrolment time."""

    member_id: str
    enrolled_at: datetime
    store_id: str | None = None
    customer_id: str | None = None
    tier: str = "standard"
    via: str = "import"


@dataclass(frozen=True)
class Earn:
    """Points earned at business time ``at`` (usually for the order ``reference``)."""

    member_id: str
    points: int
    at: datetime
    key: str
    reference: str | None = None


@dataclass(frozen=True)
class EarnBatch:
    """What :func:`earn_many` did: earns posted, earns skipped (posted before with the
    same key and request), points posted."""

    posted: int
    skipped: int
    points: int


def _chunks(values: Sequence[str]) -> list[Sequence[str]]:
    return [values[i : i + _CHUNK] for i in range(0, len(values), _CHUNK)]


def enrol_many(engine: Engine, new: Sequence[NewMember]) -> int:
    """Enrol ``new`` members with their accounts in one transaction; members already
    enrolled are skipped. Returns how many were enrolled."""
    ids = [m.member_id for m in new]
    if len(set(ids)) != len(ids):
        raise MemberError("a member id appears twice in the batch; enrol each member once")
    for m in new:
        if not m.member_id or len(m.member_id) > 64:
            raise MemberError(f"member id {m.member_id!r} must have 1 to 64 characters")
        if m.via not in CHANNELS:
            raise MemberError(f"unknown enrolment channel {m.via!r}; one of {', '.join(CHANNELS)}")
    acct = ledger_accounts.c
    with engine.begin() as con:
        known: set[str] = set()
        for part in _chunks(ids):
            known |= set(
                con.execute(select(members.c.member_id).where(members.c.member_id.in_(part)))
                .scalars()
                .all()
            )
        fresh = [m for m in new if m.member_id not in known]
        if fresh:
            con.execute(
                insert(members),
                [
                    {
                        "member_id": m.member_id,
                        "customer_id": m.customer_id,
                        "store_id": m.store_id,
                        "tier": m.tier,
                        "enrolled_via": m.via,
                        "created_at": m.enrolled_at,
                        "tier_since": m.enrolled_at,
                    }
                    for m in fresh
                ],
            )
        have: set[tuple[str, str]] = set()
        for part in _chunks(ids):
            rows = con.execute(
                select(acct.owner, acct.asset).where(
                    acct.owner.in_(part), acct.purpose == "balance"
                )
            ).all()
            have |= {(str(o), str(a)) for o, a in rows}
        accounts = [
            {"owner": i, "asset": asset, "purpose": "balance"}
            for i in ids
            for asset in ASSETS
            if (i, asset) not in have
        ]
        if accounts:
            con.execute(insert(ledger_accounts), accounts)
    return len(fresh)


def earn_many(ledger: PointsLedger, earns: Sequence[Earn]) -> EarnBatch:
    """Post ``earns`` (module doc) in one database transaction, in the given order;
    all or nothing. Raises :class:`UnknownMemberError` for a member not enrolled and
    :class:`IdempotencyConflictError` for a key used before by another request."""
    keys = [e.key for e in earns]
    if len(set(keys)) != len(keys):
        raise LedgerError("an idempotency key appears twice in the batch; one key per earn")
    digests: dict[str, str] = {}
    for e in earns:
        require_positive(e.points, "points to earn")
        if not e.key or len(e.key) > 160:
            raise LedgerError("an idempotency key of 1 to 160 characters is required")
        payload = {"member_id": e.member_id, "points": e.points, "reference": e.reference}
        digests[e.key] = request_hash(EARN, payload)
    acct, txn = ledger_accounts.c, ledger_txns.c
    with ledger.engine.begin() as con:
        done: dict[str, str] = {}
        for part in _chunks(keys):
            rows = con.execute(
                select(txn.idempotency_key, txn.request_hash).where(txn.idempotency_key.in_(part))
            ).all()
            done |= {str(k): str(h) for k, h in rows}
        for key, digest in done.items():
            if digest != digests[key]:
                raise IdempotencyConflictError(
                    f"idempotency key {key!r} was already used for a different request; "
                    "use a new key for a new operation"
                )
        todo = [e for e in earns if e.key not in done]
        if not todo:
            return EarnBatch(posted=0, skipped=len(earns), points=0)
        member_ids = sorted({e.member_id for e in todo})
        accounts: dict[str, tuple[int, int]] = {}
        for part in _chunks(member_ids):
            found = con.execute(
                select(acct.owner, acct.account_id, acct.balance).where(
                    acct.owner.in_(part), acct.asset == "points", acct.purpose == "balance"
                )
            ).all()
            accounts |= {str(o): (int(a), int(b)) for o, a, b in found}
        missing = [m for m in member_ids if m not in accounts]
        if missing:
            raise UnknownMemberError(
                f"no member {missing[0]!r} ({len(missing)} unknown); enrol the members first"
            )
        txn_ids = [
            int(r.txn_id)
            for r in con.execute(
                insert(ledger_txns).returning(ledger_txns.c.txn_id, sort_by_parameter_order=True),
                [
                    {
                        "kind": EARN,
                        "idempotency_key": e.key,
                        "request_hash": digests[e.key],
                        "member_id": e.member_id,
                        "reference": e.reference,
                        "created_at": e.at,
                    }
                    for e in todo
                ],
            )
        ]
        expiry = timedelta(days=ledger.policy.expiry_days)
        lot_ids = [
            int(r.lot_id)
            for r in con.execute(
                insert(point_lots).returning(point_lots.c.lot_id, sort_by_parameter_order=True),
                [
                    {
                        "member_id": e.member_id,
                        "txn_id": t,
                        "points": e.points,
                        "remaining": e.points,
                        "earned_at": e.at,
                        "expires_at": e.at + expiry,
                    }
                    for e, t in zip(todo, txn_ids, strict=True)
                ],
            )
        ]
        issued = ledger._system("issued")
        entries: list[dict[str, int]] = []
        answers: list[dict[str, Any]] = []
        balances = {m: bal for m, (_, bal) in accounts.items()}
        for e, t, lot in zip(todo, txn_ids, lot_ids, strict=True):
            entries.append(
                {"txn_id": t, "account_id": accounts[e.member_id][0], "amount": e.points}
            )
            entries.append({"txn_id": t, "account_id": issued, "amount": -e.points})
            balances[e.member_id] += e.points
            answers.append(
                {
                    "_txn": t,
                    "answer": {
                        "txn_id": t,
                        "member_id": e.member_id,
                        "points": e.points,
                        "lot_id": lot,
                        "expires_at": (e.at + expiry).isoformat(),
                        "balance": balances[e.member_id],
                    },
                }
            )
        con.execute(insert(ledger_entries), entries)
        con.execute(
            update(ledger_accounts)
            .where(acct.account_id == bindparam("_acc"))
            .values(balance=acct.balance + bindparam("_amount", type_=acct.balance.type)),
            [{"_acc": accounts[m][0], "_amount": balances[m] - accounts[m][1]} for m in member_ids],
        )
        con.execute(
            update(ledger_txns)
            .where(txn.txn_id == bindparam("_txn"))
            .values(result=bindparam("answer", type_=txn.result.type)),
            answers,
        )
    return EarnBatch(
        posted=len(todo), skipped=len(earns) - len(todo), points=sum(e.points for e in todo)
    )
