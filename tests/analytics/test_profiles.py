"""Customer 360 profiles on hand-built data with exact expected values."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from tests.analytics.builders import add_rows, order

from storeops.analytics.profiles import profiles_expr
from storeops.warehouse import Warehouse


@pytest.fixture
def shop(warehouse: Warehouse) -> Warehouse:
    add_rows(
        warehouse,
        "stores",
        [
            {"store_id": "S1", "name": "A", "timezone": "Asia/Shanghai"},
            {"store_id": "S2", "name": "B", "timezone": "Asia/Shanghai"},
        ],
    )
    add_rows(
        warehouse,
        "products",
        [
            {"sku": "P1", "name": "Tee", "category": "apparel", "price_fen": 100},
            {"sku": "P2", "name": "Mug", "category": "home", "price_fen": 100},
        ],
    )
    o1 = order("o1", "c1", "2026-01-05 03:00", 5000)
    o1["coupon_code"] = "SAVE40"
    add_rows(
        warehouse,
        "orders",
        [
            o1,
            order("o2", "c1", "2026-01-10 03:00", 3000, store_id="S2"),
            order("o3", "c1", "2026-01-20 03:00", 4000, store_id="S2"),
            order("o4", "c1", "2026-01-25 03:00", 1000, store_id=None, channel="mini_program"),
            order("o5", "c2", "2026-01-07 03:00", 2000),
        ],
    )
    line = {"discount_fen": 0, "quantity": 1}
    add_rows(
        warehouse,
        "order_lines",
        [
            {
                **line,
                "order_id": "o1",
                "line_no": 1,
                "sku": "P1",
                "unit_price_fen": 5000,
                "amount_fen": 5000,
            },
            {
                **line,
                "order_id": "o2",
                "line_no": 1,
                "sku": "P2",
                "unit_price_fen": 3000,
                "amount_fen": 3000,
            },
            {
                **line,
                "order_id": "o3",
                "line_no": 1,
                "sku": "P2",
                "unit_price_fen": 4000,
                "amount_fen": 4000,
            },
            {
                **line,
                "order_id": "o5",
                "line_no": 1,
                "sku": "P1",
                "unit_price_fen": 2000,
                "amount_fen": 2000,
            },
        ],
    )
    add_rows(
        warehouse, "community_groups", [{"group_id": "G1", "name": "VIP", "platform": "wecom"}]
    )
    add_rows(
        warehouse,
        "community_members",
        [
            {"group_id": "G1", "customer_id": "c1", "joined_at": datetime(2026, 1, 1)},
        ],
    )
    add_rows(
        warehouse,
        "community_messages",
        [
            {
                "message_id": f"m{i}",
                "group_id": "G1",
                "customer_id": "c1",
                "sender_role": "member",
                "ts": datetime(2026, 1, 2 + i),
                "kind": "text",
            }
            for i in range(3)
        ],
    )
    return warehouse


def test_profiles(shop: Warehouse) -> None:
    df = shop.to_pandas(profiles_expr(shop, as_of=date(2026, 2, 1)))
    rows = df.set_index("customer_id").to_dict("index")
    c1, c2 = rows["c1"], rows["c2"]
    assert (c1["orders"], c1["spend_fen"], c1["atv_fen"]) == (4, 13000, 3250)
    assert c1["channels"] == "mini_program,store"
    assert c1["favourite_store"] == "S2"  # two orders in S2, one in S1
    assert c1["favourite_category"] == "home"  # 7000 fen of home vs 5000 of apparel
    assert (c1["coupon_orders"], c1["coupon_share"]) == (1, 0.25)
    assert (c1["community_groups"], c1["community_messages"]) == (1, 3)
    assert str(c1["first_purchase_day"])[:10] == "2026-01-05"
    assert c1["days_since_last_purchase"] == 6  # last 01-25, as of 02-01
    assert (c2["orders"], c2["favourite_store"], c2["community_groups"]) == (1, "S1", 0)


def test_tags_apply_incrementally(shop: Warehouse, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from storeops.analytics.tags import apply_tags, load_rules

    rules_file = tmp_path / "tags.toml"
    rules_file.write_text(
        '[[tags]]\nname = "multi"\nwhere = "channel_count >= 2 and not (orders < 2)"\n'
        '[[tags]]\nname = "s1_fans"\nwhere = "favourite_store in [\'S1\'] or spend_fen > 12000"\n'
        '[[tags]]\nname = "recent"\nwhere = "days_since_last_purchase <= 7"\n',
        encoding="utf-8",
    )
    rules = load_rules(rules_file)
    first = apply_tags(shop, rules, as_of=date(2026, 2, 1), now=datetime(2026, 2, 1, 1))
    got = {(r.customer_id, r.tag) for r in first.itertuples()}
    assert got == {("c1", "multi"), ("c1", "s1_fans"), ("c1", "recent"), ("c2", "s1_fans")}
    # A week later c1 is no longer recent; the others keep their since time.
    second = apply_tags(shop, rules, as_of=date(2026, 2, 8), now=datetime(2026, 2, 8, 1))
    rows = {(r.customer_id, r.tag): r for r in second.itertuples()}
    assert set(rows) == got - {("c1", "recent")}
    assert rows[("c1", "multi")].since == datetime(2026, 2, 1, 1)
    assert rows[("c1", "multi")].computed_at == datetime(2026, 2, 8, 1)


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("spend > 1", "unknown column 'spend'"),
        ("__import__('os')", "Call is not allowed"),
        ("orders +", "cannot parse"),
        ("orders", "must be a condition"),
    ],
)
def test_bad_rules_are_refused(where: str, message: str) -> None:
    import ibis

    from storeops.analytics.tags import TagRule, TagRuleError, compile_rule

    profile = ibis.table({"orders": "int64", "spend_fen": "int64"}, name="profiles")
    with pytest.raises(TagRuleError, match=message):
        compile_rule(TagRule("t", where), profile)


def test_default_rules_compile(shop: Warehouse) -> None:
    from storeops.analytics.tags import load_rules, tags_expr

    df = shop.to_pandas(tags_expr(shop, load_rules(), as_of=date(2026, 2, 1)))
    assert {("c1", "omnichannel"), ("c2", "one_time_buyer")} <= set(
        zip(df["customer_id"], df["tag"], strict=True)
    )
