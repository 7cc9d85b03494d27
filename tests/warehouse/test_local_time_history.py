"""Fixed-offset shortcuts never apply outside the years they were checked for."""

from __future__ import annotations

from datetime import datetime

import ibis
import pyarrow as pa

from storeops.warehouse import Warehouse


def test_shanghai_summer_time_of_1988_is_honoured(warehouse: Warehouse) -> None:
    warehouse.append(
        "stores", pa.table({"store_id": ["S1"], "name": ["A"], "timezone": ["Asia/Shanghai"]})
    )
    t = warehouse.table("stores")
    summer_1988 = ibis.literal(datetime(1988, 7, 1, 12, 0))
    recent = ibis.literal(datetime(2026, 7, 1, 12, 0))
    expr = t.select(
        old=warehouse.local_time(summer_1988, t.timezone),
        new=warehouse.local_time(recent, t.timezone),
        old_literal=warehouse.local_time(summer_1988, "Asia/Shanghai"),
        back=warehouse.utc_from_local(ibis.literal(datetime(1988, 7, 1, 21, 0)), "Asia/Shanghai"),
    )
    row = warehouse.to_pandas(expr).iloc[0]
    assert str(row["old"]) == "1988-07-01 21:00:00"  # UTC+9 during summer time
    assert str(row["old_literal"]) == "1988-07-01 21:00:00"
    assert str(row["new"]) == "2026-07-01 20:00:00"  # UTC+8
    assert str(row["back"]) == "1988-07-01 12:00:00"
