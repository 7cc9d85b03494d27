"""Move the POS feed (``pos_feed`` in the ops database) into the warehouse.

:func:`export_feed` takes the unexported feed rows in order, appends their ``orders``,
``order_lines`` and ``refunds`` rows to the warehouse in one warehouse transaction,
then marks them exported. Rows whose natural key (``order_id``, ``refund_id``) the
warehouse already has are skipped, so an export interrupted between the two steps
adds nothing twice when it runs again.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

import pyarrow as pa
from sqlalchemy import Engine, select, update

from storeops.opsdb import utcnow
from storeops.opsdb.pos_tables import pos_feed
from storeops.warehouse import Warehouse

#: Warehouse table -> its natural key column used to skip rows already there.
TARGETS = {"orders": "order_id", "order_lines": "order_id", "refunds": "refund_id"}


def _typed(rows: list[dict[str, Any]]) -> pa.Table:
    columns = sorted({k for r in rows for k in r})
    data: dict[str, list[Any]] = {c: [r.get(c) for r in rows] for c in columns}
    if "ts" in data:
        data["ts"] = [datetime.fromisoformat(v) if v else None for v in data["ts"]]
    return pa.table(data)


def export_feed(engine: Engine, wh: Warehouse, *, batch: int = 5_000) -> dict[str, int]:
    """Append unexported POS rows to the warehouse; counts of rows written per table."""
    written = dict.fromkeys(TARGETS, 0)
    while True:
        with engine.connect() as con:
            feed = con.execute(
                select(pos_feed.c.feed_id, pos_feed.c.rows)
                .where(pos_feed.c.exported_at.is_(None))
                .order_by(pos_feed.c.feed_id)
                .limit(batch)
            ).all()
        if not feed:
            return written
        rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for _, payload in feed:
            for table in TARGETS:
                rows[table].extend(payload.get(table, []))
        with wh.transaction():
            for table, key in TARGETS.items():
                todo = rows[table]
                if not todo:
                    continue
                keys = sorted({str(r[key]) for r in todo})
                t = wh.table(table)
                have = set(wh.to_pandas(t.filter(t[key].isin(keys)).select(key))[key])
                fresh = [r for r in todo if str(r[key]) not in have]
                if fresh:
                    wh.append(table, _typed(fresh))
                    written[table] += len(fresh)
        ids = [feed_id for feed_id, _ in feed]
        with engine.begin() as con:
            con.execute(
                update(pos_feed).where(pos_feed.c.feed_id.in_(ids)).values(exported_at=utcnow())
            )
