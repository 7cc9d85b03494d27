"""The KPI mart is the same on every warehouse backend (the formulas are Ibis; pandas
only densifies small per-day aggregates)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from tests.kpi import shop

from storeops.marts.kpi_daily import KPI_MART, build_kpi_mart
from storeops.workspace import Workspace, init_workspace


def _mart(ws: Workspace) -> pd.DataFrame:
    with ws.warehouse() as wh:
        shop.fill(wh)
    build_kpi_mart(ws)
    with ws.warehouse() as wh:
        frame = wh.to_pandas(wh.mart(KPI_MART))
    frame["day"] = pd.to_datetime(frame["day"]).dt.date
    return frame.sort_values(["kpi", "store_id", "day"], ignore_index=True)


@pytest.mark.spark
def test_same_mart_on_every_backend(workspace: Workspace, tmp_path: Path) -> None:
    got = _mart(workspace)
    reference = _mart(init_workspace(tmp_path / "reference", backend="duckdb"))
    pd.testing.assert_frame_equal(got, reference, check_dtype=False)
