"""The double-entry engine under points and stored value.

**Once per key.** :func:`run_once` runs one business operation in one database
transaction that starts by inserting its ``ledger_txns`` row, whose
``idempotency_key`` is unique. A retry with the same key finds that row and gets the
stored answer back, byte for byte, without touching any balance; the same key with a
different request raises :class:`IdempotencyConflictError`. Two concurrent requests
with one key serialize on the unique index: the second waits for the first to commit
and then replays its answer (or proceeds when the first rolled back).

**Balances.** :func:`post` appends entries that sum to 0 and moves the cached
balance of member accounts with a conditional update (``balance + amount >= 0``), so
concurrent spends can never overdraw: under READ COMMITTED the second update waits
for the first's row lock and re-checks the condition on the committed balance.
System accounts (the other side of each entry) keep no cached balance: their balance
is the sum of their entries, and no transaction queues behind a shared hot row.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from storeops.errors import StoreOpsError
from storeops.opsdb import utcnow
from storeops.opsdb.ledger_tables import (
    ledger_accounts,
    ledger_entries,
    ledger_txns,
    members,
)

SYSTEM = "system"


class LedgerError(StoreOpsError, ValueError):
    """A value operation cannot be done as asked."""


class InsufficientBalanceError(LedgerError):
    """The member does not have enough points or stored value."""


class IdempotencyConflictError(LedgerError):
    """An idempotency key was reused for a different request."""


class UnknownMemberError(LedgerError, LookupError):
    """No member with that id."""


def request_hash(kind: str, payload: dict[str, Any]) -> str:
    body = json.dumps({"kind": kind, **payload}, sort_keys=True, default=str)
    return hashlib.sha256(body.encode()).hexdigest()


def _normalised(result: dict[str, Any]) -> dict[str, Any]:
    """The answer as it will read back from the database (JSON round trip)."""
    loaded: dict[str, Any] = json.loads(json.dumps(result, default=str))
    return loaded


def run_once(
    engine: Engine,
    *,
    kind: str,
    key: str,
    payload: dict[str, Any],
    work: Callable[[Connection, int], dict[str, Any]],
    member_id: str | None = None,
    reference: str | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """Run ``work(con, txn_id)`` once for ``key`` and return its (stored) answer."""
    if not key or len(key) > 160:
        raise LedgerError("an idempotency key of 1 to 160 characters is required")
    digest = request_hash(kind, payload)
    try:
        with engine.begin() as con:
            txn_id = con.execute(
                insert(ledger_txns)
                .values(
                    kind=kind,
                    idempotency_key=key,
                    request_hash=digest,
                    member_id=member_id,
                    reference=reference,
                    created_at=at or utcnow(),
                )
                .returning(ledger_txns.c.txn_id)
            ).scalar_one()
            result = _normalised({"txn_id": txn_id, **work(con, txn_id)})
            con.execute(
                update(ledger_txns).where(ledger_txns.c.txn_id == txn_id).values(result=result)
            )
            return result
    except IntegrityError:
        stored = _stored(engine, key)
        if stored is None:
            raise
        if stored["request_hash"] != digest:
            raise IdempotencyConflictError(
                f"idempotency key {key!r} was already used for a different {stored['kind']} "
                "request; use a new key for a new operation"
            ) from None
        answer: dict[str, Any] = stored["result"]
        return answer


def _stored(engine: Engine, key: str) -> dict[str, Any] | None:
    with engine.connect() as con:
        row = con.execute(
            select(ledger_txns.c.kind, ledger_txns.c.request_hash, ledger_txns.c.result).where(
                ledger_txns.c.idempotency_key == key
            )
        ).first()
    return None if row is None else dict(row._mapping)


def replay(engine: Engine, key: str) -> dict[str, Any] | None:
    """The stored answer for ``key``, if that operation was done."""
    stored = _stored(engine, key)
    return None if stored is None else stored["result"]


def account_id(engine: Engine, owner: str, asset: str, purpose: str) -> int:
    """The id of an account, creating it (in its own transaction) when missing."""
    query = select(ledger_accounts.c.account_id).where(
        ledger_accounts.c.owner == owner,
        ledger_accounts.c.asset == asset,
        ledger_accounts.c.purpose == purpose,
    )
    with engine.connect() as con:
        found = con.execute(query).scalar_one_or_none()
    if found is not None:
        return int(found)
    try:
        with engine.begin() as con:
            con.execute(insert(ledger_accounts).values(owner=owner, asset=asset, purpose=purpose))
    except IntegrityError:
        pass  # created by a concurrent caller
    with engine.connect() as con:
        return int(con.execute(query).scalar_one())


def member_account(con: Connection, member_id: str, asset: str) -> int:
    """The member's ``asset`` balance account, read on the caller's connection (made at
    enrolment; a missing one means no such member)."""
    acct = ledger_accounts.c
    found = con.execute(
        select(acct.account_id).where(
            acct.owner == member_id, acct.asset == asset, acct.purpose == "balance"
        )
    ).scalar_one_or_none()
    if found is None:
        raise UnknownMemberError(f"no member {member_id!r}; enrol the member first")
    return int(found)


def require_member(con: Connection, member_id: str) -> None:
    found = con.execute(
        select(members.c.status).where(members.c.member_id == member_id)
    ).scalar_one_or_none()
    if found is None:
        raise UnknownMemberError(f"no member {member_id!r}; enrol the member first")


def post(
    con: Connection,
    txn_id: int,
    lines: Iterable[tuple[int, int, bool]],
    *,
    insufficient: str = "not enough balance",
) -> dict[int, int]:
    """Append entries ``(account_id, amount, is_member_account)`` summing to 0; the
    member accounts' new balances.

    Member accounts move first, in account order, with the no-overdraft condition.
    """
    rows = [(acc, amt, mem) for acc, amt, mem in lines if amt != 0]
    if sum(amt for _, amt, _ in rows) != 0:
        raise LedgerError(f"unbalanced transaction {txn_id}: {rows}")
    balances: dict[int, int] = {}
    for acc, amt, mem in sorted(rows, key=lambda r: (not r[2], r[0])):
        if not mem:
            continue
        acct = ledger_accounts.c
        stmt = update(ledger_accounts).where(acct.account_id == acc)
        if amt < 0:
            stmt = stmt.where(acct.balance + amt >= 0)
        new = con.execute(
            stmt.values(balance=acct.balance + amt).returning(acct.balance)
        ).scalar_one_or_none()
        if new is None:
            raise InsufficientBalanceError(insufficient)
        balances[acc] = int(new)
    if rows:
        con.execute(
            insert(ledger_entries),
            [{"txn_id": txn_id, "account_id": acc, "amount": amt} for acc, amt, _ in rows],
        )
    return balances


def require_positive(value: int, what: str) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise LedgerError(f"{what} must be a positive whole number (got {value!r})")


def lock_balance(con: Connection, account: int) -> int:
    """Take the account's row lock for this transaction (a zero update); its balance."""
    acct = ledger_accounts.c
    con.execute(
        update(ledger_accounts).where(acct.account_id == account).values(balance=acct.balance)
    )
    return balance(con, account)


