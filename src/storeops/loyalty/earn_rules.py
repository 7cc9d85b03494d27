"""How many points a purchase earns.

Points are earned on what the member actually paid for each line — the line amount
after discounts — less what was paid with points, so points never earn points:

    points = floor( Σ_lines paid_yuan × base × tier multiplier × category multiplier
                    × promotion multiplier )

Stored value counts as paid unless ``earn_on_stored_value`` is off (some merchants
exclude it because top-ups already carried a bonus). Multipliers default to 1; the
promotion multiplier comes from a points-multiplier program (e.g. double points day).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class PaidLine:
    """One basket line as paid: amount after discounts (fen) and its category."""

    sku: str
    category: str | None
    paid_fen: int


@dataclass(frozen=True)
class EarnRules:
    points_per_yuan: float = 1.0
    tier_multipliers: Mapping[str, float] = field(
        default_factory=lambda: {"standard": 1.0, "silver": 1.2, "gold": 1.5}
    )
    category_multipliers: Mapping[str, float] = field(default_factory=dict)
    earn_on_stored_value: bool = True


def points_for(
    lines: Iterable[PaidLine],
    *,
    tier: str,
    rules: EarnRules | None = None,
    points_paid_fen: int = 0,
    stored_value_paid_fen: int = 0,
    promotion_multiplier: float = 1.0,
) -> int:
    """Points earned by a purchase (module doc). Payment by points or (optionally)
    stored value is taken off the lines in proportion to their amounts."""
    r = rules or EarnRules()
    items = list(lines)
    total = sum(max(line.paid_fen, 0) for line in items)
    if total <= 0:
        return 0
    excluded = points_paid_fen + (0 if r.earn_on_stored_value else stored_value_paid_fen)
    earning_share = max(total - excluded, 0) / total
    tier_mult = r.tier_multipliers.get(tier, 1.0)
    raw = 0.0
    for line in items:
        cat_mult = r.category_multipliers.get(line.category or "", 1.0)
        raw += (
            max(line.paid_fen, 0) / 100 * earning_share * r.points_per_yuan * tier_mult * cat_mult
        )
    # Rounded to 6 places first so 199.9999999 from float products is 200.
    return math.floor(round(raw * promotion_multiplier, 6))
