"""The pricing function: ``quote(basket, customer, promotions, coupons, at) -> Quote``.

Pure and deterministic: no clock, no database, no randomness; the same inputs in any
order give the same quote. The service calls it with the programs and coupons it read
from the ops database, and the POS shows its answer at the till.

**Which offers apply.** An *offer* is an automatic program (threshold, percent off,
buy-X-get-Y) or a coupon presented with the basket. An offer is applicable when its
program is active, ``at`` lies in its window (and in the coupon's), the store and
channel are in scope, some lines are eligible, the minimum spend is reached on the
eligible lines' list price, and neither its budget, its total uses nor the customer's
limit would be exceeded. Every offer that is not applicable gets a stable reason code.

**Stacking: best offer wins unless marked stackable.** Among the applicable offers
that are not stackable, the one with the largest discount (each priced alone on the
full basket) applies; ties go to the lower ``priority`` number, then the program id,
then the code. The others are reported as ``outranked`` by it. Stackable offers then
all apply on top, in ``(priority, program id, code)`` order, each on what the eligible
lines still cost, so the total discount can never exceed the basket.

**Lines.** Each discount is spread over its eligible lines in proportion to what they
still cost (largest remainder, ties to the earlier line) and never takes a line below
0 fen.

**Points and the next order.** ``points_multiplier_pct`` is the highest multiplier of
the applicable points-multiplier programs (100 when none); ``next_order_rewards`` lists
the next-order programs this order triggers (they issue a coupon when the order is
committed).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from storeops.loyalty.earn_rules import PaidLine
from storeops.promotions.errors import PromotionError
from storeops.promotions.model import (
    Basket,
    Coupon,
    Customer,
    NextOrderRule,
    Program,
    Slot,
)

#: Stable reason codes, with what they mean. The POS may show the message; scripts
#: should test the code.
REASONS: dict[str, str] = {
    "unknown_program": "the coupon's program is not among the active programs",
    "inactive": "the program is paused or ended by an operator",
    "not_started": "the program or coupon is not valid yet",
    "expired": "the program or coupon is no longer valid",
    "already_redeemed": "the coupon was used already",
    "other_customer": "the coupon belongs to another customer",
    "customer_required": "the program has a per-customer limit: identify the customer",
    "same_order": "a next-order coupon cannot be used on the order that earned it",
    "wrong_store": "the program does not run in this store",
    "wrong_channel": "the program does not run in this channel",
    "no_eligible_items": "no line of the basket is in the program's categories or SKUs",
    "below_minimum": "the eligible lines do not reach the minimum spend",
    "budget_exhausted": "the program's budget or total uses are used up",
    "customer_limit_reached": "the customer used this program as often as allowed",
    "one_per_program": "another coupon of the same program is already in the basket",
    "outranked": "a better offer that does not stack applies instead",
    "nothing_left": "the lines this offer covers are already fully discounted",
    "needs_coupon": "the program applies only with one of its coupon codes",
}


@dataclass(frozen=True)
class QuoteLine:
    sku: str
    quantity: int
    unit_price_fen: int
    gross_fen: int
    discount_fen: int
    net_fen: int
    category: str | None = None


@dataclass(frozen=True)
class AppliedOffer:
    program_id: str
    kind: str
    name: str
    discount_fen: int
    stackable: bool
    coupon_code: str | None = None


@dataclass(frozen=True)
class OfferCheck:
    """Why an offer (a program or a coupon) was or was not applied."""

    program_id: str
    applied: bool
    reason: str | None = None
    message: str = ""
    coupon_code: str | None = None
    discount_fen: int = 0


@dataclass(frozen=True)
class Quote:
    lines: tuple[QuoteLine, ...]
    applied: tuple[AppliedOffer, ...]
    checks: tuple[OfferCheck, ...]
    coupons: tuple[OfferCheck, ...]
    gross_fen: int
    discount_fen: int
    total_fen: int
    points_multiplier_pct: int = 100
    points_multiplier_program: str | None = None
    next_order_rewards: tuple[str, ...] = ()

    @property
    def points_multiplier(self) -> float:
        """The multiplier as the points earn takes it (``points_for(…,
        promotion_multiplier=quote.points_multiplier)``)."""
        return self.points_multiplier_pct / 100

    def paid_lines(self) -> list[PaidLine]:
        """The lines as paid after discounts, for :func:`storeops.loyalty.points_for`."""
        return [PaidLine(ln.sku, ln.category, ln.net_fen) for ln in self.lines]

    def coupon(self, code: str) -> OfferCheck | None:
        return next((c for c in self.coupons if c.coupon_code == code), None)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, eq=False)  # hashed by identity
class _Offer:
    program: Program
    coupon: Coupon | None

    @property
    def sort_key(self) -> tuple[int, str, str]:
        code = self.coupon.code if self.coupon else ""
        return (self.program.priority, self.program.program_id, code)


def _window(start: datetime | None, end: datetime | None, at: datetime) -> str | None:
    if start is not None and at < start:
        return "not_started"
    if end is not None and at >= end:
        return "expired"
    return None


def _program_problem(p: Program, basket: Basket, customer: Customer, at: datetime) -> str | None:
    if p.status != "active":
        return "inactive"
    problem = _window(p.starts_at, p.ends_at, at)
    if problem:
        return problem
    if p.scope.stores and basket.store_id not in p.scope.stores:
        return "wrong_store"
    if p.scope.channels and basket.channel not in p.scope.channels:
        return "wrong_channel"
    if not any(p.scope.covers(line) for line in basket.lines):
        return "no_eligible_items"
    eligible = sum(line.gross_fen for line in basket.lines if p.scope.covers(line))
    if eligible < p.rule.min_spend(p.params):
        return "below_minimum"
    if p.max_uses is not None and p.uses >= p.max_uses:
        return "budget_exhausted"
    if p.budget_fen is not None and p.spent_fen >= p.budget_fen:
        return "budget_exhausted"
    if p.per_customer_limit is not None:
        if customer.customer_id is None:
            return "customer_required"
        if customer.uses.get(p.program_id, 0) >= p.per_customer_limit:
            return "customer_limit_reached"
    return None


def _coupon_problem(c: Coupon, basket: Basket, customer: Customer, at: datetime) -> str | None:
    if c.status != "issued":
        return "already_redeemed"
    if c.customer_id is not None and c.customer_id != customer.customer_id:
        return "other_customer"
    if c.issued_order_id is not None and c.issued_order_id == basket.order_id:
        return "same_order"
    return _window(c.valid_from, c.valid_until, at)


def _slots(p: Program, basket: Basket, nets: Sequence[int]) -> list[Slot]:
    return [Slot(i, line, nets[i]) for i, line in enumerate(basket.lines) if p.scope.covers(line)]


def _allocate(amount: int, slots: Sequence[Slot]) -> list[int]:
    """``amount`` spread over the slots in proportion to their net (sum exact)."""
    total = sum(s.net_fen for s in slots)
    if amount <= 0 or total <= 0:
        return [0] * len(slots)
    shares = [amount * s.net_fen // total for s in slots]
    rests = sorted(
        range(len(slots)), key=lambda i: (-(amount * slots[i].net_fen % total), slots[i].index)
    )
    for i in rests[: amount - sum(shares)]:
        shares[i] += 1
    return shares


def _check_basket(basket: Basket) -> None:
    for line in basket.lines:
        if line.quantity < 1 or line.unit_price_fen < 0:
            raise PromotionError(
                f"basket line {line.sku!r}: quantity must be >= 1 and the unit price >= 0 "
                f"fen (got {line.quantity} × {line.unit_price_fen})"
            )


def _budget_allows(p: Program, discount: int) -> bool:
    return p.budget_fen is None or p.spent_fen + discount <= p.budget_fen


def quote(
    basket: Basket,
    customer: Customer,
    promotions: Iterable[Program],
    coupons: Iterable[Coupon],
    at: datetime,
) -> Quote:
    """Price ``basket`` for ``customer`` at ``at`` (module doc for the rules)."""
    _check_basket(basket)
    programs = {p.program_id: p for p in sorted(promotions, key=lambda p: p.program_id)}
    checks: list[OfferCheck] = []
    coupon_checks: dict[str, OfferCheck] = {}
    offers: list[_Offer] = []

    multiplier, multiplier_program = 100, None
    rewards: list[str] = []
    for p in programs.values():
        if p.rule.needs_coupon:
            continue
        problem = _program_problem(p, basket, customer, at)
        if not p.rule.discounts:
            if problem is None:
                pct = int(p.params["multiplier_pct"])
                if pct > multiplier:
                    multiplier, multiplier_program = pct, p.program_id
                checks.append(OfferCheck(p.program_id, True))
            else:
                checks.append(OfferCheck(p.program_id, False, problem, REASONS[problem]))
            continue
        if problem is not None:
            checks.append(OfferCheck(p.program_id, False, problem, REASONS[problem]))
        else:
            offers.append(_Offer(p, None))

    used_programs: set[str] = set()
    for c in sorted({c.code: c for c in coupons}.values(), key=lambda c: c.code):
        owner = programs.get(c.program_id)
        trouble: str | None = "unknown_program"
        if owner is not None:
            trouble = _coupon_problem(c, basket, customer, at) or _program_problem(
                owner, basket, customer, at
            )
            if trouble is None and c.program_id in used_programs:
                trouble = "one_per_program"
        if trouble is not None or owner is None:
            reason = trouble or "unknown_program"
            coupon_checks[c.code] = OfferCheck(
                c.program_id, False, reason, REASONS[reason], coupon_code=c.code
            )
            continue
        used_programs.add(c.program_id)
        offers.append(_Offer(owner, c))

    # Each offer priced alone on the full basket: the basis of the best-offer rule.
    gross_nets = [line.gross_fen for line in basket.lines]
    alone: dict[_Offer, int] = {}
    for offer in offers:
        p = offer.program
        d = p.rule.discount(p.params, _slots(p, basket, gross_nets))
        alone[offer] = d

    def refuse(offer: _Offer, reason: str, message: str) -> None:
        check = OfferCheck(
            offer.program.program_id,
            False,
            reason,
            message,
            coupon_code=offer.coupon.code if offer.coupon else None,
        )
        if offer.coupon is not None:
            coupon_checks[offer.coupon.code] = check
        else:
            checks.append(check)

    live: list[_Offer] = []
    for offer in offers:
        if alone[offer] <= 0:
            refuse(offer, "nothing_left", REASONS["nothing_left"])
        elif not _budget_allows(offer.program, alone[offer]):
            refuse(offer, "budget_exhausted", REASONS["budget_exhausted"])
        else:
            live.append(offer)

    exclusive = sorted(
        (o for o in live if not o.program.stackable), key=lambda o: (-alone[o], *o.sort_key)
    )
    order = exclusive[:1] + sorted(
        (o for o in live if o.program.stackable), key=lambda o: o.sort_key
    )
    for loser in exclusive[1:]:
        winner = exclusive[0]
        label = winner.coupon.code if winner.coupon else winner.program.program_id
        refuse(
            loser,
            "outranked",
            f"{label} gives {alone[winner]} fen off, more than this offer's "
            f"{alone[loser]} fen, and this offer does not stack",
        )

    nets = list(gross_nets)
    line_discounts = [0] * len(nets)
    applied: list[AppliedOffer] = []
    for offer in order:
        p = offer.program
        slots = _slots(p, basket, nets)
        d = p.rule.discount(p.params, slots)
        if d <= 0:
            refuse(offer, "nothing_left", REASONS["nothing_left"])
            continue
        if not _budget_allows(p, d):  # cannot happen: d <= alone[offer]; kept as a guard
            refuse(offer, "budget_exhausted", REASONS["budget_exhausted"])
            continue
        for slot, share in zip(slots, _allocate(d, slots), strict=True):
            nets[slot.index] -= share
            line_discounts[slot.index] += share
        code = offer.coupon.code if offer.coupon else None
        applied.append(AppliedOffer(p.program_id, p.kind, p.name, d, p.stackable, code))
        if offer.coupon is not None:
            coupon_checks[code or ""] = OfferCheck(
                p.program_id, True, coupon_code=code, discount_fen=d
            )
        else:
            checks.append(OfferCheck(p.program_id, True, discount_fen=d))

    total = sum(nets)
    for p in programs.values():
        rule = p.rule
        if isinstance(rule, NextOrderRule) and rule.triggered_by(p.params, basket.channel, total):
            problem = _program_problem(p, basket, customer, at)
            # The reward is for a later order: only the window and status matter here.
            if problem in (
                None,
                "wrong_store",
                "wrong_channel",
                "no_eligible_items",
                "below_minimum",
            ):
                rewards.append(p.program_id)

    lines = tuple(
        QuoteLine(
            line.sku,
            line.quantity,
            line.unit_price_fen,
            line.gross_fen,
            line_discounts[i],
            nets[i],
            line.category,
        )
        for i, line in enumerate(basket.lines)
    )
    gross = basket.gross_fen
    return Quote(
        lines=lines,
        applied=tuple(applied),
        checks=tuple(sorted(checks, key=lambda c: c.program_id)),
        coupons=tuple(coupon_checks[k] for k in sorted(coupon_checks)),
        gross_fen=gross,
        discount_fen=gross - total,
        total_fen=total,
        points_multiplier_pct=multiplier,
        points_multiplier_program=multiplier_program,
        next_order_rewards=tuple(rewards),
    )
