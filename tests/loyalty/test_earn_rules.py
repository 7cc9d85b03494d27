"""Points earned per purchase, with exact numbers."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from storeops.loyalty.earn_rules import EarnRules, PaidLine, points_for

LINES = [PaidLine("A", "apparel", 19_990), PaidLine("B", "beauty", 10_010)]


def test_base_tier_category_and_promotion() -> None:
    assert points_for(LINES, tier="standard") == 300  # ¥300 paid at 1 point per yuan
    assert points_for(LINES, tier="gold") == 450
    rules = EarnRules(category_multipliers={"beauty": 2.0})
    assert points_for(LINES, tier="standard", rules=rules) == 400  # 199.9 + 2 × 100.1
    assert points_for(LINES, tier="silver", promotion_multiplier=2.0) == 720


def test_points_never_earn_points_and_stored_value_may_be_excluded() -> None:
    assert points_for(LINES, tier="standard", points_paid_fen=10_000) == 200
    assert points_for(LINES, tier="standard", stored_value_paid_fen=30_000) == 300
    no_sv = EarnRules(earn_on_stored_value=False)
    assert points_for(LINES, tier="standard", rules=no_sv, stored_value_paid_fen=30_000) == 0
    assert points_for([], tier="gold") == 0
    assert points_for([PaidLine("R", None, -500)], tier="gold") == 0  # a return line


@given(
    st.lists(st.integers(0, 10**7), min_size=1, max_size=6),
    st.integers(0, 10**7),
    st.sampled_from(["standard", "silver", "gold", "unknown"]),
)
def test_earning_is_monotone_and_bounded(amounts: list[int], by_points: int, tier: str) -> None:
    lines = [PaidLine(str(i), None, a) for i, a in enumerate(amounts)]
    full = points_for(lines, tier=tier)
    less = points_for(lines, tier=tier, points_paid_fen=by_points)
    assert 0 <= less <= full <= sum(amounts) // 100 * 1.5 + 1
