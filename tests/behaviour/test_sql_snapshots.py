"""Golden snapshots of the SQL the insights generate on DuckDB.

A change in the generated SQL shows up in review as a diff of the ``.sql`` files.
Regenerate with ``STOREOPS_UPDATE_SNAPSHOTS=1 pytest tests/behaviour/test_sql_snapshots.py``.
"""

from __future__ import annotations

import os
from pathlib import Path

import ibis
import ibis.expr.types as ir
import pytest

from storeops.behaviour.funnel import FunnelInsight, FunnelQuery, parse_steps
from storeops.behaviour.paths import PathsInsight, PathsQuery
from storeops.behaviour.retention import RetentionInsight, RetentionQuery
from storeops.warehouse import Warehouse

SNAPSHOTS = Path(__file__).with_name("snapshots")
UPDATE = os.environ.get("STOREOPS_UPDATE_SNAPSHOTS") == "1"


def exprs(wh: Warehouse) -> dict[str, ir.Table]:
    funnel = FunnelInsight(
        wh,
        FunnelQuery(
            steps=parse_steps("Product Viewed[category=shoes],?Coupon Applied,Order Completed"),
            window_seconds=7 * 86_400,
            breakdown="store",
            count_by="anonymous_id",
        ),
    )
    retention = RetentionInsight(
        wh, RetentionQuery(period="week", periods=4, count_by="anonymous_id")
    )
    paths = PathsInsight(wh, PathsQuery(event="Product Viewed", count_by="anonymous_id"))
    return {
        "funnel_counts": funnel.counts_expr(),
        "retention": retention.to_expr(),
        "paths": paths.to_expr(),
    }


@pytest.mark.parametrize("name", ["funnel_counts", "retention", "paths"])
def test_sql_snapshot(duck: Warehouse, name: str) -> None:
    sql = str(ibis.to_sql(exprs(duck)[name], dialect="duckdb")).strip() + "\n"
    path = SNAPSHOTS / f"{name}.duckdb.sql"
    if UPDATE or not path.exists():
        path.write_text(sql, encoding="utf-8")
    assert sql == path.read_text(encoding="utf-8"), f"{path.name} changed: review and regenerate"
