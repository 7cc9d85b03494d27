"""The till's three calls: quote, commit and refund.

**Quote** prices a basket with the live promotions and coupons
(:class:`storeops.promotions.service.PromotionService`), shows the member's points and
stored value, what paying with them leaves to pay, and the points the purchase earns.
It changes nothing.

**Commit** does, in one database transaction and once per idempotency key
(:func:`storeops.loyalty.ledger.run_once`): the promotions' redemptions (coupons
核销, budgets and limits), the points paid with, the stored value spent, the points
earned (:mod:`storeops.loyalty.earn_rules`) and the order's row in the warehouse feed
(``pos_feed``). Any refusal — a coupon already used, a short balance — rolls all of it
back. A retry with the same key gets the first answer back byte for byte; the same
key with another body is refused; a request whose key is still being processed in
this process is refused as *in flight*. An order id can be committed once.

**Refund** gives back up to what the order took, once per refund id: stored value
first (up to what the order paid with it), then the rest as money; the points the
order earned are clawed back in proportion (:mod:`storeops.loyalty.points`); a refund
of the whole order voids its promotions (coupons usable again, budgets restored). It
leaves its row in the feed too.

Points pay :data:`FEN_PER_POINT` fen each (100 points = ¥1).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from storeops.errors import StoreOpsError
from storeops.loyalty.earn_rules import EarnRules, points_for
from storeops.loyalty.ledger import (
    Entries,
    InFlightError,
    balance,
    member_account,
    run_once,
    write_entries,
)
from storeops.loyalty.points import POS_REFUND, PointsLedger, PointsPolicy
from storeops.loyalty.stored_value import StoredValue
from storeops.opsdb import audit, utcnow
from storeops.opsdb.ledger_tables import ledger_txns, members
from storeops.opsdb.pos_tables import pos_feed
from storeops.pos.guard import CouponGuard
from storeops.pos.schemas import CommitRequest, QuoteRequest, RefundRequest
from storeops.promotions.errors import CouponNotFoundError
from storeops.promotions.pricing import Quote
from storeops.promotions.service import PromotionService

COMMIT = "pos_commit"
FEN_PER_POINT = 1

_MEMBER = select(members.c.tier, members.c.customer_id).where(
    members.c.member_id == bindparam("member")
)
_INSERT_FEED = insert(pos_feed)


class PosError(StoreOpsError, ValueError):
    """A till request cannot be carried out as sent (HTTP 422)."""


class OrderExistsError(PosError):
    """The order id was already committed under another idempotency key (HTTP 409)."""


class PosService:
    def __init__(
        self,
        engine: Engine,
        *,
        earn_rules: EarnRules | None = None,
        points_policy: PointsPolicy | None = None,
    ) -> None:
        self.engine = engine
        self.promotions = PromotionService(engine)
        self.points = PointsLedger(engine, points_policy)
        self.stored_value = StoredValue(engine)
        self.earn_rules = earn_rules or EarnRules()
        self.guard = CouponGuard()
        self._inflight: set[str] = set()
        self._lock = threading.Lock()

    # -- helpers ------------------------------------------------------------------------
    @contextmanager
    def _claim(self, key: str) -> Iterator[None]:
        with self._lock:
            if key in self._inflight:
                raise InFlightError(
                    f"a request with Idempotency-Key {key!r} is still being processed; "
                    "retry the same request with the same key in a moment"
                )
            self._inflight.add(key)
        try:
            yield
        finally:
            with self._lock:
                self._inflight.discard(key)

    @staticmethod
    def _member(con: Connection, member_id: str | None) -> tuple[str, str | None]:
        """The member's tier and pseudonymous customer id (if linked)."""
        if member_id is None:
            return "standard", None
        row = con.execute(_MEMBER, {"member": member_id}).first()
        if row is None:
            raise PosError(f"no member {member_id!r}; enrol them or sell without a member")
        return str(row.tier), row.customer_id

    @classmethod
    def _tier(cls, con: Connection, member_id: str | None) -> str:
        return cls._member(con, member_id)[0]

    def _unknown_code(self, caller: str) -> None:
        """Count an unknown coupon code against ``caller``; audit a lockout."""
        if self.guard.failed(caller):
            with self.engine.begin() as con:
                audit(con, actor=caller, action="coupon.guessing_lockout", target=caller,
                      detail={"lockout_seconds": self.guard.lockout})  # fmt: skip

    def _check_value(self, req: QuoteRequest, total_fen: int) -> int:
        if req.member_id is None and (req.points_to_use or req.stored_value_fen):
            raise PosError("paying with points or stored value needs a member")
        points_fen = req.points_to_use * FEN_PER_POINT
        if points_fen + req.stored_value_fen > total_fen:
            raise PosError(
                f"points and stored value ({points_fen + req.stored_value_fen} fen) exceed "
                f"the {total_fen} fen due"
            )
        return points_fen

    # -- quote --------------------------------------------------------------------------
    def _priced(self, req: QuoteRequest, basket: Any, caller: str, when: datetime) -> Any:
        """The quote, counting unknown coupon codes against ``caller`` (guard)."""
        if req.coupon_codes:
            self.guard.check(caller)
        try:
            return self.promotions.quote(
                basket, customer_id=req.member_id, codes=req.coupon_codes, at=when
            )
        except CouponNotFoundError:
            self._unknown_code(caller)
            raise

    def quote(
        self, req: QuoteRequest, *, caller: str = "local", at: datetime | None = None
    ) -> dict[str, Any]:
        when = at or utcnow()
        q = self._priced(req, req.basket(), caller, when)
        points_fen = self._check_value(req, q.total_fen)
        with self.engine.connect() as con:
            tier = self._tier(con, req.member_id)
            member: dict[str, Any] | None = None
            if req.member_id is not None:
                member = {
                    "member_id": req.member_id,
                    "tier": tier,
                    "points": balance(con, member_account(con, req.member_id, "points")),
                    "stored_value_fen": balance(
                        con, member_account(con, req.member_id, "stored_value")
                    ),
                }
        earn = points_for(
            q.paid_lines(), tier=tier, rules=self.earn_rules, points_paid_fen=points_fen,
            stored_value_paid_fen=req.stored_value_fen, promotion_multiplier=q.points_multiplier,
        ) if req.member_id else 0  # fmt: skip
        return {
            "quote": q.to_dict(),
            "member": member,
            "points_fen": points_fen,
            "stored_value_fen": req.stored_value_fen,
            "payable_fen": q.total_fen - points_fen - req.stored_value_fen,
            "points_to_earn": earn,
        }

    # -- commit -------------------------------------------------------------------------
    def commit(
        self, req: CommitRequest, *, key: str, caller: str = "local", at: datetime | None = None
    ) -> dict[str, Any]:
        when = at or utcnow()
        basket = req.basket(order_id=req.order_id)
        if req.coupon_codes:
            self.guard.check(caller)

        def work(con: Connection, txn_id: int) -> dict[str, Any]:
            # Order of the steps: reads, then the member's balances, then the shared
            # rows last (a program's counters, which every order with its offer
            # updates), so that they stay locked for as short a time as possible.
            tier, customer_id = self._member(con, req.member_id)
            priced = self.promotions.price_in(
                con, basket, customer_id=req.member_id, codes=req.coupon_codes, at=when
            )
            q = priced.quote
            total = q.total_fen
            points_fen = self._check_value(req, total)
            member = req.member_id
            out: dict[str, Any] = {"order_id": req.order_id, "promotions": None}
            entries: Entries = []  # the ledger entries of all steps, written at once
            earned = 0
            if member is not None:
                earned = points_for(
                    q.paid_lines(), tier=tier, rules=self.earn_rules,
                    points_paid_fen=points_fen, stored_value_paid_fen=req.stored_value_fen,
                    promotion_multiplier=q.points_multiplier,
                )  # fmt: skip
                # Points paid and earned move the points balance once (paid first: the
                # points earned do not pay for this sale).
                paid, got = self.points.pay_and_earn_in(
                    con, txn_id, member, req.points_to_use, earned, when, entries=entries
                )
                if paid is not None:
                    out["points_paid"] = paid
                if req.stored_value_fen:
                    out["stored_value"] = self.stored_value.spend_in(
                        con, txn_id, member, req.stored_value_fen, entries=entries
                    )
                if got is not None:
                    out["points_earned"] = got
            write_entries(con, entries)
            payable = total - points_fen - req.stored_value_fen
            out.update(
                {
                    "gross_fen": q.gross_fen,
                    "discount_fen": q.discount_fen,
                    "total_fen": total,
                    "points_fen": points_fen,
                    "stored_value_fen": req.stored_value_fen,
                    "payable_fen": payable,
                    "points_to_earn": earned,
                }
            )
            self._feed_order(con, req, q, customer_id, out, when)
            out["promotions"] = self.promotions.record_in(
                con, txn_id, priced, basket, customer_id=req.member_id, at=when
            )
            return out

        with self._claim(key):
            try:
                return run_once(
                    self.engine, kind=COMMIT, key=key, payload=req.model_dump(), work=work,
                    member_id=req.member_id, reference=req.order_id, at=when, exclusive=True,
                )  # fmt: skip
            except CouponNotFoundError:
                self._unknown_code(caller)
                raise
            except IntegrityError:
                if self._fed(req.order_id):
                    raise OrderExistsError(
                        f"order {req.order_id} was already committed under another "
                        "Idempotency-Key; resend with the original key to get its answer"
                    ) from None
                raise

    def _order_member(self, order_id: str) -> str | None:
        with self.engine.connect() as con:
            rows = con.execute(
                select(pos_feed.c.rows).where(
                    pos_feed.c.reference == order_id, pos_feed.c.kind == "order"
                )
            ).scalar_one_or_none()
        return None if rows is None else rows["value"]["member_id"]

    def _fed(self, reference: str) -> bool:
        with self.engine.connect() as con:
            found = con.execute(
                select(pos_feed.c.feed_id).where(pos_feed.c.reference == reference)
            ).first()
        return found is not None

    @staticmethod
    def _feed_order(
        con: Connection,
        req: CommitRequest,
        q: Quote,
        customer_id: str | None,
        out: dict[str, Any],
        when: datetime,
    ) -> None:
        """The order's row in the warehouse feed (``customer_id``: the member's
        pseudonymous customer id, if linked)."""
        codes = [a.coupon_code for a in q.applied]
        order = {
            "order_id": req.order_id,
            "store_id": req.store_id,
            "channel": "store",
            "customer_id": customer_id,
            "ts": when.isoformat(),
            "total_fen": out["total_fen"],
            "discount_fen": out["discount_fen"],
            "currency": "CNY",
            "coupon_code": next((c for c in codes if c), None),
            "payment": req.payment,
            "status": "completed",
        }
        lines = [
            {
                "order_id": req.order_id,
                "line_no": i,
                "sku": ln.sku,
                "quantity": ln.quantity,
                "unit_price_fen": ln.unit_price_fen,
                "discount_fen": ln.discount_fen,
                "amount_fen": ln.net_fen,
            }
            for i, ln in enumerate(q.lines, start=1)
        ]
        con.execute(
            _INSERT_FEED,
            {
                "kind": "order",
                "reference": req.order_id,
                "store_id": req.store_id,
                "rows": {
                    "orders": [order],
                    "order_lines": lines,
                    "value": {
                        "member_id": req.member_id,
                        "points_fen": out["points_fen"],
                        "stored_value_fen": out["stored_value_fen"],
                    },
                },
                "created_at": when,
            },
        )

    # -- refund -------------------------------------------------------------------------
    def refund(self, req: RefundRequest, *, key: str, at: datetime | None = None) -> dict[str, Any]:
        when = at or utcnow()

        def work(con: Connection, txn_id: int) -> dict[str, Any]:
            # Refunds of one order run one at a time: each takes the order's feed row
            # lock (a zero update) before reading what earlier refunds gave back.
            con.execute(
                update(pos_feed)
                .where(pos_feed.c.reference == req.order_id)
                .values(store_id=pos_feed.c.store_id)
            )
            done = con.execute(
                select(pos_feed.c.feed_id).where(pos_feed.c.reference == f"refund:{req.refund_id}")
            ).first()
            if done is not None:
                raise OrderExistsError(
                    f"refund {req.refund_id} was already made under another "
                    "Idempotency-Key; resend with the original key to get its answer"
                )
            row = con.execute(
                select(pos_feed.c.rows, pos_feed.c.store_id).where(
                    pos_feed.c.reference == req.order_id, pos_feed.c.kind == "order"
                )
            ).first()
            if row is None or row.store_id != req.store_id:
                raise PosError(f"no order {req.order_id} at store {req.store_id}")
            order = row.rows["orders"][0]
            value = row.rows["value"]
            before = _refunded(con, req.order_id, txn_id)
            total = int(order["total_fen"])
            if before["amount_fen"] + req.amount_fen > total:
                raise PosError(
                    f"refunds of order {req.order_id} would reach "
                    f"{before['amount_fen'] + req.amount_fen} fen, more than its {total}"
                )
            member = value["member_id"]
            sv_left = int(value["stored_value_fen"]) - before["stored_value_fen"]
            sv_back = min(req.amount_fen, max(sv_left, 0))
            out: dict[str, Any] = {
                "order_id": req.order_id,
                "refund_id": req.refund_id,
                "amount_fen": req.amount_fen,
                "stored_value_fen": sv_back,
                "money_fen": req.amount_fen - sv_back,
                "points": None,
                "promotions_voided": False,
            }
            if member is not None and sv_back:
                self.stored_value.refund_in(con, txn_id, member, sv_back, req.order_id)
            if member is not None:
                out["points"] = self.points.refund_in(
                    con, txn_id, member, order_id=req.order_id, refund_id=req.refund_id,
                    refund_fen=req.amount_fen, order_fen=total,
                )  # fmt: skip
            if before["amount_fen"] + req.amount_fen == total:
                self.promotions.void_order_in(con, txn_id, req.order_id, at=when)
                out["promotions_voided"] = True
            con.execute(
                insert(pos_feed).values(
                    kind="refund",
                    reference=f"refund:{req.refund_id}",
                    store_id=req.store_id,
                    rows={
                        "refunds": [
                            {
                                "refund_id": req.refund_id,
                                "order_id": req.order_id,
                                "amount_fen": req.amount_fen,
                                "ts": when.isoformat(),
                                "reason": req.reason,
                            }
                        ],
                        "value": {"stored_value_fen": sv_back},
                    },
                    created_at=when,
                )
            )
            return out

        with self._claim(key):
            try:
                return run_once(
                    self.engine, kind=POS_REFUND, key=key, payload=req.model_dump(),
                    work=work, member_id=self._order_member(req.order_id),
                    reference=req.order_id, at=when, exclusive=True,
                )  # fmt: skip
            except IntegrityError:
                if self._fed(f"refund:{req.refund_id}"):
                    raise OrderExistsError(
                        f"refund {req.refund_id} was already made under another "
                        "Idempotency-Key; resend with the original key to get its answer"
                    ) from None
                raise


def _refunded(con: Connection, order_id: str, txn_id: int) -> dict[str, int]:
    """Money and stored value the order's earlier refunds gave back (their answers)."""
    t = ledger_txns.c
    results = con.execute(
        select(t.result).where(
            t.kind == POS_REFUND,
            t.reference == order_id,
            t.txn_id != txn_id,
            t.result.is_not(None),
        )
    ).scalars()
    amount = sv = 0
    for r in results:
        amount += int(r["amount_fen"])
        sv += int(r["stored_value_fen"])
    return {"amount_fen": amount, "stored_value_fen": sv}
