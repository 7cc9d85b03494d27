"""The double-entry engine under points and stored value.

**Once per key.** :func:`run_once` runs one business operation in one database
transaction that starts by inserting its ``ledger_txns`` row, whose
``idempotency_key`` is unique. A retry with the same key finds that row and gets the
stored answer back, byte for byte, without touching any balance; the same key with a
different request raises :class:`IdempotencyConflictError`. Two concurrent requests
with one key serialize on the unique index: the second waits for the first to commit
and then replays its answer (or proceeds when the first rolled back).

**In flight.** With ``exclusive=True`` (the POS commit and refund) a request whose key
another transaction is still working on raises :class:`InFlightError` at once instead
of waiting for it. On PostgreSQL the ``ledger_txns`` insert takes a transaction-level
advisory lock on the key's hash in the same statement, so this holds across
processes (``storeops serve --workers N``); elsewhere (SQLite has one writer at a
time) the second request waits for the first and replays its answer.

**One writer at a time on SQLite.** SQLite lets one transaction write at a time; the
others wait in its busy handler, which polls with sleeps growing to 100 ms, so under
load some operations waited hundreds of milliseconds while the database sat idle.
:func:`run_once` on a SQLite file therefore queues its writers itself: on a lock in
the process, then on an exclusive ``flock`` of ``<database>-writer.lock`` across
processes (``storeops serve --workers N``), for at most
:data:`WRITER_TIMEOUT_SECONDS`.

**Balances.** :func:`post` appends entries that sum to 0 and moves the cached
balance of member accounts with a conditional update (``balance + amount >= 0``), so
concurrent spends can never overdraw: under READ COMMITTED the second update waits
for the first's row lock and re-checks the condition on the committed balance.
System accounts (the other side of each entry) keep no cached balance: their balance
is the sum of their entries, and no transaction queues behind a shared hot row.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Connection, Engine, bindparam, func, insert, select, text, update
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


class InFlightError(StoreOpsError, RuntimeError):
    """The same idempotency key is being processed right now (HTTP 409)."""


class WriterTimeoutError(StoreOpsError, TimeoutError):
    """Another writer held the SQLite database for longer than the lock timeout."""


class _SqliteWriter:
    """The writer queue of one SQLite file (module doc): a re-entrant lock for the
    threads of this process and a ``flock`` for the other processes."""

    def __init__(self, database: str) -> None:
        self.path = Path(f"{database}-writer.lock")
        self._lock = threading.RLock()
        self._file: IO[bytes] | None = None
        self._depth = 0

    @contextmanager
    def held(self, timeout: float) -> Iterator[None]:
        if not self._lock.acquire(timeout=timeout):
            raise WriterTimeoutError(f"the ops database stayed busy for {timeout:.0f} s")
        try:
            if self._depth == 0:
                self._flock(timeout)
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0 and self._file is not None:
                    fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
        finally:
            self._lock.release()

    def _flock(self, timeout: float) -> None:
        if self._file is None:
            self._file = self.path.open("ab")
        deadline, pause = time.monotonic() + timeout, 0.0002
        while True:
            try:
                fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise WriterTimeoutError(
                        f"another process kept the ops database busy for {timeout:.0f} s"
                    ) from None
                time.sleep(pause)  # one thread per process polls; the rest wait above
                pause = min(pause * 2, 0.002)


#: How long a SQLite writer waits for the others (the default ``lock_timeout_seconds``).
WRITER_TIMEOUT_SECONDS = 30.0
_writers: dict[str, _SqliteWriter] = {}
_writers_lock = threading.Lock()


def _writer(engine: Engine) -> Any:
    """A context holding the SQLite file's writer queue; nothing on other databases."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return nullcontext()
    writer = _writers.get(database)
    if writer is None:
        with _writers_lock:
            writer = _writers.setdefault(database, _SqliteWriter(database))
    return writer.held(WRITER_TIMEOUT_SECONDS)


# Statements on the hot path of every operation, built once: SQLAlchemy then skips
# building the expression and its cache key on each call (~40 us per statement).
_acct = ledger_accounts.c
_INSERT_TXN = insert(ledger_txns).returning(ledger_txns.c.txn_id)
_TXN_COLUMNS = ("kind", "idempotency_key", "request_hash", "member_id", "reference", "created_at")
_txn_values = [bindparam(c, type_=ledger_txns.c[c].type) for c in _TXN_COLUMNS]
#: PostgreSQL: the insert only when this transaction gets the key's advisory lock (held
#: to its end); no row back means another transaction is working on the key.
_INSERT_TXN_EXCLUSIVE = (
    insert(ledger_txns)
    .from_select(
        _TXN_COLUMNS,
        select(*_txn_values).where(
            func.pg_try_advisory_xact_lock(func.hashtextextended(_txn_values[1], 0))
        ),
    )
    .returning(ledger_txns.c.txn_id)
)
_SET_RESULT = (
    update(ledger_txns)
    .where(ledger_txns.c.txn_id == bindparam("txn"))
    .values(result=bindparam("answer", type_=ledger_txns.c.result.type))
)
_CREDIT = (
    update(ledger_accounts)
    .where(_acct.account_id == bindparam("acc"))
    .values(balance=_acct.balance + bindparam("amount", type_=_acct.balance.type))
    .returning(_acct.balance)
)
#: A debit moves the balance only when it covers the debits (the no-overdraft condition;
#: ``debits`` is the sum of the account's negative lines in the transaction).
_DEBIT = _CREDIT.where(_acct.balance + bindparam("debits", type_=_acct.balance.type) >= 0)
_entry_inserts: dict[int, Any] = {}