def balance(con: Connection, account: int) -> int:
    value = con.execute(
        select(ledger_accounts.c.balance).where(ledger_accounts.c.account_id == account)
    ).scalar_one()
    return int(value)


def entries_sum(con: Connection, account: int) -> int:
    value = con.execute(
        select(func.coalesce(func.sum(ledger_entries.c.amount), 0)).where(
            ledger_entries.c.account_id == account
        )
    ).scalar_one()
    return int(value)


def trial_balance(engine: Engine) -> dict[str, int]:
    """Sum of all entries per asset: 0 for every asset in a sound ledger."""
    acct = ledger_accounts.c
    with engine.connect() as con:
        rows = con.execute(
            select(acct.asset, func.coalesce(func.sum(ledger_entries.c.amount), 0))
            .select_from(ledger_entries.join(ledger_accounts))
            .group_by(acct.asset)
        ).all()
    return {str(asset): int(total) for asset, total in rows}


class AssetBook:
    """What points and stored value share: the asset's system accounts (made when the
    book is opened, outside any operation's transaction — on SQLite a second writer
    inside one would wait for itself) and members' balances."""

    asset: str = ""
    system_purposes: tuple[str, ...] = ()

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._systems = {p: account_id(engine, SYSTEM, self.asset, p) for p in self.system_purposes}
        self._accounts: dict[str, int] = {}

    def _member_account(self, member_id: str) -> int:
        with self.engine.connect() as con:
            return self._account_in(con, member_id)

    def _account_in(self, con: Connection, member_id: str) -> int:
        """The member's account, read on the caller's connection; account ids never
        change, so each is read once per book. A missing account means no such member
        (accounts are made at enrolment), which raises :class:`UnknownMemberError`."""
        found = self._accounts.get(member_id)
        if found is None:
            found = member_account(con, member_id, self.asset)
            self._accounts[member_id] = found
        return found

    def _system(self, purpose: str) -> int:
        return self._systems[purpose]

    def _once(
        self,
        kind: str,
        *,
        key: str,
        member_id: str,
        reference: str | None,
        at: datetime | None,
        payload: dict[str, Any],
        step: Callable[[Connection, int], dict[str, Any]],
    ) -> dict[str, Any]:
        """One public operation: ``step`` inside :func:`run_once` for ``key``."""
        return run_once(
            self.engine, kind=kind, key=key, payload=payload, work=step,
            member_id=member_id, reference=reference, at=at,
        )  # fmt: skip

    def balance(self, member_id: str) -> int:
        """The member's balance (points, or fen of stored value)."""
        with self.engine.connect() as con:
            return balance(con, self._member_account(member_id))
