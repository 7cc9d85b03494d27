"""Warehouses for the property-based tests, which stage their own events."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.conftest import require_backend

from storeops.warehouse import Warehouse
from storeops.workspace import init_workspace


@pytest.fixture
def duck(tmp_path: Path) -> Iterator[Warehouse]:
    wh = init_workspace(tmp_path / "ws-duckdb", backend="duckdb").warehouse()
    try:
        yield wh
    finally:
        wh.close()


@pytest.fixture
def spark_wh(tmp_path: Path) -> Iterator[Warehouse]:
    require_backend("spark")
    wh = init_workspace(tmp_path / "ws-spark", backend="spark").warehouse()
    try:
        yield wh
    finally:
        wh.close()
