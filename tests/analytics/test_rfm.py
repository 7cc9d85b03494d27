"""RFM scores and segments on hand-built data with exact expected tables."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from tests.analytics.builders import add_rows, order

from storeops.analytics.rfm import RfmError, RfmInsight, RfmQuery
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
    # Times are UTC; Shanghai is UTC+8, so 16:30 UTC is 00:30 the next local day.
    add_rows(
        warehouse,
        "orders",
        [
            order("o1", "c1", "2026-01-05 03:00", 20000),
            order("o2", "c1", "2026-02-10 03:00", 30000),
            order("o3", "c1", "2026-02-25 03:00", 50000),
            order("o4", "c1", "2026-02-26 03:00", 99999, status="cancelled"),
            order("o5", "c2", "2026-02-20 03:00", 10000, store_id="S2"),
            order("o6", "c3", "2025-06-01 03:00", 40000),
            order("o7", "c3", "2025-07-01 03:00", 40000),
            order("o8", "c4", "2026-01-20 03:00", 15000),
            order("o9", "c4", "2026-02-15 03:00", 15000, store_id=None, channel="mini_program"),
            order("o10", "c5", "2025-12-01 03:00", 5000),
            order("o11", "c5", "2026-02-28 16:30", 7000),  # local day 2026-03-01: outside
            order("o12", None, "2026-02-27 03:00", 8000),  # anonymous sale
        ],
    )
    return warehouse


def test_scores_and_segments(shop: Warehouse) -> None:
    result = RfmInsight(shop, RfmQuery(as_of=date(2026, 3, 1))).calculate()
    got = result.customers[
        [
            "customer_id",
            "recency_days",
            "frequency",
            "monetary_fen",
            "r_score",
            "f_score",
            "m_score",
            "segment",
            "named_segment",
        ]
    ]
    expected = pd.DataFrame(
        [
            ("c1", 3, 3, 100000, 5, 5, 5, "vip", "Champions"),
            ("c2", 8, 1, 10000, 4, 1, 2, "new", "Promising"),
            ("c3", 242, 2, 80000, 1, 3, 4, "dormant", "At Risk"),
            ("c4", 13, 2, 30000, 3, 3, 3, "potential", "Need Attention"),
            ("c5", 89, 1, 5000, 2, 1, 1, "potential", "Hibernating"),
        ],
        columns=got.columns,
    )
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected, check_dtype=False)


def test_segment_sizes_and_revenue_share(shop: Warehouse) -> None:
    result = RfmInsight(shop, RfmQuery(as_of=date(2026, 3, 1))).calculate()
    seg = result.segments.set_index("segment")
    assert seg["customers"].to_dict() == {"vip": 1, "potential": 2, "dormant": 1, "new": 1}
    assert seg["revenue_fen"].to_dict() == {
        "vip": 100000,
        "potential": 35000,
        "dormant": 80000,
        "new": 10000,
    }
    assert seg.loc["vip", "revenue_share"] == pytest.approx(100000 / 225000)
    assert result.top_decile_revenue_share == pytest.approx(100000 / 225000)
    assert seg.loc["dormant", "label_zh"] == "沉睡"


def test_window_and_store_filters(shop: Warehouse) -> None:
    recent = RfmInsight(shop, RfmQuery(as_of=date(2026, 3, 1), window_days=60)).calculate()
    assert sorted(recent.customers["customer_id"]) == ["c1", "c2", "c4"]
    s2 = RfmInsight(shop, RfmQuery(as_of=date(2026, 3, 1), store_id="S2")).calculate()
    assert list(s2.customers["customer_id"]) == ["c2"]


def test_no_purchases_is_a_clear_error(shop: Warehouse) -> None:
    with pytest.raises(RfmError, match="import orders"):
        RfmInsight(shop, RfmQuery(as_of=date(2020, 1, 1))).calculate()


def test_query_validation() -> None:
    with pytest.raises(ValueError, match="dormant_days must be larger"):
        RfmQuery(as_of=date(2026, 3, 1), new_days=200, dormant_days=100)


def test_clv_summary_counts_purchase_days(shop: Warehouse) -> None:
    from storeops.analytics.clv_summary import clv_summary_expr

    add_rows(shop, "orders", [order("o13", "c1", "2026-02-25 05:00", 1000)])  # same local day as o3
    got = shop.to_pandas(clv_summary_expr(shop, as_of=date(2026, 3, 1)).order_by("customer_id"))
    # c1: days 01-05, 02-10, 02-25 (two orders) -> 2 repeats; (30000 + 51000) / 2 repeat spend.
    expected = pd.DataFrame(
        [
            ("c1", 2, 51.0, 54.0, 40500.0),
            ("c2", 0, 0.0, 8.0, 0.0),
            ("c3", 1, 30.0, 272.0, 40000.0),
            ("c4", 1, 26.0, 39.0, 15000.0),
            ("c5", 0, 0.0, 89.0, 0.0),
        ],
        columns=["customer_id", "frequency", "recency", "T", "monetary_value"],
    )
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected, check_dtype=False)


def test_purchases_follow_the_customer_map(shop: Warehouse) -> None:
    import pyarrow as pa

    from storeops.analytics.purchases import CUSTOMER_MAP_MART, purchases

    shop.write_mart(
        CUSTOMER_MAP_MART,
        pa.table(
            {"source": ["crm", "pos"], "record_id": ["c2", "c4"], "customer_id": ["c1", "c1"]}
        ),
    )
    got = shop.to_pandas(purchases(shop).select("order_id", "customer_id").order_by("order_id"))
    owners = dict(zip(got["order_id"], got["customer_id"], strict=True))
    assert owners["o5"] == "c1" and owners["o8"] == "c1" and owners["o9"] == "c1"
    assert owners["o6"] == "c3"  # not in the map: unchanged
