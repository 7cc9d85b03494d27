"""Collector sources and their write keys (ops database).

A write key is shown once, when its source is created; the database keeps only its
SHA-256. Write keys are 128 random bits, so a plain hash is enough: there is nothing
to brute-force, unlike a password, and the lookup stays a dictionary hit per request.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from storeops.errors import StoreOpsError
from storeops.opsdb import audit, make_engine
from storeops.opsdb.tables import collector_sources, metadata
from storeops.workspace import Workspace

KEY_PREFIX = "wk_"
_SOURCE_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


class SourceError(StoreOpsError, ValueError):
    """A source id is invalid, taken, or unknown."""


@dataclass(frozen=True)
class Source:
    source_id: str
    name: str
    key_prefix: str
    created_at: datetime
    revoked_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "source_id": self.source_id,
            "name": self.name,
            "key_prefix": self.key_prefix,
            "created_at": self.created_at.isoformat(),
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
            "active": self.revoked_at is None,
        }


def hash_key(write_key: str) -> str:
    return hashlib.sha256(write_key.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _engine(ws: Workspace) -> Any:
    engine = make_engine(ws.settings.ops_url, lock_timeout_seconds=ws.settings.lock_timeout_seconds)
    metadata.create_all(engine, tables=[collector_sources])  # workspaces made before the table
    return engine


def add_source(ws: Workspace, source_id: str, *, name: str = "", actor: str = "cli") -> str:
    """Create a source and return its write key (shown once; only its hash is kept)."""
    if not _SOURCE_ID.match(source_id):
        raise SourceError(
            f"source id {source_id!r} is not valid: use 1-64 lower-case letters, digits, "
            "'_', '-' or '.', starting with a letter or digit (e.g. 'mini-program')"
        )
    write_key = KEY_PREFIX + secrets.token_hex(16)
    engine = _engine(ws)
    try:
        with engine.begin() as con:
            con.execute(
                collector_sources.insert().values(
                    source_id=source_id,
                    name=name or source_id,
                    key_hash=hash_key(write_key),
                    key_prefix=write_key[:7],
                    created_at=_now(),
                    revoked_at=None,
                )
            )
            audit(con, actor=actor, action="source.add", target=source_id, detail={})
    except IntegrityError:
        raise SourceError(
            f"source {source_id!r} already exists; choose another id (`storeops sources "
            "list` shows the existing ones)"
        ) from None
    finally:
        engine.dispose()
    return write_key


def list_sources(ws: Workspace) -> list[Source]:
    engine = _engine(ws)
    try:
        with engine.connect() as con:
            rows = con.execute(
                select(collector_sources).order_by(collector_sources.c.source_id)
            ).all()
    finally:
        engine.dispose()
    return [Source(r.source_id, r.name, r.key_prefix, r.created_at, r.revoked_at) for r in rows]


def revoke_source(ws: Workspace, source_id: str, *, actor: str = "cli") -> None:
    """Revoke the source's write key; the collector refuses it within seconds."""
    engine = _engine(ws)
    try:
        with engine.begin() as con:
            done = con.execute(
                collector_sources.update()
                .where(collector_sources.c.source_id == source_id)
                .where(collector_sources.c.revoked_at.is_(None))
                .values(revoked_at=_now())
            ).rowcount
            if not done:
                raise SourceError(
                    f"no active source {source_id!r}; `storeops sources list` shows them"
                )
            audit(con, actor=actor, action="source.revoke", target=source_id, detail={})
    finally:
        engine.dispose()


class KeyCache:
    """Write-key hash → source id, refreshed from the ops database.

    The table is re-read every ``ttl`` seconds, and on an unknown key at most once a
    second (so a flood of bad keys cannot hammer the database). A revoked key stops
    working within ``ttl`` seconds.
    """

    def __init__(self, ws: Workspace, *, ttl: float = 5.0) -> None:
        self._ws = ws
        self._ttl = ttl
        self._keys: dict[str, str] = {}
        self._loaded = float("-inf")
        self._lock = threading.Lock()
        self._engine = _engine(ws)

    def refresh(self) -> None:
        with self._engine.connect() as con:
            rows = con.execute(
                select(collector_sources.c.key_hash, collector_sources.c.source_id).where(
                    collector_sources.c.revoked_at.is_(None)
                )
            ).all()
        self._keys = {r.key_hash: r.source_id for r in rows}
        self._loaded = time.monotonic()

    def source_for(self, write_key: str) -> str | None:
        digest = hash_key(write_key)
        age = time.monotonic() - self._loaded
        if age > self._ttl or (digest not in self._keys and age > 1.0):
            with self._lock:
                self.refresh()
        return self._keys.get(digest)

    def close(self) -> None:
        self._engine.dispose()
