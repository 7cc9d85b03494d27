"""A small demo merchant (2 stores, 60 days to 2026-10-31) with its daily marts and
the KPI mart, built once for the report tests."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from storeops.demo.build import build_demo
from storeops.demo.config import DemoConfig
from storeops.marts.kpi_daily import build_kpi_mart
from storeops.marts.traffic_daily import build_daily_marts
from storeops.workspace import Workspace, open_workspace

CFG = DemoConfig(stores=2, customers=300, days=60)
#: A full week (Monday to Sunday) and a day inside the demo's data.
WEEK_DAY = date(2026, 10, 21)
DAY = date(2026, 10, 30)


@pytest.fixture(scope="session")
def demo_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("reports") / "ws"
    build_demo(root, CFG)
    ws = open_workspace(root)
    with ws.warehouse() as wh:
        build_daily_marts(wh)
        build_kpi_mart(ws, wh=wh)
    return root


@pytest.fixture
def demo(demo_root: Path) -> Workspace:
    return open_workspace(demo_root)


@pytest.fixture
def demo_copy(demo_root: Path, tmp_path: Path) -> Workspace:
    """A copy of the demo workspace, for tests that add schedules, goals or alerts."""
    root = tmp_path / "ws"
    shutil.copytree(demo_root, root)
    return open_workspace(root)
