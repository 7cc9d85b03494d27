"""Ops databases for tests: SQLite (WAL) and PostgreSQL, migrated to head."""

from __future__ import annotations

import itertools
from pathlib import Path

from sqlalchemy import Engine
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
