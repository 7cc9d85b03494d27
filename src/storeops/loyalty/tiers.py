"""Member tiers: upgrade and downgrade from points *earned* or spend in a rolling window.

A :class:`TierRule` names a tier, its rank and what qualifies for it over the last
``window_days``: points earned (earns less clawbacks; redemptions and expiry do not
count, so spending points never costs a tier) and/or spend in fen. A member qualifies
for the highest-ranked tier whose thresholds they meet (either threshold suffices
when both are set). :func:`evaluate_tiers` moves every member to the tier they qualify
for, records each change with its reason in ``tier_changes``, and is idempotent for a
given ``as_of``: a second run changes nothing.

**Grace** (downgrades): a member is moved down only when they have held their tier
for at least ``window_days``, so an upgrade earned yesterday is not lost to a quiet
month; upgrades apply at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, and_, func, insert, select, update

from storeops.loyalty.points import CLAWBACK
from storeops.opsdb.ledger_tables import (
    ledger_accounts,
    ledger_entries,
    ledger_txns,
    members,
    point_lots,
)
from storeops.opsdb.ledger_tables import tier_changes as tier_changes_table


@dataclass(frozen=True)
class TierRule:
    name: str
    rank: int
    min_points_earned: int | None = None
    min_spend_fen: int | None = None

    def qualifies(self, points: int, spend_fen: int) -> bool:
        if self.min_points_earned is None and self.min_spend_fen is None:
            return True
        by_points = self.min_points_earned is not None and points >= self.min_points_earned
        by_spend = self.min_spend_fen is not None and spend_fen >= self.min_spend_fen
        return by_points or by_spend


#: standard → silver (2,000 points or ¥5,000 a year) → gold (8,000 or ¥20,000).
DEFAULT_TIERS = (
    TierRule("standard", 0),
    TierRule("silver", 1, min_points_earned=2_000, min_spend_fen=500_000),
    TierRule("gold", 2, min_points_earned=8_000, min_spend_fen=2_000_000),
)


def points_earned(engine: Engine, since: datetime, until: datetime) -> dict[str, int]:
    """Per member: points of lots earned in ``[since, until)`` (by any transaction: an
    earn or a POS commit) less points clawed back in that window."""
    lots, t, e, a = point_lots.c, ledger_txns.c, ledger_entries.c, ledger_accounts.c
    earned = (
        select(lots.member_id, func.sum(lots.points))
        .where(lots.earned_at >= since, lots.earned_at < until)
        .group_by(lots.member_id)
    )
    clawed = (
        select(a.owner, func.sum(e.amount))
        .select_from(ledger_entries.join(ledger_txns).join(ledger_accounts))
        .where(
            and_(a.asset == "points", a.owner != "system", t.kind == CLAWBACK,
                 t.created_at >= since, t.created_at < until)
        )
        .group_by(a.owner)
    )  # fmt: skip
    out: dict[str, int] = {}
    with engine.connect() as con:
        for member, total in con.execute(earned):
            out[str(member)] = int(total)
        for member, total in con.execute(clawed):  # clawbacks are negative entries
            out[str(member)] = out.get(str(member), 0) + int(total)
    return out


def qualifying_tier(rules: tuple[TierRule, ...], points: int, spend_fen: int) -> TierRule:
    best = [r for r in rules if r.qualifies(points, spend_fen)]
    return max(best, key=lambda r: r.rank)


def evaluate_tiers(
    engine: Engine,
    as_of: datetime,
    *,
    rules: tuple[TierRule, ...] = DEFAULT_TIERS,
    spend_fen: Mapping[str, int] | None = None,
    window_days: int = 365,
) -> list[dict[str, object]]:
    """Move members to the tier they qualify for (module doc); the changes made."""
    ranks = {r.name: r for r in rules}
    window = timedelta(days=window_days)
    earned = points_earned(engine, as_of - window, as_of)
    spend = dict(spend_fen or {})
    changes: list[dict[str, object]] = []
    with engine.begin() as con:
        rows = con.execute(
            select(members.c.member_id, members.c.tier, members.c.tier_since).where(
                members.c.status == "active"
            )
        ).all()
        for member_id, tier, since in rows:
            points, fen = earned.get(member_id, 0), spend.get(member_id, 0)
            target = qualifying_tier(rules, points, fen)
            current = ranks.get(tier)
            if current is None or target.rank == current.rank:
                continue
            if target.rank < current.rank and since is not None and as_of - since < window:
                continue  # grace: held for less than a window
            direction = "upgrade" if target.rank > current.rank else "downgrade"
            reason = f"{direction}: {points} points earned, {fen} fen spent in {window_days} days"
            con.execute(
                update(members)
                .where(members.c.member_id == member_id)
                .values(tier=target.name, tier_since=as_of)
            )
            con.execute(
                insert(tier_changes_table).values(
                    member_id=member_id, from_tier=tier, to_tier=target.name, reason=reason,
                    at=as_of,
                )
            )  # fmt: skip
            changes.append({"member_id": member_id, "from": tier, "to": target.name,
                            "reason": reason})  # fmt: skip
    return changes