def _insert_entries(count: int) -> Any:
    """``INSERT … VALUES (…), (…)`` for ``count`` entries: one statement for the
    server to run, where an executemany runs one per row. Written as text: SQLAlchemy
    does not cache the compiled form of a multi-row ``insert().values([...])``."""
    stmt = _entry_inserts.get(count)
    if stmt is None:
        rows = ", ".join(
            "(" + ", ".join(f":{c}_{i}" for c in _ENTRY_COLUMNS) + ")" for i in range(count)
        )
        sql = f"INSERT INTO {ledger_entries.name} ({', '.join(_ENTRY_COLUMNS)}) VALUES {rows}"
        stmt = _entry_inserts.setdefault(count, text(sql))
    return stmt


_ENTRY_COLUMNS = ("txn_id", "account_id", "amount")
_BALANCE = select(_acct.balance).where(_acct.account_id == bindparam("acc"))


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
    exclusive: bool = False,
) -> dict[str, Any]:
    """Run ``work(con, txn_id)`` once for ``key`` and return its (stored) answer;
    ``exclusive``: refuse a key in flight (module doc)."""
    if not key or len(key) > 160:
        raise LedgerError("an idempotency key of 1 to 160 characters is required")
    digest = request_hash(kind, payload)
    row = {
        "kind": kind,
        "idempotency_key": key,
        "request_hash": digest,
        "member_id": member_id,
        "reference": reference,
        "created_at": at or utcnow(),
    }
    try:
        with _writer(engine), engine.begin() as con:
            if exclusive and con.dialect.name == "postgresql":
                txn_id = con.execute(_INSERT_TXN_EXCLUSIVE, row).scalar_one_or_none()
                if txn_id is None:
                    raise InFlightError(
                        f"a request with Idempotency-Key {key!r} is still being processed; "
                        "retry the same request with the same key in a moment"
                    )
            else:
                txn_id = con.execute(_INSERT_TXN, row).scalar_one()
            result = _normalised({"txn_id": txn_id, **work(con, txn_id)})
            con.execute(_SET_RESULT, {"txn": txn_id, "answer": result})
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


Entries = list[dict[str, int]]


def post(
    con: Connection,
    txn_id: int,
    lines: Iterable[tuple[int, int, bool]],
    *,
    insufficient: str = "not enough balance",
    entries: Entries | None = None,
) -> dict[int, int]:
    """Append entries ``(account_id, amount, is_member_account)`` summing to 0; the
    member accounts' new balances.

    Member accounts move first, in account order, with the no-overdraft condition. A
    member account on several lines (points paid and points earned by one sale) moves
    once, by their sum, and its balance must cover its debits on its own: what the
    transaction credits does not pay for what it takes.

    With ``entries`` the entry rows are added to that list instead of written: a caller
    composing several steps writes them all at once with :func:`write_entries` before
    its transaction ends (balances move here either way).
    """
    rows = [(acc, amt, mem) for acc, amt, mem in lines if amt != 0]
    if sum(amt for _, amt, _ in rows) != 0:
        raise LedgerError(f"unbalanced transaction {txn_id}: {rows}")
    moves: dict[int, tuple[int, int]] = {}  # member account -> (net amount, debits)
    for acc, amt, mem in rows:
        if mem:
            net, debits = moves.get(acc, (0, 0))
            moves[acc] = (net + amt, debits + min(amt, 0))
    balances: dict[int, int] = {}
    for acc in sorted(moves):
        net, debits = moves[acc]
        stmt = _DEBIT if debits < 0 else _CREDIT
        new = con.execute(stmt, {"acc": acc, "amount": net, "debits": debits}).scalar_one_or_none()
        if new is None:
            raise InsufficientBalanceError(insufficient)
        balances[acc] = int(new)
    made = [{"txn_id": txn_id, "account_id": acc, "amount": amt} for acc, amt, _ in rows]
    if entries is not None:
        entries.extend(made)
    else:
        write_entries(con, made)
    return balances


def write_entries(con: Connection, entries: Entries) -> None:
    """Write entry rows collected by :func:`post` (one statement for all of them)."""
    if not entries:
        return
    if len(entries) > 50:  # e.g. a bulk job: rows as an executemany
        con.execute(insert(ledger_entries), entries)
        return
    params = {f"{c}_{i}": row[c] for i, row in enumerate(entries) for c in _ENTRY_COLUMNS}
    con.execute(_insert_entries(len(entries)), params)


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
    return int(con.execute(_BALANCE, {"acc": account}).scalar_one())


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
