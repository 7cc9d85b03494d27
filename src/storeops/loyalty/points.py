"""The points ledger: earn, redeem, refund clawback and expiry, in lots.

Accounts (asset ``points``): each member's ``balance``; on the system side
``issued`` (earned points), ``redeemed``, ``clawback`` and ``expired``. Every
operation is one double-entry transaction (:mod:`storeops.loyalty.ledger`), safe to
retry with its idempotency key.

**Lots.** Each earn makes a lot that expires ``PointsPolicy.expiry_days`` after it was
earned. Redemptions take points from the unexpired lots with the earliest expiry first
(then the oldest lot), and record which lot gave how many (``point_lot_uses``); a
member's balance always equals the sum of their lots' remaining points.

**Refund clawback** (policy). A refund of ``refund_fen`` of an order of ``order_fen``
takes back ``floor(earned × refunded so far / order_fen)`` of the points that order
earned, minus what earlier refunds of the order already took back. The points come
from the order's own lot first, then from the member's other lots, earliest expiry
first. **When the points were already spent** and the balance cannot cover the
clawback, the balance goes to 0 and the rest is reported as ``unrecovered`` on that
refund and not pursued later: a balance never goes negative. The refund id is the
idempotency key, so the same refund sent twice changes nothing the second time.

**Expiry** (:meth:`PointsLedger.expire`): every lot whose expiry is at or before
``as_of`` with points left loses them in its own transaction keyed by the lot, so
running the job again (or concurrently) expires nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, and_, bindparam, case, func, insert, select, update

from storeops.loyalty.ledger import (
    AssetBook,
    Entries,
    InsufficientBalanceError,
    LedgerError,
    balance,
    lock_balance,
    member_account,
    post,
    require_member,
    require_positive,
    run_once,
)
from storeops.opsdb import utcnow
from storeops.opsdb.ledger_tables import ledger_txns, point_lot_uses, point_lots

ASSET = "points"
EARN, REDEEM, CLAWBACK, EXPIRE = "points_earn", "points_redeem", "points_clawback", "points_expire"
SYSTEM_PURPOSES = ("issued", "redeemed", "clawback", "expired")
#: Transactions that claw points back: standalone, or within a POS refund (its answer
#: carries the clawback under ``points``).
POS_REFUND = "pos_refund"
REFUND_KINDS = (CLAWBACK, POS_REFUND)

# Statements of the POS commit's path, built once (see storeops.loyalty.ledger).
_lots = point_lots.c
_INSERT_LOT = insert(point_lots).returning(_lots.lot_id)
_TAKE = (
    update(point_lots)
    .where(_lots.lot_id == bindparam("lot"), _lots.remaining >= bindparam("taken"))
    .values(remaining=_lots.remaining - bindparam("taken"))
)
_INSERT_LOT_USE = insert(point_lot_uses)
#: A member's unexpired lots with points left, earliest expiry first.
_LIVE_LOTS = (
    select(_lots.lot_id, _lots.remaining)
    .where(
        _lots.member_id == bindparam("member"),
        _lots.remaining > 0,
        _lots.expires_at > bindparam("now", type_=_lots.expires_at.type),
    )
    .order_by(_lots.expires_at, _lots.lot_id)
)
#: The whole redemption from the first live lot, when it has enough (the usual case):
#: one statement instead of reading the lots first. No row back: it has not.
_TAKE_FROM_FIRST = (
    update(point_lots)
    .where(
        _lots.lot_id == _LIVE_LOTS.with_only_columns(_lots.lot_id).limit(1).scalar_subquery(),
        _lots.remaining >= bindparam("taken"),
    )
    .values(remaining=_lots.remaining - bindparam("taken"))
    .returning(_lots.lot_id)
)


@dataclass(frozen=True)
class PointsPolicy:
    """How long earned points live."""

    expiry_days: int = 365


class PointsLedger(AssetBook):
    """Points operations on one ops database."""

    asset = ASSET
    system_purposes = SYSTEM_PURPOSES

    def __init__(self, engine: Engine, policy: PointsPolicy | None = None) -> None:
        super().__init__(engine)
        self.policy = policy or PointsPolicy()

    # -- steps inside a caller's transaction (the POS commit composes them) ----------
    def earn_in(
        self,
        con: Connection,
        txn_id: int,
        member_id: str,
        points: int,
        when: datetime,
        *,
        entries: Entries | None = None,
    ) -> dict[str, Any]:
        """Credit ``points`` as a new lot inside transaction ``txn_id`` (``entries``:
        see :func:`~storeops.loyalty.ledger.post`)."""
        require_positive(points, "points to earn")
        member_acc, issued = self._account_in(con, member_id), self._system("issued")
        new = post(
            con, txn_id, [(member_acc, points, True), (issued, -points, False)], entries=entries
        )
        return self._new_lot(con, txn_id, member_id, points, when, new[member_acc])

    def _new_lot(
        self, con: Connection, txn_id: int, member_id: str, points: int, when: datetime, new: int
    ) -> dict[str, Any]:
        """The lot of ``points`` just earned; the earn's answer (``new``: the balance)."""
        expires = when + timedelta(days=self.policy.expiry_days)
        lot = con.execute(
            _INSERT_LOT,
            {
                "member_id": member_id,
                "txn_id": txn_id,
                "points": points,
                "remaining": points,
                "earned_at": when,
                "expires_at": expires,
            },
        ).scalar_one()
        return {
            "member_id": member_id,
            "points": points,
            "lot_id": lot,
            "expires_at": expires.isoformat(),
            "balance": new,
        }

    def pay_and_earn_in(
        self,
        con: Connection,
        txn_id: int,
        member_id: str,
        paid: int,
        earned: int,
        when: datetime,
        *,
        entries: Entries | None = None,
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """Points paid with and points earned by one sale inside ``txn_id``: what
        :meth:`redeem_in` and then :meth:`earn_in` answer (``None`` for a zero part),
        with one move of the member's balance. The points earned do not pay: the
        balance must cover ``paid`` on its own, and the new lot is not drawn from."""
        if not paid and not earned:
            return None, None
        member_acc = self._account_in(con, member_id)
        lines = []
        if paid:
            require_positive(paid, "points to redeem")
            lines += [(member_acc, -paid, True), (self._system("redeemed"), paid, False)]
        if earned:
            require_positive(earned, "points to earn")
            lines += [(member_acc, earned, True), (self._system("issued"), -earned, False)]
        new = post(
            con,
            txn_id,
            lines,
            insufficient=f"member {member_id} has fewer than {paid} points",
            entries=entries,
        )[member_acc]
        paid_answer = earned_answer = None
        if paid:
            self._take_lots(con, txn_id, member_id, paid, when)
            paid_answer = {"member_id": member_id, "points": paid, "balance": new - earned}
        if earned:
            earned_answer = self._new_lot(con, txn_id, member_id, earned, when, new)
        return paid_answer, earned_answer

    @staticmethod
    def _take_lots(
        con: Connection, txn_id: int, member_id: str, points: int, when: datetime
    ) -> None:
        taken = _consume(con, txn_id, member_id, points, when)
        if taken < points:
            raise InsufficientBalanceError(
                f"member {member_id} has only {taken} unexpired points; {points} asked"
            )

    def redeem_in(
        self,
        con: Connection,
        txn_id: int,
        member_id: str,
        points: int,
        when: datetime,
        *,
        entries: Entries | None = None,
    ) -> dict[str, Any]:
        """Take ``points`` from unexpired lots inside transaction ``txn_id``."""
        require_positive(points, "points to redeem")
        member_acc, redeemed = self._account_in(con, member_id), self._system("redeemed")
        new = post(
            con,
            txn_id,
            [(member_acc, -points, True), (redeemed, points, False)],
            insufficient=f"member {member_id} has fewer than {points} points",
            entries=entries,
        )
        self._take_lots(con, txn_id, member_id, points, when)
        return {"member_id": member_id, "points": points, "balance": new[member_acc]}

    def refund_in(
        self,
        con: Connection,
        txn_id: int,
        member_id: str,
        *,
        order_id: str,
        refund_id: str,
        refund_fen: int,
        order_fen: int,
    ) -> dict[str, Any]:
        """The clawback of :meth:`refund` inside transaction ``txn_id``. Its answer is
        what later refunds of the order read back (``refund_fen``, ``target``)."""
        member_acc, clawback = member_account(con, member_id, ASSET), self._system("clawback")
        require_member(con, member_id)
        # Lock the balance row first: refunds of one member run one at a time and each
        # sees the refunds committed before it.
        available = lock_balance(con, member_acc)
        earned, own_lot = _earned_for(con, member_id, order_id)
        before = _clawed_for(con, member_id, order_id, txn_id)
        refunded = before["refunded_fen"] + refund_fen
        if refunded > order_fen:
            raise LedgerError(
                f"refunds of order {order_id} would reach {refunded} fen, more than the "
                f"order's {order_fen}"
            )
        target = earned * refunded // order_fen - before["target"]
        take = min(target, available)
        if take > 0:
            post(con, txn_id, [(member_acc, -take, True), (clawback, take, False)])
            _consume(con, txn_id, member_id, take, None, prefer_lot=own_lot)
        return {
            "member_id": member_id,
            "order_id": order_id,
            "refund_id": refund_id,
            "refund_fen": refund_fen,
            "refunded_fen": refunded,
            "target": before["target"] + target,
            "clawed_back": take,
            "unrecovered": target - take,
            "balance": balance(con, member_acc),
        }

    # -- operations -----------------------------------------------------------------
    def earn(
        self,
        member_id: str,
        points: int,
        *,
        key: str,
        reference: str | None = None,
        at: datetime | None = None,
    ) -> dict[str, Any]:
        """Credit ``points`` (a new lot) for ``reference`` (usually the order id)."""
        require_positive(points, "points to earn")
        when = at or utcnow()

        return self._once(
            EARN, key=key, member_id=member_id, reference=reference, at=when,
            payload={"member_id": member_id, "points": points, "reference": reference},
            step=lambda con, txn_id: self.earn_in(con, txn_id, member_id, points, when),
        )  # fmt: skip

    def redeem(
        self,
        member_id: str,
        points: int,
        *,
        key: str,
        reference: str | None = None,
        at: datetime | None = None,
    ) -> dict[str, Any]:
        """Spend ``points`` from unexpired lots, earliest expiry first."""
        require_positive(points, "points to redeem")
        when = at or utcnow()

        return self._once(
            REDEEM, key=key, member_id=member_id, reference=reference, at=when,
            payload={"member_id": member_id, "points": points, "reference": reference},
            step=lambda con, txn_id: self.redeem_in(con, txn_id, member_id, points, when),
        )  # fmt: skip

    def refund(
        self,
        member_id: str,
        *,
        order_id: str,
        refund_id: str,
        refund_fen: int,
        order_fen: int,
        at: datetime | None = None,
    ) -> dict[str, Any]:
        """Claw back the points ``order_id`` earned, in proportion (module doc)."""
        require_positive(refund_fen, "refund amount")
        require_positive(order_fen, "order amount")
        if refund_fen > order_fen:
            raise LedgerError(f"refund {refund_fen} fen is more than the order's {order_fen}")
        when = at or utcnow()

        def work(con: Connection, txn_id: int) -> dict[str, Any]:
            return self.refund_in(con, txn_id, member_id, order_id=order_id,
                                  refund_id=refund_id, refund_fen=refund_fen,
                                  order_fen=order_fen)  # fmt: skip

        payload = {
            "member_id": member_id,
            "order_id": order_id,
            "refund_fen": refund_fen,
            "order_fen": order_fen,
        }
        return run_once(
            self.engine, kind=CLAWBACK, key=f"points-refund:{refund_id}", payload=payload,
            work=work, member_id=member_id, reference=order_id, at=when,
        )  # fmt: skip

    def expire(self, as_of: datetime) -> dict[str, int]:
        """Expire every lot due at ``as_of`` (idempotent; see module doc)."""
        lots = point_lots.c
        with self.engine.connect() as con:
            due = con.execute(
                select(lots.lot_id, lots.member_id)
                .where(lots.expires_at <= as_of, lots.remaining > 0)
                .order_by(lots.expires_at, lots.lot_id)
            ).all()
        expired_points = expired_lots = 0
        expired_acc = self._system("expired")
        for lot_id, member_id in due:
            member_acc = self._member_account(member_id)

            def work(con: Connection, txn_id: int, lot_id: int = lot_id,
                     member_acc: int = member_acc) -> dict[str, Any]:  # fmt: skip
                lock_balance(con, member_acc)
                left = int(
                    con.execute(select(lots.remaining).where(lots.lot_id == lot_id)).scalar_one()
                )
                if left > 0:
                    post(con, txn_id, [(member_acc, -left, True), (expired_acc, left, False)])
                    _take(con, txn_id, lot_id, left)
                return {"lot_id": lot_id, "points": left}

            result = run_once(
                self.engine, kind=EXPIRE, key=f"points-expire:{lot_id}",
                payload={"lot_id": lot_id}, work=work, member_id=member_id, at=as_of,
            )  # fmt: skip
            if result["points"]:
                expired_lots += 1
                expired_points += int(result["points"])
        return {"lots": expired_lots, "points": expired_points}


def _take(con: Connection, txn_id: int, lot_id: int, points: int) -> None:
    done = con.execute(_TAKE, {"lot": lot_id, "taken": points}).rowcount
    if done != 1:
        raise LedgerError(f"lot {lot_id} changed underneath transaction {txn_id}")
    con.execute(_INSERT_LOT_USE, {"txn_id": txn_id, "lot_id": lot_id, "points": points})


def _consume(
    con: Connection,
    txn_id: int,
    member_id: str,
    points: int,
    now: datetime | None,
    prefer_lot: int | None = None,
) -> int:
    """Take up to ``points`` from the member's lots (unexpired at ``now`` when given),
    ``prefer_lot`` first, then earliest expiry; returns the points taken."""
    lots = point_lots.c
    if now is not None and prefer_lot is None:  # a redemption: the common case
        first_lot = con.execute(
            _TAKE_FROM_FIRST, {"member": member_id, "now": now, "taken": points}
        ).scalar_one_or_none()
        if first_lot is not None:
            con.execute(_INSERT_LOT_USE, {"txn_id": txn_id, "lot_id": first_lot, "points": points})
            return points
        rows = con.execute(_LIVE_LOTS, {"member": member_id, "now": now}).all()
    else:
        query = select(lots.lot_id, lots.remaining).where(
            lots.member_id == member_id, lots.remaining > 0
        )
        if now is not None:
            query = query.where(lots.expires_at > now)
        first = case((lots.lot_id == prefer_lot, 0), else_=1) if prefer_lot is not None else None
        order = [first] if first is not None else []
        rows = con.execute(query.order_by(*order, lots.expires_at, lots.lot_id)).all()
    taken = 0
    for lot_id, remaining in rows:
        if taken >= points:
            break
        part = min(int(remaining), points - taken)
        _take(con, txn_id, int(lot_id), part)
        taken += part
    return taken


def _earned_for(con: Connection, member_id: str, order_id: str) -> tuple[int, int | None]:
    """Points the member earned for ``order_id`` (lots made by any transaction for it:
    an earn or a POS commit) and the first of those lots."""
    t = ledger_txns.c
    rows = con.execute(
        select(point_lots.c.lot_id, point_lots.c.points)
        .select_from(point_lots.join(ledger_txns, point_lots.c.txn_id == t.txn_id))
        .where(and_(t.member_id == member_id, t.reference == order_id))
        .order_by(point_lots.c.lot_id)
    ).all()
    if not rows:
        return 0, None
    return sum(int(r.points) for r in rows), int(rows[0].lot_id)


def _clawed_for(con: Connection, member_id: str, order_id: str, txn_id: int) -> dict[str, int]:
    """Refunded fen and clawback target of the order's earlier refunds: standalone
    clawbacks, or refunds composed with others (their answer's ``points`` part)."""
    t = ledger_txns.c
    results = con.execute(
        select(t.result).where(
            t.kind.in_(REFUND_KINDS),
            t.member_id == member_id,
            t.reference == order_id,
            t.txn_id != txn_id,
            t.result.is_not(None),
        )
    ).scalars()
    refunded = target = 0
    for r in results:
        part = r.get("points", r)
        if not part:
            continue
        refunded += int(part["refund_fen"])
        target = max(target, int(part["target"]))
    return {"refunded_fen": refunded, "target": target}


def lot_totals(engine: Engine, member_id: str) -> int:
    """Sum of the member's lots' remaining points (equals the balance)."""
    with engine.connect() as con:
        return int(
            con.execute(
                select(func.coalesce(func.sum(point_lots.c.remaining), 0)).where(
                    point_lots.c.member_id == member_id
                )
            ).scalar_one()
        )
