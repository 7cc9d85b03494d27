"""The promotion service on the ops database: programs, coupons, quotes, redemptions.

``PromotionService(engine)`` is what the POS API, the CLI and jobs call. Each
money-like mutation (issue, import, redeem, void, next-order issue) runs through the
ledger's :func:`~storeops.loyalty.ledger.run_once`: one transaction per idempotency
key, the answer stored and replayed byte for byte on a retry, the same key with a
different request refused.

**Single use under concurrency.** A redemption (核销) flips the coupon with one
conditional update, ``status = 'redeemed' WHERE status = 'issued'``. On PostgreSQL at
READ COMMITTED a second terminal's update waits for the first's row lock and then
re-checks the condition on the committed row, finding it redeemed: exactly one
redemption wins, the others get :class:`CouponAlreadyRedeemedError`. SQLite has one
writer at a time, which gives the same outcome.

**Limits under concurrency.** A *limited* program's counters (one with a budget or a
total-uses limit) move with ``uses = uses + 1, spent_fen = spent_fen + d WHERE
(max_uses IS NULL OR uses < max_uses) AND (budget_fen IS NULL OR spent_fen + d <=
budget_fen)``, and the customer's ``promotion_usage`` row with ``uses <
per_customer_limit``; CHECK constraints back both. Trade-off: orders of one limited
program queue on its row until their transaction has committed (a durable commit
waits for the WAL flush); this is what makes a budget exact, and the update comes
last so the lock is held as briefly as possible.

**Unlimited programs keep no counters in their row.** Every order with, say, a
store-wide 满200减40 would otherwise update that one row and hold its lock through its
commit: all tills' orders would commit one after another. Their ``uses`` and
``spent_fen`` are counted from the live redemptions when :meth:`PromotionService.program`
or :meth:`~PromotionService.programs` reads them (``coupon_redemptions``, not voided);
the row's own counter columns stay as they were. Rows are locked in one order — redemption,
coupon, customer usage, program — by redeem and void alike, so they cannot deadlock.

**Void** marks the redemption voided with ``WHERE voided_at IS NULL`` (so it happens
once whatever the keys), puts the coupon back to ``issued`` and gives the use and the
amount back to the program and the customer.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, NoReturn

from sqlalchemy import Connection, Engine, and_, bindparam, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from storeops.loyalty.ledger import run_once
from storeops.opsdb import audit, utcnow
from storeops.opsdb.promotion_tables import (
    coupon_redemptions,
    coupons,
    promotion_programs,
    promotion_usage,
)
from storeops.promotions import codes as codelib
from storeops.promotions.errors import (
    AlreadyVoidedError,
    CouponAlreadyRedeemedError,
    CouponNotApplicableError,
    CouponNotFoundError,
    LimitReachedError,
    ProgramDefinitionError,
    PromotionError,
    RedemptionNotFoundError,
    UnknownProgramError,
)
from storeops.promotions.model import (
    Basket,
    Coupon,
    Customer,
    NextOrderRule,
    Program,
    Scope,
    make_program,
)
from storeops.promotions.pricing import REASONS, AppliedOffer, Quote, quote

REDEEM, COMMIT, VOID, ISSUE, IMPORT, NEXT_ORDER = (
    "coupon_redeem",
    "promotion_commit",
    "coupon_void",
    "coupon_issue",
    "coupon_import",
    "coupon_next_order",
)
MAX_BATCH = 100_000
LIMIT_REASONS = frozenset({"budget_exhausted", "customer_limit_reached", "customer_required"})

P, C, R, U = promotion_programs.c, coupons.c, coupon_redemptions.c, promotion_usage.c

# Statements of every quote and order commit, built once (SQLAlchemy then skips building
# each expression and its cache key per call).
_AT = bindparam("at", type_=P.starts_at.type)
_ACTIVE_AT = (
    P.status == "active",
    or_(P.starts_at.is_(None), P.starts_at <= _AT),
    or_(P.ends_at.is_(None), P.ends_at > _AT),
)
_ACTIVE = select(promotion_programs).where(*_ACTIVE_AT)
_USAGE = select(U.program_id, U.uses).where(U.customer_id == bindparam("customer"))
#: The active programs with the customer's uses of each (one statement for both).
_ACTIVE_WITH_USAGE = (
    select(promotion_programs, U.uses.label("customer_uses"))
    .select_from(
        promotion_programs.outerjoin(
            promotion_usage,
            and_(U.program_id == P.program_id, U.customer_id == bindparam("customer")),
        )
    )
    .where(*_ACTIVE_AT)
)
_COUPON_ID = select(C.coupon_id).where(C.code == bindparam("code"))
_FLIP = (
    update(coupons)
    .where(C.coupon_id == bindparam("coupon"), C.status == "issued")
    .values(status="redeemed")
)
_INSERT_REDEMPTION = insert(coupon_redemptions).returning(R.redemption_id)
_LINK = (
    update(coupons)
    .where(C.coupon_id == bindparam("coupon"))
    .values(redemption_id=bindparam("redemption"))
)
_DISCOUNT = bindparam("discount", type_=P.spent_fen.type)
#: One more use of a program, within its total uses and budget.
_COUNT_USE = (
    update(promotion_programs)
    .where(
        P.program_id == bindparam("program"),
        or_(P.max_uses.is_(None), P.uses < P.max_uses),
        or_(P.budget_fen.is_(None), P.spent_fen + _DISCOUNT <= P.budget_fen),
    )
    .values(uses=P.uses + 1, spent_fen=P.spent_fen + _DISCOUNT)
)
_usage_upserts: dict[tuple[str, bool], Any] = {}


def _usage_upsert(dialect: str, limited: bool) -> Any:
    """``INSERT … ON CONFLICT DO UPDATE`` counting one use of a program by a customer,
    refused (no row returned) at the limit; one statement instead of insert + update."""
    key = (dialect, limited)
    stmt = _usage_upserts.get(key)
    if stmt is None:
        made = (postgresql if dialect == "postgresql" else sqlite).insert(promotion_usage)
        made = made.values(
            program_id=bindparam("program"), customer_id=bindparam("customer"), uses=1
        )
        where = U.uses < bindparam("limit", type_=U.uses.type) if limited else None
        stmt = made.on_conflict_do_update(
            index_elements=[U.program_id, U.customer_id], set_={"uses": U.uses + 1}, where=where
        ).returning(U.uses)
        _usage_upserts[key] = stmt
    return stmt


@dataclass(frozen=True)
class PricedOrder:
    """A quote read inside an order's transaction, with the programs it priced (whose
    limits recording its offers checks)."""

    quote: Quote
    programs: Mapping[str, Program]


def _program_from_row(row: Any) -> Program:
    m = row._mapping
    return Program(
        program_id=m["program_id"],
        kind=m["kind"],
        params=m["params"],
        name=m["name"],
        scope=Scope.from_dict(m["scope"]),
        starts_at=m["starts_at"],
        ends_at=m["ends_at"],
        stackable=bool(m["stackable"]),
        priority=int(m["priority"]),
        budget_fen=m["budget_fen"],
        max_uses=m["max_uses"],
        per_customer_limit=m["per_customer_limit"],
        spent_fen=int(m["spent_fen"]),
        uses=int(m["uses"]),
        status=m["status"],
    )


def _coupon_from_row(row: Any) -> Coupon:
    m = row._mapping
    return Coupon(
        code=m["code"],
        program_id=m["program_id"],
        status=m["status"],
        customer_id=m["customer_id"],
        valid_from=m["valid_from"],
        valid_until=m["valid_until"],
        issued_order_id=m["issued_order_id"],
    )


def _limited(p: Program) -> bool:
    """Whether the program counts its uses in its own row (a budget or a uses limit)."""
    return p.budget_fen is not None or p.max_uses is not None


def _live_counters(con: Connection, programs: list[Program]) -> list[Program]:
    """The programs with the counters of the unlimited ones counted from their live
    redemptions (module doc)."""
    unlimited = [p.program_id for p in programs if not _limited(p)]
    if not unlimited:
        return programs
    counted = {
        str(pid): (int(n), int(total))
        for pid, n, total in con.execute(
            select(R.program_id, func.count(), func.coalesce(func.sum(R.discount_fen), 0))
            .where(R.program_id.in_(unlimited), R.voided_at.is_(None))
            .group_by(R.program_id)
        )
    }
    out = []
    for p in programs:
        if not _limited(p):
            uses, spent = counted.get(p.program_id, (0, 0))
            p = replace(p, uses=uses, spent_fen=spent)
        out.append(p)
    return out


def program_to_dict(p: Program) -> dict[str, Any]:
    """A program as JSON-ready data (the stored definition plus its counters)."""
    return {
        "program_id": p.program_id,
        "name": p.name,
        "kind": p.kind,
        "params": dict(p.params),
        "scope": p.scope.to_dict(),
        "starts_at": p.starts_at.isoformat() if p.starts_at else None,
        "ends_at": p.ends_at.isoformat() if p.ends_at else None,
        "stackable": p.stackable,
        "priority": p.priority,
        "budget_fen": p.budget_fen,
        "max_uses": p.max_uses,
        "per_customer_limit": p.per_customer_limit,
        "spent_fen": p.spent_fen,
        "uses": p.uses,
        "status": p.status,
    }


def _definition(p: Program) -> dict[str, Any]:
    data = program_to_dict(p)
    for counter in ("spent_fen", "uses", "status"):
        data.pop(counter)
    return data


def _insert_ignore(con: Connection, table: Any, values: dict[str, Any]) -> None:
    """INSERT … ON CONFLICT DO NOTHING (a concurrent insert of the same key is no error)."""
    name = con.dialect.name
    if name == "postgresql":
        con.execute(postgresql.insert(table).values(**values).on_conflict_do_nothing())
    elif name == "sqlite":
        con.execute(sqlite.insert(table).values(**values).on_conflict_do_nothing())
    else:  # pragma: no cover - other databases: check first (not race-free)
        keys = [col for col in table.primary_key.columns]
        where = and_(*(col == values[col.name] for col in keys))
        if con.execute(select(keys[0]).where(where)).first() is None:
            con.execute(insert(table).values(**values))


class PromotionService:
    """Promotions and coupons on one ops database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- programs -----------------------------------------------------------------------
    def create_program(self, program: Program, *, actor: str = "system") -> dict[str, Any]:
        """Store a program. The same definition again changes nothing; a different
        definition under an existing id is refused."""
        program = make_program(
            program.program_id,
            program.kind,
            program.params,
            **{k: v for k, v in vars(program).items() if k not in ("program_id", "kind", "params")},
        )
        with self.engine.begin() as con:
            row = con.execute(
                select(promotion_programs).where(P.program_id == program.program_id)
            ).first()
            if row is not None:
                stored = _program_from_row(row)
                if json.dumps(_definition(stored), sort_keys=True) != json.dumps(
                    _definition(program), sort_keys=True
                ):
                    raise ProgramDefinitionError(
                        f"program {program.program_id} exists with a different definition; "
                        "give the new one a new id (pause the old one with "
                        "`storeops promotions status ID paused`)"
                    )
                return {"program_id": program.program_id, "created": False}
            data = program_to_dict(program)
            for name in ("starts_at", "ends_at"):
                data[name] = getattr(program, name)
            data.update(spent_fen=0, uses=0)  # counters start at zero, whatever was passed
            con.execute(insert(promotion_programs).values(**data, created_at=utcnow()))
            audit(
                con,
                actor=actor,
                action="promotion.create",
                target=program.program_id,
                detail={"kind": program.kind},
            )
        return {"program_id": program.program_id, "created": True}

    def set_status(self, program_id: str, status: str, *, actor: str = "system") -> None:
        if status not in ("active", "paused", "ended"):
            raise PromotionError(f"status {status!r}: use active, paused or ended")
        with self.engine.begin() as con:
            done = con.execute(
                update(promotion_programs).where(P.program_id == program_id).values(status=status)
            ).rowcount
            if done != 1:
                raise UnknownProgramError(f"no program {program_id!r}")
            audit(
                con,
                actor=actor,
                action="promotion.status",
                target=program_id,
                detail={"status": status},
            )

    def program(self, program_id: str) -> Program:
        """The program with its counters (module doc)."""
        with self.engine.connect() as con:
            return _live_counters(con, [self._program(con, program_id)])[0]

    def programs(self) -> list[Program]:
        """Every program with its counters (module doc)."""
        with self.engine.connect() as con:
            rows = con.execute(select(promotion_programs).order_by(P.program_id)).all()
            return _live_counters(con, [_program_from_row(r) for r in rows])

    @staticmethod
    def _program(con: Connection, program_id: str) -> Program:
        row = con.execute(select(promotion_programs).where(P.program_id == program_id)).first()
        if row is None:
            raise UnknownProgramError(f"no program {program_id!r}; see `storeops promotions list`")
        return _program_from_row(row)

    @staticmethod
    def _active(con: Connection, at: datetime) -> list[Program]:
        rows = con.execute(_ACTIVE, {"at": at}).all()
        return [_program_from_row(r) for r in rows]

    @staticmethod
    def _customer(con: Connection, customer_id: str | None) -> Customer:
        if customer_id is None:
            return Customer()
        rows = con.execute(_USAGE, {"customer": customer_id}).all()
        return Customer(customer_id, {str(p): int(n) for p, n in rows})

    # -- coupons ------------------------------------------------------------------------
    def issue_coupons(
        self,
        program_id: str,
        count: int,
        *,
        key: str,
        customer_id: str | None = None,
        valid_from: datetime | None = None,
        valid_until: datetime | None = None,
        at: datetime | None = None,
    ) -> dict[str, Any]:
        """Generate ``count`` new codes for a coupon program (a retry gives the same ones)."""
        if not isinstance(count, int) or not 1 <= count <= MAX_BATCH:
            raise PromotionError(f"count must be 1 to {MAX_BATCH} (got {count!r})")
        when = at or utcnow()

        def work(con: Connection, txn_id: int) -> dict[str, Any]:
            self._coupon_program(con, program_id)
            made = codelib.generate(count)
            taken = self._existing(con, made)
            while taken:  # astronomically rare with 80-bit codes; replace the clashes
                made = sorted((set(made) - taken) | set(codelib.generate(len(taken))))
                taken = self._existing(con, made)
            self._insert(
                con, program_id, made, "generated", key, customer_id, valid_from, valid_until, when
            )
            return {"program_id": program_id, "batch": key, "count": len(made), "codes": made}

        payload = {
            "program_id": program_id,
            "count": count,
            "customer_id": customer_id,
            "valid_from": valid_from,
            "valid_until": valid_until,
        }
        return run_once(
            self.engine,
            kind=ISSUE,
            key=key,
            payload=payload,
            work=work,
            reference=program_id,
            at=when,
        )

    def import_codes(
        self,
        program_id: str,
        codes: Iterable[str],
        *,
        key: str,
        customer_id: str | None = None,
        valid_from: datetime | None = None,
        valid_until: datetime | None = None,
        at: datetime | None = None,
    ) -> dict[str, Any]:
        """Store codes made elsewhere (a partner, a printed batch); all or none."""
        clean = [codelib.normalise(c) for c in codes]
        if not clean or len(clean) > MAX_BATCH:
            raise PromotionError(f"import 1 to {MAX_BATCH} codes at a time")
        dupes = (
            sorted({c for c in clean if clean.count(c) > 1}) if len(set(clean)) < len(clean) else []
        )
        if dupes:
            raise PromotionError(f"codes repeated in the import: {', '.join(dupes[:5])}")
        clean.sort()
        when = at or utcnow()

        def work(con: Connection, txn_id: int) -> dict[str, Any]:
            self._coupon_program(con, program_id)
            taken = sorted(self._existing(con, clean))
            if taken:
                raise PromotionError(
                    f"{len(taken)} code(s) exist already, e.g. {', '.join(taken[:5])}; "
                    "nothing was imported"
                )
            self._insert(
                con, program_id, clean, "imported", key, customer_id, valid_from, valid_until, when
            )
            return {"program_id": program_id, "batch": key, "count": len(clean)}

        payload = {
            "program_id": program_id,
            "codes": clean,
            "customer_id": customer_id,
            "valid_from": valid_from,
            "valid_until": valid_until,
        }
        return run_once(
            self.engine,
            kind=IMPORT,
            key=key,
            payload=payload,
            work=work,
            reference=program_id,
            at=when,
        )

    def _coupon_program(self, con: Connection, program_id: str) -> Program:
        program = self._program(con, program_id)
        if not program.rule.needs_coupon:
            raise PromotionError(
                f"program {program_id} is a {program.kind} program, which applies without "
                "codes; issue codes for coupon or next_order programs"
            )
        return program

    @staticmethod
    def _existing(con: Connection, candidates: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for i in range(0, len(candidates), 1000):
            chunk = list(candidates[i : i + 1000])
            found |= set(con.execute(select(C.code).where(C.code.in_(chunk))).scalars())
        return found

    @staticmethod
    def _insert(
        con: Connection,
        program_id: str,
        made: Sequence[str],
        source: str,
        batch: str,
        customer_id: str | None,
        valid_from: datetime | None,
        valid_until: datetime | None,
        when: datetime,
        issued_order_id: str | None = None,
    ) -> None:
        rows = [
            {
                "code": code,
                "program_id": program_id,
                "customer_id": customer_id,
                "status": "issued",
                "source": source,
                "batch": batch,
                "issued_order_id": issued_order_id,
                "issued_at": when,
                "valid_from": valid_from,
                "valid_until": valid_until,
            }
            for code in made
        ]
        for i in range(0, len(rows), 5000):
            con.execute(insert(coupons), rows[i : i + 5000])

    def coupon(self, code: str) -> dict[str, Any]:
        """A coupon, its program and its redemptions (live and voided)."""
        normal = codelib.normalise(code)
        with self.engine.connect() as con:
            row = con.execute(select(coupons).where(C.code == normal)).first()
            if row is None:
                raise CouponNotFoundError(f"no coupon {code!r}")
            found = dict(row._mapping)
            found["redemptions"] = [
                dict(r._mapping)
                for r in con.execute(
                    select(coupon_redemptions)
                    .where(R.coupon_id == found["coupon_id"])
                    .order_by(R.redemption_id)
                )
            ]
        return found

    # -- pricing ------------------------------------------------------------------------
    def quote(
        self,
        basket: Basket,
        *,
        customer_id: str | None = None,
        codes: Sequence[str] = (),
        at: datetime | None = None,
    ) -> Quote:
        """The quote for ``basket`` with the programs and coupons in the database."""
        with self.engine.connect() as con:
            return self._quote(con, basket, customer_id, codes, at or utcnow())

    def _quote(
        self,
        con: Connection,
        basket: Basket,
        customer_id: str | None,
        codes: Sequence[str],
        at: datetime,
    ) -> Quote:
        return self._priced(con, basket, customer_id, codes, at)[0]

    def _priced(
        self,
        con: Connection,
        basket: Basket,
        customer_id: str | None,
        codes: Sequence[str],
        at: datetime,
    ) -> tuple[Quote, dict[str, Program]]:
        """The quote and the programs it was priced with."""
        normal = sorted({codelib.normalise(c) for c in codes})
        rows = con.execute(select(coupons).where(C.code.in_(normal))).all() if normal else []
        found = [_coupon_from_row(r) for r in rows]
        missing = set(normal) - {c.code for c in found}
        if missing:
            raise CouponNotFoundError(f"no coupon {sorted(missing)[0]!r}")
        customer = Customer()
        if customer_id is None:
            programs = {p.program_id: p for p in self._active(con, at)}
        else:
            rows = con.execute(_ACTIVE_WITH_USAGE, {"at": at, "customer": customer_id}).all()
            programs = {r.program_id: _program_from_row(r) for r in rows}
            uses = {str(r.program_id): int(r.customer_uses or 0) for r in rows}
            customer = Customer(customer_id, uses)
        own = [c.program_id for c in found if c.program_id not in programs]
        for program_id in own:  # a coupon's own program, even paused or ended (its reason shows)
            programs[program_id] = self._program(con, program_id)
        if own and customer_id is not None:
            customer = self._customer(con, customer_id)
        return quote(basket, customer, programs.values(), found, at), programs

    # -- redemption ---------------------------------------------------------------------
    def redeem(
        self,
        code: str,
        *,
        order_id: str,
        basket: Basket,
        key: str,
        customer_id: str | None = None,
        at: datetime | None = None,
    ) -> dict[str, Any]:
        """Redeem (核销) ``code`` on ``order_id``: single use, safe to retry with ``key``.

        The discount is the coupon's in the quote of ``basket`` (so the till and the
        redemption agree); a coupon the quote does not apply raises
        :class:`CouponNotApplicableError` with the reason code. Only the coupon is
        recorded; :meth:`commit_order` records every offer of the order.
        """
        normal = codelib.normalise(code)
        when = at or utcnow()
        basket = Basket(basket.lines, basket.store_id, basket.channel, order_id)

        def work(con: Connection, txn_id: int) -> dict[str, Any]:
            q, programs = self._priced(con, basket, customer_id, [normal], when)
            mine = [a for a in q.applied if a.coupon_code == normal]
            if not mine:
                self._refuse(q, normal)
            [done] = self._record(con, txn_id, mine, programs, basket, customer_id, when)
            return {**done, "total_fen": q.total_fen}

        payload = {
            "code": normal,
            "order_id": order_id,
            "basket": basket.to_dict(),
            "customer_id": customer_id,
        }
        return run_once(
            self.engine,
            kind=REDEEM,
            key=key,
            payload=payload,
            work=work,
            reference=order_id,
            at=when,
        )

    def commit_order(
        self,
        basket: Basket,
        *,
        order_id: str,
        key: str,
        customer_id: str | None = None,
        codes: Sequence[str] = (),
        at: datetime | None = None,
    ) -> dict[str, Any]:
        """Record every offer the quote of ``basket`` applies — coupons redeemed, budgets
        and limits of automatic programs counted — all or nothing, once per ``key``.
        Every code given must apply, or nothing is recorded."""
        when = at or utcnow()
        basket = Basket(basket.lines, basket.store_id, basket.channel, order_id)
        normal = sorted({codelib.normalise(c) for c in codes})

        def work(con: Connection, txn_id: int) -> dict[str, Any]:
            return self.commit_in(
                con, txn_id, basket, customer_id=customer_id, codes=normal, at=when
            )

        payload = {
            "order_id": order_id,
            "basket": basket.to_dict(),
            "customer_id": customer_id,
            "codes": normal,
        }
        return run_once(
            self.engine,
            kind=COMMIT,
            key=key,
            payload=payload,
            work=work,
            reference=order_id,
            at=when,
        )

    def commit_in(
        self,
        con: Connection,
        txn_id: int,
        basket: Basket,
        *,
        customer_id: str | None,
        codes: Sequence[str],
        at: datetime,
    ) -> dict[str, Any]:
        """:meth:`commit_order`'s work inside the caller's ``run_once`` transaction, for a
        POS commit that applies coupons, stored value and points together or not at all.
        ``basket.order_id`` is required."""
        priced = self.price_in(con, basket, customer_id=customer_id, codes=codes, at=at)
        return self.record_in(con, txn_id, priced, basket, customer_id=customer_id, at=at)

    def price_in(
        self,
        con: Connection,
        basket: Basket,
        *,
        customer_id: str | None,
        codes: Sequence[str],
        at: datetime,
    ) -> PricedOrder:
        """The first half of :meth:`commit_in`: the quote of ``basket`` read in the
        caller's transaction, refused unless every code given applies. A caller that
        needs the quote before recording (the POS commit) calls the halves itself."""
        if not basket.order_id:
            raise PromotionError("the basket needs its order_id to be committed")
        normal = sorted({codelib.normalise(c) for c in codes})
        q, programs = self._priced(con, basket, customer_id, normal, at)
        for code in normal:
            if not any(a.coupon_code == code for a in q.applied):
                self._refuse(q, code)
        return PricedOrder(q, programs)

    def record_in(
        self,
        con: Connection,
        txn_id: int,
        priced: PricedOrder,
        basket: Basket,
        *,
        customer_id: str | None,
        at: datetime,
    ) -> dict[str, Any]:
        """The second half of :meth:`commit_in`: record the offers priced by
        :meth:`price_in` in the same transaction. Its last statements count the uses on
        the programs' rows, so those shared rows stay locked only briefly."""
        q = priced.quote
        done = self._record(con, txn_id, list(q.applied), priced.programs, basket, customer_id, at)
        return {
            "order_id": basket.order_id,
            "customer_id": customer_id,
            "gross_fen": q.gross_fen,
            "discount_fen": q.discount_fen,
            "total_fen": q.total_fen,
            "redemptions": done,
            "points_multiplier_pct": q.points_multiplier_pct,
            "next_order_rewards": list(q.next_order_rewards),
        }

    @staticmethod
    def _refuse(q: Quote, code: str) -> NoReturn:
        check = q.coupon(code)
        assert check is not None and not check.applied
        reason = check.reason or "not_applicable"
        message = f"coupon {code} does not apply: {check.message}"
        if reason == "already_redeemed":
            raise CouponAlreadyRedeemedError(message)
        if reason in LIMIT_REASONS:
            raise LimitReachedError(message, reason)
        raise CouponNotApplicableError(message, reason)

    def _record(
        self,
        con: Connection,
        txn_id: int,
        offers: Sequence[AppliedOffer],
        programs: Mapping[str, Program],
        basket: Basket,
        customer_id: str | None,
        when: datetime,
    ) -> list[dict[str, Any]]:
        """Flip the coupons, write one redemption per offer, count the uses.

        Rows are locked in one global order — coupons by code, then per program (by id)
        the customer's usage and the program's counters — as :meth:`_void_rows` does, so
        concurrent commits and voids cannot deadlock. The new redemption rows lock
        nothing anyone else waits for, so they come before the counters: a program's
        row, which every order with its offer updates, is held from its update to the
        end of the transaction only."""
        coupon_ids: dict[str, int] = {}
        for code in sorted(a.coupon_code for a in offers if a.coupon_code):
            coupon_id = con.execute(_COUPON_ID, {"code": code}).scalar_one()
            # The single-use guard: only one transaction can flip issued → redeemed.
            flipped = con.execute(_FLIP, {"coupon": coupon_id}).rowcount
            if flipped != 1:
                raise CouponAlreadyRedeemedError(f"coupon {code} was redeemed already")
            coupon_ids[code] = int(coupon_id)
        out = []
        for offer in offers:
            coupon_id = coupon_ids.get(offer.coupon_code or "")
            rid = con.execute(
                _INSERT_REDEMPTION,
                {
                    "coupon_id": coupon_id,
                    "program_id": offer.program_id,
                    "customer_id": customer_id,
                    "order_id": basket.order_id,
                    "store_id": basket.store_id,
                    "channel": basket.channel,
                    "discount_fen": offer.discount_fen,
                    "redeemed_at": when,
                    "txn_id": txn_id,
                },
            ).scalar_one()
            if coupon_id is not None:
                con.execute(_LINK, {"coupon": coupon_id, "redemption": rid})
            out.append(
                {
                    "redemption_id": rid,
                    "coupon_code": offer.coupon_code,
                    "program_id": offer.program_id,
                    "order_id": basket.order_id,
                    "customer_id": customer_id,
                    "discount_fen": offer.discount_fen,
                    "redeemed_at": when.isoformat(),
                }
            )
        for offer in sorted(offers, key=lambda a: a.program_id):
            self._claim(con, programs[offer.program_id], customer_id, offer.discount_fen)
        return out

    @staticmethod
    def _claim(con: Connection, program: Program, customer_id: str | None, discount: int) -> None:
        """Count one use of the program (its limits as the quote read them in this
        transaction) and of the customer's, or refuse. An unlimited program's row is
        not touched (module doc)."""
        program_id, limit = program.program_id, program.per_customer_limit
        if customer_id is not None:
            name = con.dialect.name
            if name in ("postgresql", "sqlite"):
                used = con.execute(
                    _usage_upsert(name, limit is not None),
                    {"program": program_id, "customer": customer_id, "limit": limit},
                ).first()
                counted = used is not None
            else:  # pragma: no cover - other databases: insert if missing, then count
                first_use = {"program_id": program_id, "customer_id": customer_id, "uses": 0}
                _insert_ignore(con, promotion_usage, first_use)
                stmt = update(promotion_usage).where(
                    U.program_id == program_id, U.customer_id == customer_id
                )
                if limit is not None:
                    stmt = stmt.where(U.uses < limit)
                counted = con.execute(stmt.values(uses=U.uses + 1)).rowcount == 1
            if not counted:
                raise LimitReachedError(
                    f"customer {customer_id} has used program {program_id} {limit} time(s), "
                    "its limit",
                    "customer_limit_reached",
                )
        elif limit is not None:
            raise LimitReachedError(
                f"program {program_id}: {REASONS['customer_required']}", "customer_required"
            )
        if not _limited(program):
            return
        done = con.execute(_COUNT_USE, {"program": program_id, "discount": discount}).rowcount
        if done != 1:
            raise LimitReachedError(
                f"program {program_id}: {REASONS['budget_exhausted']}", "budget_exhausted"
            )

    def void(self, redemption_id: int, *, key: str, at: datetime | None = None) -> dict[str, Any]:
        """Undo a redemption once: the coupon is usable again and the program and the
        customer get the use and the amount back."""
        when = at or utcnow()

        def work(con: Connection, txn_id: int) -> dict[str, Any]:
            row = con.execute(
                select(coupon_redemptions).where(R.redemption_id == redemption_id)
            ).first()
            if row is None:
                raise RedemptionNotFoundError(f"no redemption {redemption_id}")
            [done] = self._void_rows(con, txn_id, [row._mapping], when)
            if done is None:
                raise AlreadyVoidedError(f"redemption {redemption_id} was voided already")
            return done

        return run_once(
            self.engine,
            kind=VOID,
            key=key,
            payload={"redemption_id": redemption_id},
            work=work,
            reference=str(redemption_id),
            at=when,
        )

    def void_order(self, order_id: str, *, key: str, at: datetime | None = None) -> dict[str, Any]:
        """Void every live redemption of an order (an order cancelled or refunded whole);
        redemptions voided before are left as they are."""
        when = at or utcnow()

        def work(con: Connection, txn_id: int) -> dict[str, Any]:
            return self.void_order_in(con, txn_id, order_id, at=when)

        return run_once(
            self.engine,
            kind=VOID,
            key=key,
            payload={"order_id": order_id},
            work=work,
            reference=order_id,
            at=when,
        )

    def void_order_in(
        self, con: Connection, txn_id: int, order_id: str, *, at: datetime
    ) -> dict[str, Any]:
        """:meth:`void_order`'s work inside the caller's ``run_once`` transaction (a POS
        refund of the whole order)."""
        rows = con.execute(
            select(coupon_redemptions)
            .where(R.order_id == order_id, R.voided_at.is_(None))
            .order_by(R.redemption_id)
        ).all()
        done = self._void_rows(con, txn_id, [r._mapping for r in rows], at)
        voided = [d for d in done if d is not None]
        return {
            "order_id": order_id,
            "voided": voided,
            "restored_fen": sum(d["restored_fen"] for d in voided),
        }

    @staticmethod
    def _void_rows(
        con: Connection, txn_id: int, rows: Sequence[Any], when: datetime
    ) -> list[dict[str, Any] | None]:
        """Void these redemptions (``None`` for one voided already), locking redemptions,
        then coupons by code, then per program its usage and counters."""
        live = []
        out: list[dict[str, Any] | None] = []
        for red in rows:
            done = con.execute(
                update(coupon_redemptions)
                .where(R.redemption_id == red["redemption_id"], R.voided_at.is_(None))
                .values(voided_at=when, void_txn_id=txn_id)
            ).rowcount
            out.append(None)
            if done == 1:
                live.append((len(out) - 1, red))
        codes: dict[int, str] = {}
        with_coupon = [red for _, red in live if red["coupon_id"] is not None]
        if with_coupon:
            found = con.execute(
                select(C.coupon_id, C.code).where(
                    C.coupon_id.in_([red["coupon_id"] for red in with_coupon])
                )
            ).all()
            codes = {int(cid): str(code) for cid, code in found}
        for red in sorted(with_coupon, key=lambda r: codes[int(r["coupon_id"])]):
            con.execute(
                update(coupons)
                .where(C.coupon_id == red["coupon_id"], C.redemption_id == red["redemption_id"])
                .values(status="issued", redemption_id=None)
            )
        for _, red in sorted(live, key=lambda x: (x[1]["program_id"], x[1]["redemption_id"])):
            if red["customer_id"] is not None:
                con.execute(
                    update(promotion_usage)
                    .where(U.program_id == red["program_id"], U.customer_id == red["customer_id"])
                    .values(uses=U.uses - 1)
                )
            con.execute(  # a limited program's counters; an unlimited one keeps none
                update(promotion_programs)
                .where(
                    P.program_id == red["program_id"],
                    or_(P.budget_fen.is_not(None), P.max_uses.is_not(None)),
                )
                .values(uses=P.uses - 1, spent_fen=P.spent_fen - red["discount_fen"])
            )
        for i, red in live:
            coupon_id = red["coupon_id"]
            out[i] = {
                "redemption_id": int(red["redemption_id"]),
                "coupon_code": codes.get(int(coupon_id)) if coupon_id is not None else None,
                "program_id": red["program_id"],
                "order_id": red["order_id"],
                "restored_fen": int(red["discount_fen"]),
                "voided_at": when.isoformat(),
            }
        return out

    # -- the O2O loop -------------------------------------------------------------------
    def issue_next_order(
        self,
        basket: Basket,
        *,
        order_id: str,
        customer_id: str,
        at: datetime | None = None,
    ) -> dict[str, Any]:
        """Issue the next-order coupons a committed order earned (once per order: the
        order id is the key), bound to the customer, valid ``valid_days`` from now."""
        when = at or utcnow()
        basket = Basket(basket.lines, basket.store_id, basket.channel, order_id)

        def work(con: Connection, txn_id: int) -> dict[str, Any]:
            q = self._quote(con, basket, customer_id, [], when)
            issued = []
            for program_id in q.next_order_rewards:
                program = self._program(con, program_id)
                assert isinstance(program.rule, NextOrderRule)
                [code] = codelib.generate(1)
                until = when + timedelta(days=int(program.params["valid_days"]))
                self._insert(
                    con,
                    program_id,
                    [code],
                    "next_order",
                    f"order:{order_id}",
                    customer_id,
                    when,
                    until,
                    when,
                    issued_order_id=order_id,
                )
                issued.append(
                    {"program_id": program_id, "code": code, "valid_until": until.isoformat()}
                )
            return {"order_id": order_id, "customer_id": customer_id, "coupons": issued}

        payload = {"basket": basket.to_dict(), "customer_id": customer_id}
        return run_once(
            self.engine,
            kind=NEXT_ORDER,
            key=f"next-order:{order_id}",
            payload=payload,
            work=work,
            reference=order_id,
            at=when,
        )
