"""Stored value (储值): top-ups with bonus rules, spends and refunds, in fen.

Accounts (asset ``stored_value``): each member's ``balance``; on the system side
``cash`` (money received for top-ups), ``bonus`` (bonus value given, e.g. 充500送50)
and ``spent`` (value used on orders). Every operation is one double-entry transaction,
safe to retry with its idempotency key; a spend never takes a balance below 0, also
under concurrent spends (see :mod:`storeops.loyalty.ledger`).

**Bonus rules**: a top-up of at least ``threshold_fen`` gets ``bonus_fen`` on top; the
highest threshold reached applies (one bonus per top-up).

**Refund** of a spend gives back at most what that reference (the order) spent, less
what earlier refunds of it gave back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from storeops.loyalty.ledger import (
    AssetBook,
    Entries,
    LedgerError,
    lock_balance,
    post,
    require_member,
    require_positive,
    run_once,
)
from storeops.opsdb.ledger_tables import ledger_entries, ledger_txns

ASSET = "stored_value"
TOP_UP, SPEND, REFUND = "sv_top_up", "sv_spend", "sv_refund"
SYSTEM_PURPOSES = ("cash", "bonus", "spent")


@dataclass(frozen=True)
class TopUpBonus:
    """Top up at least ``threshold_fen``, get ``bonus_fen`` more."""

    threshold_fen: int
    bonus_fen: int


#: 充500送50, 充1000送120.
DEFAULT_BONUSES = (TopUpBonus(50_000, 5_000), TopUpBonus(100_000, 12_000))


def bonus_for(amount_fen: int, rules: tuple[TopUpBonus, ...]) -> int:
    reached = [r for r in rules if amount_fen >= r.threshold_fen]
    return max(reached, key=lambda r: r.threshold_fen).bonus_fen if reached else 0


class StoredValue(AssetBook):
    """Stored-value operations on one ops database."""

    asset = ASSET
    system_purposes = SYSTEM_PURPOSES

    def __init__(self, engine: Engine, bonuses: tuple[TopUpBonus, ...] = DEFAULT_BONUSES) -> None:
        super().__init__(engine)
        self.bonuses = bonuses

    def top_up(
        self,
        member_id: str,
        amount_fen: int,
        *,
        key: str,
        reference: str | None = None,
        at: datetime | None = None,
    ) -> dict[str, Any]:
        """Add ``amount_fen`` paid plus the bonus it earns."""
        require_positive(amount_fen, "top-up amount (fen)")
        bonus = bonus_for(amount_fen, self.bonuses)
        member_acc = self._member_account(member_id)
        cash, bonus_acc = self._system("cash"), self._system("bonus")

        def work(con: Connection, txn_id: int) -> dict[str, Any]:
            require_member(con, member_id)
            lines = [(member_acc, amount_fen + bonus, True), (cash, -amount_fen, False)]
            lines.append((bonus_acc, -bonus, False))
            new = post(con, txn_id, lines)
            return {
                "member_id": member_id,
                "amount_fen": amount_fen,
                "bonus_fen": bonus,
                "balance_fen": new[member_acc],
            }

        payload = {"member_id": member_id, "amount_fen": amount_fen, "reference": reference}
        return run_once(
            self.engine, kind=TOP_UP, key=key, payload=payload, work=work,
            member_id=member_id, reference=reference, at=at,
        )  # fmt: skip

    def spend_in(
        self,
        con: Connection,
        txn_id: int,
        member_id: str,
        amount_fen: int,
        *,
        entries: Entries | None = None,
    ) -> dict[str, Any]:
        """Pay ``amount_fen`` inside transaction ``txn_id`` (the POS commit composes it;
        ``entries``: see :func:`~storeops.loyalty.ledger.post`)."""
        require_positive(amount_fen, "spend amount (fen)")
        member_acc, spent = self._account_in(con, member_id), self._system("spent")
        new = post(
            con,
            txn_id,
            [(member_acc, -amount_fen, True), (spent, amount_fen, False)],
            insufficient=f"stored value of member {member_id} is below {amount_fen} fen",
            entries=entries,
        )
        return {"member_id": member_id, "amount_fen": amount_fen, "balance_fen": new[member_acc]}

    def refund_in(
        self, con: Connection, txn_id: int, member_id: str, amount_fen: int, reference: str
    ) -> dict[str, Any]:
        """Give back ``amount_fen`` of what ``reference`` spent, inside ``txn_id``."""
        require_positive(amount_fen, "refund amount (fen)")
        member_acc, spent = self._account_in(con, member_id), self._system("spent")
        lock_balance(con, member_acc)
        net = _net_spent(con, member_acc, reference)
        if amount_fen > net:
            raise LedgerError(
                f"refund of {amount_fen} fen is more than the {net} fen that {reference} "
                "spent and has not had back"
            )
        new = post(con, txn_id, [(member_acc, amount_fen, True), (spent, -amount_fen, False)])
        return {
            "member_id": member_id,
            "amount_fen": amount_fen,
            "reference": reference,
            "balance_fen": new[member_acc],
        }

    def spend(
        self,
        member_id: str,
        amount_fen: int,
        *,
        key: str,
        reference: str | None = None,
        at: datetime | None = None,
    ) -> dict[str, Any]:
        """Pay ``amount_fen`` from the balance; refused when the balance is short."""
        require_positive(amount_fen, "spend amount (fen)")

        return self._once(
            SPEND, key=key, member_id=member_id, reference=reference, at=at,
            payload={"member_id": member_id, "amount_fen": amount_fen, "reference": reference},
            step=lambda con, txn_id: self.spend_in(con, txn_id, member_id, amount_fen),
        )  # fmt: skip

    def refund(
        self,
        member_id: str,
        amount_fen: int,
        *,
        key: str,
        reference: str,
        at: datetime | None = None,
    ) -> dict[str, Any]:
        """Give back ``amount_fen`` of what ``reference`` spent."""
        require_positive(amount_fen, "refund amount (fen)")

        return self._once(
            REFUND, key=key, member_id=member_id, reference=reference, at=at,
            payload={"member_id": member_id, "amount_fen": amount_fen, "reference": reference},
            step=lambda con, txn_id: self.refund_in(con, txn_id, member_id, amount_fen, reference),
        )  # fmt: skip


def _net_spent(con: Connection, member_acc: int, reference: str) -> int:
    """What ``reference`` took from the account (spends, POS commits), less what came
    back (refunds), in fen."""
    t, e = ledger_txns.c, ledger_entries.c
    moved = con.execute(
        select(func.coalesce(func.sum(e.amount), 0))
        .select_from(ledger_entries.join(ledger_txns))
        .where(
            e.account_id == member_acc,
            t.reference == reference,
            t.kind != TOP_UP,
        )
    ).scalar_one()
    return -int(moved)
