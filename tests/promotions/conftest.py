"""Ops databases for the promotion tests: SQLite (WAL) and PostgreSQL, the same suite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from tests.loyalty.conftest import new_engine


@pytest.fixture(params=["sqlite", "postgresql"])
def ops_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    engine = new_engine(request.param, tmp_path)
    yield engine
    engine.dispose()


def pooled_engine(kind: str, tmp_path: Path, connections: int) -> Engine:
    """An engine whose pool gives every racing thread its own connection (PostgreSQL at
    its default READ COMMITTED, checked)."""
    base = new_engine(kind, tmp_path)
    if kind == "sqlite":
        return base
    engine = create_engine(base.url, pool_size=connections + 2, max_overflow=0)
    with engine.connect() as con:
        assert con.execute(text("SHOW transaction_isolation")).scalar() == "read committed"
    base.dispose()
    return engine
