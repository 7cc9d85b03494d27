"""``storeops demo`` ends with the KPI mart built and the demo goals pacing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from storeops.cli.main import app
from storeops.goals import goal_status
from storeops.goals.demo import DEMO_GOALS
from storeops.kpi import KPIS, kpi_values
from storeops.workspace import open_workspace


@pytest.mark.slow
def test_demo_seeds_goals_and_kpis(tmp_path: Path) -> None:
    target = tmp_path / "demo"
    args = ["demo", str(target), "--stores", "3", "--customers", "150", "--days", "130"]
    result = CliRunner().invoke(app, [*args, "--events", "300", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert "mart_kpi_daily" in {m["mart"] for m in out["marts"]}
    assert len(out["goals"]) == len(DEMO_GOALS)
    ws = open_workspace(target)
    statuses = goal_status(ws)
    assert len(statuses) == len(DEMO_GOALS)
    for s in statuses:
        assert s.current is not None and s.projected is not None, s
        assert s.status in ("achieved", "on_track", "behind")
        k = KPIS[s.kpi]
        assert k.better(s.target, s.baseline), f"demo goal {s.kpi} must aim to improve"
    with ws.warehouse() as wh:
        month = kpi_values(wh, list(KPIS), grain="month", chain=True)
    # Every KPI has a chain value: the demo also plants loyalty and coupon activity.
    assert set(month.dropna(subset=["value"])["kpi"]) == set(KPIS)
