"""Alembic migrations: they build exactly the tables the code declares, on SQLite and
PostgreSQL, adopt databases made before migrations, and go down and up again."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, select
from tests.ops_engines import new_engine

from storeops.opsdb import init_ops_database, make_engine
from storeops.opsdb.migrate import BASELINE_TABLES, current, downgrade, head, pending, upgrade
from storeops.opsdb.tables import metadata, workspace_meta


@pytest.fixture(params=["sqlite", "postgresql"])
def migrated(request: pytest.FixtureRequest, tmp_path: Path) -> Engine:
    return new_engine(request.param, tmp_path)  # upgraded to head


def test_migrations_match_the_declared_tables(migrated: Engine) -> None:
    assert current(migrated) == head() and not pending(migrated)
    with migrated.connect() as con:
        diff = compare_metadata(MigrationContext.configure(con), metadata)
    assert diff == [], f"the tables and the migrations differ; write a migration: {diff}"


def test_down_to_base_and_up_again(migrated: Engine) -> None:
    downgrade(migrated, "base")
    assert set(inspect(migrated).get_table_names()) <= {"alembic_version"}
    upgrade(migrated)
    assert set(metadata.tables) <= set(inspect(migrated).get_table_names())


def test_a_database_from_before_migrations_is_adopted(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    engine = make_engine(url)
    old = [metadata.tables[n] for n in BASELINE_TABLES if n != "collector_sources"]
    metadata.create_all(engine, tables=old)
    with engine.begin() as con:
        con.execute(workspace_meta.insert().values(key="k", value="v", updated_at=datetime.now()))
    assert current(engine) is None
    init_ops_database(url, storeops_version="test")
    assert current(engine) == head()
    with engine.connect() as con:
        kept = dict(con.execute(select(workspace_meta.c.key, workspace_meta.c.value)).all())
    assert kept == {"k": "v", "storeops_version": "test"}
    assert set(metadata.tables) <= set(inspect(engine).get_table_names())
    init_ops_database(url)  # again: nothing to do
    assert current(engine) == head()
