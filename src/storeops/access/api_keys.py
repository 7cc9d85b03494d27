"""API keys for machines: a POS terminal gets a ``pos`` key for its one store.

A key is ``so_<prefix>_<secret>`` (prefix 8 and secret 32 random URL-safe characters,
about 190 bits). Only its SHA-256 is stored, with the prefix to show in lists; the key
itself is printed once, at creation. Verification hashes the presented key and looks
the hash up, so comparing secrets never leaks timing.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from sqlalchemy import Engine, insert, select, update

from storeops.access.principal import Principal
from storeops.access.roles import KEY_ROLES, STORE_SCOPED
from storeops.errors import StoreOpsError
from storeops.opsdb import audit, utcnow
from storeops.opsdb.access_tables import api_keys

PREFIX = "so_"


class ApiKeyError(StoreOpsError, ValueError):
    """An API key cannot be created or used."""


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(
    engine: Engine, name: str, role: str, *, store_id: str | None = None, actor: str = "cli"
) -> dict[str, Any]:
    """A new key; the returned ``key`` is the only time it is shown."""
    if role not in KEY_ROLES:
        raise ApiKeyError(f"API keys carry one of the roles {', '.join(KEY_ROLES)} (got {role!r})")
    if role in STORE_SCOPED and not store_id:
        raise ApiKeyError(f"a {role} key belongs to one store (--store)")
    prefix = secrets.token_urlsafe(6)[:8].replace("_", "x").replace("-", "y")
    key = f"{PREFIX}{prefix}_{secrets.token_urlsafe(24)}"
    with engine.begin() as con:
        con.execute(
            insert(api_keys).values(
                name=name,
                prefix=prefix,
                key_hash=_digest(key),
                role=role,
                store_id=store_id if role in STORE_SCOPED else None,
                created_at=utcnow(),
            )
        )
        audit(con, actor=actor, action="api_key.create", target=prefix,
              detail={"name": name, "role": role, "store_id": store_id})  # fmt: skip
    return {"prefix": prefix, "name": name, "role": role, "store_id": store_id, "key": key}


def verify_key(engine: Engine, key: str) -> Principal | None:
    """The principal of a live key, or None."""
    if not key.startswith(PREFIX):
        return None
    with engine.connect() as con:
        row = con.execute(select(api_keys).where(api_keys.c.key_hash == _digest(key))).first()
    if row is None or row.revoked_at is not None:
        return None
    stores = frozenset({row.store_id}) if row.store_id else frozenset()
    return Principal.of("api_key", str(row.prefix), str(row.role), stores)


def revoke_key(engine: Engine, prefix: str, *, actor: str = "cli") -> None:
    with engine.begin() as con:
        done = con.execute(
            update(api_keys)
            .where(api_keys.c.prefix == prefix, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        ).rowcount
        if done != 1:
            raise ApiKeyError(f"no live API key with prefix {prefix!r}; see storeops apikeys list")
        audit(con, actor=actor, action="api_key.revoke", target=prefix, detail={})


def list_keys(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as con:
        rows = con.execute(select(api_keys).order_by(api_keys.c.created_at)).all()
    return [
        {
            "prefix": r.prefix,
            "name": r.name,
            "role": r.role,
            "store_id": r.store_id,
            "revoked": r.revoked_at is not None,
        }
        for r in rows
    ]
