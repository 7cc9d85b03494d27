"""Ops databases for tests: SQLite (WAL) and PostgreSQL, migrated to head."""

from __future__ import annotations

import itertools
from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from tests.postgres_server import fresh_database

from storeops.opsdb import make_engine
from storeops.opsdb.migrate import upgrade

OPS_BACKENDS = ("sqlite", "postgresql")
_names = itertools.count()


def new_engine(kind: str, tmp_path: Path) -> Engine:
    """A new, empty ops database of ``kind`` at the current schema."""
    if kind == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / f'ops-{next(_names)}.sqlite'}")
    else:
        url = fresh_database(f"ops_{next(_names)}_{abs(hash(str(tmp_path))) % 10**8}")
        engine = make_engine(url)
    upgrade(engine)
    return engine


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
