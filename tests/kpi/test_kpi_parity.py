"""The KPI mart is the same on every warehouse backend (the formulas are Ibis; pandas
only densifies small per-day aggregates)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from tests.kpi import shop

from storeops.goals import GoalCreate, add_goal, goal_status
from storeops.kpi import KPIS, kpi_values
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
    duck = init_workspace(tmp_path / "reference", backend="duckdb")
    reference = _mart(duck)
    pd.testing.assert_frame_equal(got, reference, check_dtype=False)
    # Roll-ups and goal pacing read the mart the same way everywhere.
    rolled = []
    for ws in (workspace, duck):
        with ws.warehouse() as wh:
            frame = kpi_values(wh, list(KPIS), grain="week", chain=True)
            engine = ws.ops_engine()
            new = GoalCreate(kpi="conversion", store_id="S1", target=0.1,
                             start=date(2026, 2, 2), deadline=date(2026, 6, 30))  # fmt: skip
            add_goal(engine, wh, new)
            paced = goal_status(engine, wh)[0].to_dict()
            engine.dispose()
        frame["period_start"] = frame["period_start"].astype(str)
        rolled.append((frame, paced))
    pd.testing.assert_frame_equal(rolled[0][0], rolled[1][0], check_dtype=False)
    for key, value in rolled[1][1].items():
        assert rolled[0][1][key] == (pytest.approx(value) if isinstance(value, float) else value)
