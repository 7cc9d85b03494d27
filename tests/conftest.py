"""Shared fixtures: workspaces on every warehouse backend.

Tests that take the ``backend`` fixture (or ``workspace`` / ``warehouse``) run once
per backend: DuckDB always, PySpark when Java and PySpark are present. With
``CI=true`` a missing Spark dependency fails the run instead of skipping.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from tests.ops_engines import OPS_BACKENDS, new_engine

from storeops.settings import load_settings
from storeops.warehouse import Warehouse, open_warehouse
from storeops.workspace import Workspace, init_workspace

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
BACKENDS = ("duckdb", "spark")


def spark_missing_reason() -> str | None:
    """Why Spark tests cannot run here, or None when they can."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "PySpark is not installed: pip install -e '.[dev]'"
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "Java is not installed: apt-get install -y openjdk-17-jre-headless"
    return None


def require_backend(name: str) -> None:
    if name != "spark":
        return
    reason = spark_missing_reason()
    if reason is None:
        return
    if IN_CI:
        pytest.fail(f"CI=true and the Spark backend cannot run: {reason}")
    pytest.skip(f"Spark backend not available ({reason})")


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    require_backend(name)
    return name


@pytest.fixture
def workspace(tmp_path: Path, backend: str) -> Workspace:
    """A fresh workspace on each backend."""
    return init_workspace(tmp_path / f"ws-{backend}", backend=backend)


@pytest.fixture
def duckdb_workspace(tmp_path: Path) -> Workspace:
    """A fresh workspace on DuckDB only (for DuckDB-specific behaviour)."""
    return init_workspace(tmp_path / "ws-duckdb", backend="duckdb")


@pytest.fixture(params=OPS_BACKENDS)
def ops_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A fresh ops database on SQLite and on PostgreSQL (tests/postgres_server.py)."""
    engine = new_engine(request.param, tmp_path)
    yield engine
    engine.dispose()


@pytest.fixture
def warehouse(workspace: Workspace) -> Iterator[Warehouse]:
    wh = open_warehouse(load_settings(workspace.root))
    try:
        yield wh
    finally:
        wh.close()


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never read the developer's own STOREOPS_* settings."""
    for key in list(os.environ):
        if key.startswith("STOREOPS_"):
            monkeypatch.delenv(key)
