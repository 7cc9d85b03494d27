"""The promotion data model: baskets, customers, programs, coupons and the rule kinds.

Everything here is plain, immutable data; the pricing function
(:func:`storeops.promotions.pricing.quote`) and the service work on it. Money is
integer fen throughout; percentages are whole percent and discounts round down
(never more than the rule says).

**Rule kinds** live in the ``RULES`` registry, one class per kind, each validating its
parameters and computing its discount from the eligible lines:

=================  ==============================================  ===========
kind               params                                          needs code
=================  ==============================================  ===========
coupon             amount_off_fen | percent_off, min_spend_fen,    yes
                   max_discount_fen
next_order         the coupon params for the reward, plus          yes
                   trigger_min_spend_fen, trigger_channels,
                   valid_days (the O2O loop)
threshold          tiers: [[min_spend_fen, off_fen], …] (满减)      no
percent_off        percent_off, min_spend_fen, max_discount_fen    no
buy_x_get_y        buy, get, get_percent_off (default 100: free)   no
points_multiplier  multiplier_pct (200 = ×2), min_spend_fen        no
=================  ==============================================  ===========

Minimum spends and thresholds are measured on the eligible lines' list price (before
any discount); the discount itself never exceeds what those lines still cost.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from storeops.promotions.errors import ProgramDefinitionError

# -- baskets and customers -------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """One basket line: ``quantity`` units of ``sku`` at ``unit_price_fen`` each."""

    sku: str
    unit_price_fen: int
    quantity: int = 1
    category: str | None = None

    @property
    def gross_fen(self) -> int:
        return self.unit_price_fen * self.quantity


@dataclass(frozen=True)
class Basket:
    """What is being bought, where, through which channel (``store``, ``online``, …)."""

    lines: tuple[Line, ...]
    store_id: str | None = None
    channel: str = "store"
    order_id: str | None = None

    @property
    def gross_fen(self) -> int:
        return sum(line.gross_fen for line in self.lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "lines": [
                {
                    "sku": ln.sku,
                    "unit_price_fen": ln.unit_price_fen,
                    "quantity": ln.quantity,
                    "category": ln.category,
                }
                for ln in self.lines
            ],
            "store_id": self.store_id,
            "channel": self.channel,
            "order_id": self.order_id,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Basket:
        lines = tuple(
            Line(
                sku=str(ln["sku"]),
                unit_price_fen=int(ln["unit_price_fen"]),
                quantity=int(ln.get("quantity", 1)),
                category=ln.get("category"),
            )
            for ln in data.get("lines", ())
        )
        return cls(
            lines=lines,
            store_id=data.get("store_id"),
            channel=str(data.get("channel", "store")),
            order_id=data.get("order_id"),
        )


@dataclass(frozen=True)
class Customer:
    """Who buys (``None``: anonymous) and how often they used each program so far."""

    customer_id: str | None = None
    uses: Mapping[str, int] = field(default_factory=dict)


ANONYMOUS = Customer()

# -- programs and coupons --------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Where a program applies; an empty set means "any"."""

    stores: frozenset[str] = frozenset()
    channels: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    skus: frozenset[str] = frozenset()

    def covers(self, line: Line) -> bool:
        """Whether the line is eligible (in the SKUs or in the categories listed)."""
        if not self.categories and not self.skus:
            return True
        return line.sku in self.skus or (
            line.category is not None and line.category in self.categories
        )

    def to_dict(self) -> dict[str, list[str]]:
        return {name: sorted(getattr(self, name)) for name in SCOPE_FIELDS}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Scope:
        data = data or {}
        unknown = set(data) - set(SCOPE_FIELDS)
        if unknown:
            raise ProgramDefinitionError(
                f"unknown scope field(s) {sorted(unknown)}; use {', '.join(SCOPE_FIELDS)}"
            )
        values: dict[str, frozenset[str]] = {}
        for name in SCOPE_FIELDS:
            raw = data.get(name, ())
            if isinstance(raw, str):
                raw = [raw]
            values[name] = frozenset(str(v) for v in raw)
        return cls(**values)


SCOPE_FIELDS = ("stores", "channels", "categories", "skus")


@dataclass(frozen=True)
class Program:
    """A promotion program, with its counters as last read from the database."""

    program_id: str
    kind: str
    params: Mapping[str, Any]
    name: str = ""
    scope: Scope = Scope()
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    stackable: bool = False
    priority: int = 100
    budget_fen: int | None = None
    max_uses: int | None = None
    per_customer_limit: int | None = None
    spent_fen: int = 0
    uses: int = 0
    status: str = "active"

    @property
    def rule(self) -> Rule:
        return RULES[self.kind]


@dataclass(frozen=True)
class Coupon:
    """One coupon code and its state."""

    code: str
    program_id: str
    status: str = "issued"
    customer_id: str | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    issued_order_id: str | None = None


# -- rule kinds ------------------------------------------------------------------------


@dataclass
class Slot:
    """One eligible line while pricing: its line and what it still costs."""

    index: int
    line: Line
    net_fen: int


