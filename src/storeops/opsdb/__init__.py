"""The transactional ops database (SQLAlchemy): SQLite (WAL) by default.

Later capabilities (members, ledger, coupons, users) add their tables here with
Alembic migrations; the foundation only creates the database and its metadata row.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, create_engine, event

from storeops.opsdb import (  # noqa: F401  (register their tables)
    access_tables,
    alert_tables,
    goal_tables,
    ledger_tables,
    pos_tables,
    promotion_tables,
    report_tables,
)
from storeops.opsdb.tables import audit_log, workspace_meta


def utcnow() -> datetime:
    """Now in UTC, naive: the ops database stores naive UTC timestamps everywhere."""
    return datetime.now(UTC).replace(tzinfo=None)


def make_engine(url: str, *, lock_timeout_seconds: float = 30.0) -> Engine:
    """An engine; SQLite gets WAL and a bounded busy timeout so no one waits forever."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": lock_timeout_seconds})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_con: Any, _record: Any) -> None:
            cur = dbapi_con.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def audit(con: Any, *, actor: str, action: str, target: str, detail: dict[str, Any]) -> None:
    """Append one audit-log row inside the caller's transaction."""
    con.execute(
        audit_log.insert().values(
            at=datetime.now(UTC).replace(tzinfo=None),
            actor=actor,
            action=action,
            target=target,
            detail=detail,
        )
    )


def init_ops_database(url: str, **meta: str) -> None:
    """Create or migrate the ops database to the current schema (idempotent) and record
    ``meta`` key/values."""
    from storeops.opsdb.migrate import upgrade

    engine = make_engine(url)
    upgrade(engine)
    now = datetime.now(UTC).replace(tzinfo=None)
    with engine.begin() as con:
        for key, value in meta.items():
            con.execute(workspace_meta.delete().where(workspace_meta.c.key == key))
            con.execute(workspace_meta.insert().values(key=key, value=value, updated_at=now))
    engine.dispose()
