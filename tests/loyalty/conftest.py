"""Ops databases for the ledger tests: SQLite (WAL) and PostgreSQL, the same suite."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from tests.postgres_server import fresh_database

from storeops.opsdb import make_engine
from storeops.opsdb.migrate import upgrade

_names = itertools.count()


def new_engine(kind: str, tmp_path: Path) -> Engine:
    if kind == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / f'ops-{next(_names)}.sqlite'}")
    else:
        url = fresh_database(f"ledger_{next(_names)}_{abs(hash(str(tmp_path))) % 10**8}")
        engine = make_engine(url)
    upgrade(engine)
    return engine


@pytest.fixture(params=["sqlite", "postgresql"])
def ops_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    engine = new_engine(request.param, tmp_path)
    yield engine
    engine.dispose()
