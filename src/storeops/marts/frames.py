"""Writing a pandas frame as a mart with a fixed Arrow schema (an empty frame writes an
empty mart with the same columns, so readers never meet a missing table)."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

from storeops.warehouse import Warehouse


def write_frame_mart(wh: Warehouse, name: str, frame: pd.DataFrame, schema: pa.Schema) -> int:
    """Replace mart ``name`` with ``frame``'s columns of ``schema`` (in its order and
    types); returns the rows written."""
    if frame.empty:
        table = pa.Table.from_pylist([], schema=schema)
    else:
        table = pa.Table.from_pandas(
            frame.reindex(columns=schema.names), schema=schema, preserve_index=False
        )
    wh.write_mart(name, table)
    return table.num_rows