def _int(
    params: Mapping[str, Any],
    name: str,
    *,
    minimum: int = 0,
    default: int | None = None,
    maximum: int | None = None,
) -> int:
    value = params.get(name, default)
    if value is None:
        raise ProgramDefinitionError(f"parameter {name!r} is required")
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ProgramDefinitionError(
            f"parameter {name!r} must be a whole number >= {minimum} (got {value!r})"
        )
    if maximum is not None and value > maximum:
        raise ProgramDefinitionError(f"parameter {name!r} must be at most {maximum}")
    return value


def _only(params: Mapping[str, Any], allowed: Sequence[str], kind: str) -> None:
    unknown = set(params) - set(allowed)
    if unknown:
        raise ProgramDefinitionError(
            f"unknown parameter(s) {sorted(unknown)} for a {kind} program; "
            f"it takes {', '.join(allowed)}"
        )


class Rule(ABC):
    """One kind of program: parameter validation and the discount it gives."""

    kind: ClassVar[str]
    #: Applies only with one of its coupon codes.
    needs_coupon: ClassVar[bool] = False
    #: Gives a discount (a points multiplier does not).
    discounts: ClassVar[bool] = True

    @abstractmethod
    def validate(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """The parameters, checked and with defaults filled in."""

    def min_spend(self, params: Mapping[str, Any]) -> int:
        return int(params.get("min_spend_fen", 0))

    @abstractmethod
    def discount(self, params: Mapping[str, Any], slots: Sequence[Slot]) -> int:
        """The discount on these eligible lines (the minimum spend is checked before)."""


def _amount_or_percent(
    params: Mapping[str, Any], kind: str, extra: Sequence[str]
) -> dict[str, Any]:
    _only(
        params, ("amount_off_fen", "percent_off", "min_spend_fen", "max_discount_fen", *extra), kind
    )
    out: dict[str, Any] = {"min_spend_fen": _int(params, "min_spend_fen", default=0)}
    if ("amount_off_fen" in params) == ("percent_off" in params):
        raise ProgramDefinitionError(
            f"a {kind} program needs exactly one of amount_off_fen (e.g. 2000 for 20 yuan "
            "off) or percent_off (e.g. 15 for 15% off)"
        )
    if "amount_off_fen" in params:
        out["amount_off_fen"] = _int(params, "amount_off_fen", minimum=1)
    else:
        out["percent_off"] = _int(params, "percent_off", minimum=1, maximum=100)
    if params.get("max_discount_fen") is not None:
        out["max_discount_fen"] = _int(params, "max_discount_fen", minimum=1)
    return out


def _amount_or_percent_discount(params: Mapping[str, Any], slots: Sequence[Slot]) -> int:
    net = sum(s.net_fen for s in slots)
    if "amount_off_fen" in params:
        off = int(params["amount_off_fen"])
    else:
        off = net * int(params["percent_off"]) // 100
    cap = params.get("max_discount_fen")
    if cap is not None:
        off = min(off, int(cap))
    return min(off, net)


class CouponRule(Rule):
    kind = "coupon"
    needs_coupon = True

    def validate(self, params: Mapping[str, Any]) -> dict[str, Any]:
        return _amount_or_percent(params, self.kind, ())

    def discount(self, params: Mapping[str, Any], slots: Sequence[Slot]) -> int:
        return _amount_or_percent_discount(params, slots)


class NextOrderRule(Rule):
    """Earned on one order (by default online), redeemed on a later one: the O2O loop."""

    kind = "next_order"
    needs_coupon = True
    TRIGGER = ("trigger_min_spend_fen", "trigger_channels", "valid_days")

    def validate(self, params: Mapping[str, Any]) -> dict[str, Any]:
        out = _amount_or_percent(params, self.kind, self.TRIGGER)
        out["trigger_min_spend_fen"] = _int(params, "trigger_min_spend_fen", default=0)
        channels = params.get("trigger_channels", ["online"])
        if isinstance(channels, str) or not all(isinstance(c, str) for c in channels):
            raise ProgramDefinitionError("trigger_channels must be a list of channel names")
        out["trigger_channels"] = sorted(channels)
        out["valid_days"] = _int(params, "valid_days", minimum=1, default=30)
        return out

    def discount(self, params: Mapping[str, Any], slots: Sequence[Slot]) -> int:
        return _amount_or_percent_discount(params, slots)

    def triggered_by(self, params: Mapping[str, Any], channel: str, total_fen: int) -> bool:
        return channel in params["trigger_channels"] and total_fen >= int(
            params["trigger_min_spend_fen"]
        )


class ThresholdRule(Rule):
    """满减: spend at least a tier's threshold, get its amount off; the best tier reached."""

    kind = "threshold"

    def validate(self, params: Mapping[str, Any]) -> dict[str, Any]:
        _only(params, ("tiers",), self.kind)
        tiers = params.get("tiers")
        if not isinstance(tiers, list | tuple) or not tiers:
            raise ProgramDefinitionError(
                "a threshold program needs tiers, e.g. [[20000, 4000], [30000, 8000]] for "
                "满200减40 and 满300减80"
            )
        clean: list[list[int]] = []
        for tier in tiers:
            if not isinstance(tier, list | tuple) or len(tier) != 2:
                raise ProgramDefinitionError(f"tier {tier!r} must be [min_spend_fen, off_fen]")
            t = {"min_spend_fen": tier[0], "off_fen": tier[1]}
            clean.append([_int(t, "min_spend_fen", minimum=1), _int(t, "off_fen", minimum=1)])
        clean.sort()
        if len({t[0] for t in clean}) != len(clean):
            raise ProgramDefinitionError("two tiers have the same min_spend_fen")
        return {"tiers": clean}

    def min_spend(self, params: Mapping[str, Any]) -> int:
        return min(int(t[0]) for t in params["tiers"])

    def discount(self, params: Mapping[str, Any], slots: Sequence[Slot]) -> int:
        gross = sum(s.line.gross_fen for s in slots)
        reached = [int(off) for spend, off in params["tiers"] if gross >= int(spend)]
        # Best tier reached: the largest amount off (tiers need not grow with spend).
        return min(max(reached, default=0), sum(s.net_fen for s in slots))


class PercentOffRule(Rule):
    kind = "percent_off"

    def validate(self, params: Mapping[str, Any]) -> dict[str, Any]:
        _only(params, ("percent_off", "min_spend_fen", "max_discount_fen"), self.kind)
        out: dict[str, Any] = {
            "percent_off": _int(params, "percent_off", minimum=1, maximum=100),
            "min_spend_fen": _int(params, "min_spend_fen", default=0),
        }
        if params.get("max_discount_fen") is not None:
            out["max_discount_fen"] = _int(params, "max_discount_fen", minimum=1)
        return out

    def discount(self, params: Mapping[str, Any], slots: Sequence[Slot]) -> int:
        return _amount_or_percent_discount(params, slots)


class BuyXGetYRule(Rule):
    """Of every ``buy + get`` eligible units, the ``get`` cheapest are free (or
    ``get_percent_off`` off); units are grouped from the dearest down."""

    kind = "buy_x_get_y"

    def validate(self, params: Mapping[str, Any]) -> dict[str, Any]:
        _only(params, ("buy", "get", "get_percent_off"), self.kind)
        return {
            "buy": _int(params, "buy", minimum=1),
            "get": _int(params, "get", minimum=1),
            "get_percent_off": _int(params, "get_percent_off", minimum=1, maximum=100, default=100),
        }

    def min_spend(self, params: Mapping[str, Any]) -> int:
        return 0

    def discount(self, params: Mapping[str, Any], slots: Sequence[Slot]) -> int:
        buy, get, pct = int(params["buy"]), int(params["get"]), int(params["get_percent_off"])
        prices = sorted(
            (s.line.unit_price_fen for s in slots for _ in range(s.line.quantity)), reverse=True
        )
        group = buy + get
        free = sum(
            p
            for i, p in enumerate(prices)
            if i % group >= buy and i - i % group + group <= len(prices)
        )
        return min(free * pct // 100, sum(s.net_fen for s in slots))


class PointsMultiplierRule(Rule):
    """Multiplies the points the order earns; gives no discount."""

    kind = "points_multiplier"
    discounts = False

    def validate(self, params: Mapping[str, Any]) -> dict[str, Any]:
        _only(params, ("multiplier_pct", "min_spend_fen"), self.kind)
        return {
            "multiplier_pct": _int(params, "multiplier_pct", minimum=101, maximum=10_000),
            "min_spend_fen": _int(params, "min_spend_fen", default=0),
        }

    def discount(self, params: Mapping[str, Any], slots: Sequence[Slot]) -> int:
        return 0


RULES: dict[str, Rule] = {
    rule.kind: rule
    for rule in (
        CouponRule(),
        NextOrderRule(),
        ThresholdRule(),
        PercentOffRule(),
        BuyXGetYRule(),
        PointsMultiplierRule(),
    )
}


def rule_for(kind: str) -> Rule:
    try:
        return RULES[kind]
    except KeyError:
        raise ProgramDefinitionError(
            f"unknown program kind {kind!r}; use one of {', '.join(RULES)}"
        ) from None


def make_program(
    program_id: str,
    kind: str,
    params: Mapping[str, Any],
    **fields: Any,
) -> Program:
    """A validated program (parameters checked, defaults filled in)."""
    if not program_id or len(program_id) > 64:
        raise ProgramDefinitionError("a program id of 1 to 64 characters is required")
    checked = rule_for(kind).validate(dict(params))
    scope = fields.pop("scope", Scope())
    if not isinstance(scope, Scope):
        scope = Scope.from_dict(scope)
    for name in ("budget_fen", "max_uses", "per_customer_limit"):
        value = fields.get(name)
        if value is not None and (not isinstance(value, int) or value < 1):
            raise ProgramDefinitionError(f"{name} must be a whole number >= 1 (got {value!r})")
    starts, ends = fields.get("starts_at"), fields.get("ends_at")
    if starts is not None and ends is not None and ends <= starts:
        raise ProgramDefinitionError(f"program {program_id}: ends_at must be after starts_at")
    return Program(program_id=program_id, kind=kind, params=checked, scope=scope, **fields)
