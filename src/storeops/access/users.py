"""Users: creation, login with lockout, store scope, disabling. Every change is audited.

**Lockout.** After ``MAX_FAILURES`` wrong passwords in a row an account is locked for
``LOCKOUT``; while locked even the right password is refused. A successful login
resets the count. A wrong username takes as long as a wrong password (a dummy hash is
verified), so logins do not reveal which usernames exist.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from storeops.access.passwords import DUMMY_HASH, hash_password, needs_rehash, verify_password
from storeops.access.principal import AccessError, Principal
from storeops.access.roles import STORE_SCOPED, USER_ROLES
from storeops.errors import StoreOpsError
from storeops.opsdb import audit, utcnow
from storeops.opsdb.access_tables import user_stores, users

MAX_FAILURES = 5
_USERNAME = re.compile(r"[A-Za-z0-9._]{1,64}")
LOCKOUT = timedelta(minutes=15)


class UserError(StoreOpsError, ValueError):
    """A user cannot be created or changed as asked."""


class LoginError(StoreOpsError, PermissionError):
    """Wrong username or password, or the account is locked or disabled."""


def create_user(
    engine: Engine,
    username: str,
    password: str,
    role: str,
    *,
    stores: tuple[str, ...] = (),
    display_name: str | None = None,
    actor: str = "cli",
) -> dict[str, Any]:
    """Create a user; store managers need at least one store."""
    if role not in USER_ROLES:
        raise UserError(f"unknown role {role!r}; choose one of {', '.join(USER_ROLES)}")
    if role in STORE_SCOPED and not stores:
        raise UserError(f"a {role} needs at least one store (--store)")
    if role not in STORE_SCOPED and stores:
        raise UserError(f"the {role} role sees every store; drop --store")
    if (
        not username
        or len(username) > 64
        or not username.replace("_", "").replace(".", "").isalnum()
    ):
        raise UserError("usernames are 1-64 letters, digits, '.' or '_'")
    try:
        digest = hash_password(password)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    now = utcnow()
    try:
        with engine.begin() as con:
            user_id = con.execute(
                insert(users)
                .values(
                    username=username,
                    password_hash=digest,
                    role=role,
                    display_name=display_name,
                    created_at=now,
                )
                .returning(users.c.user_id)
            ).scalar_one()
            for store in sorted(set(stores)):
                con.execute(insert(user_stores).values(user_id=user_id, store_id=store))
            audit(con, actor=actor, action="user.create", target=username,
                  detail={"role": role, "stores": sorted(set(stores))})  # fmt: skip
    except IntegrityError:
        raise UserError(f"a user named {username!r} already exists") from None
    return {"user_id": user_id, "username": username, "role": role, "stores": sorted(stores)}


def _principal(engine: Engine, user_id: int, username: str, role: str) -> Principal:
    with engine.connect() as con:
        stores = frozenset(
            con.execute(
                select(user_stores.c.store_id).where(user_stores.c.user_id == user_id)
            ).scalars()
        )
    return Principal.of("user", username, role, stores)


def authenticate(
    engine: Engine, username: str, password: str, *, now: datetime | None = None
) -> Principal:
    """The principal for a correct login; :class:`LoginError` otherwise (see module doc)."""
    at = now or utcnow()
    with engine.connect() as con:
        row = con.execute(select(users).where(users.c.username == username)).first()
    if row is None:
        verify_password(DUMMY_HASH, password)
        raise LoginError("wrong username or password")
    u = row._mapping
    if u["disabled_at"] is not None:
        raise LoginError("this account is disabled; ask an administrator")
    if u["locked_until"] is not None and u["locked_until"] > at:
        raise LoginError(
            f"too many wrong passwords: the account is locked until {u['locked_until']:%H:%M} UTC"
        )
    if not verify_password(u["password_hash"], password):
        failures = int(u["failed_logins"]) + 1
        locked = at + LOCKOUT if failures >= MAX_FAILURES else None
        with engine.begin() as con:
            con.execute(
                update(users)
                .where(users.c.user_id == u["user_id"])
                .values(failed_logins=0 if locked else failures, locked_until=locked)
            )
            if locked:
                audit(con, actor=username, action="user.locked", target=username,
                      detail={"failures": failures})  # fmt: skip
        raise LoginError("wrong username or password")
    values: dict[str, Any] = {"failed_logins": 0, "locked_until": None}
    if needs_rehash(u["password_hash"]):
        values["password_hash"] = hash_password(password)
    with engine.begin() as con:
        con.execute(update(users).where(users.c.user_id == u["user_id"]).values(**values))
    return _principal(engine, int(u["user_id"]), username, str(u["role"]))


def disable_user(engine: Engine, username: str, *, actor: str = "cli") -> None:
    with engine.begin() as con:
        done = con.execute(
            update(users)
            .where(users.c.username == username, users.c.disabled_at.is_(None))
            .values(disabled_at=utcnow())
        ).rowcount
        if done != 1:
            raise UserError(f"no active user named {username!r}")
        audit(con, actor=actor, action="user.disable", target=username, detail={})


def set_stores(engine: Engine, username: str, stores: tuple[str, ...], *, actor: str) -> None:
    """Replace a store manager's stores."""
    with engine.begin() as con:
        row = con.execute(
            select(users.c.user_id, users.c.role).where(users.c.username == username)
        ).first()
        if row is None:
            raise UserError(f"no user named {username!r}")
        if row.role not in STORE_SCOPED:
            raise UserError(f"the {row.role} role sees every store")
        if not stores:
            raise AccessError("a store manager needs at least one store")
        con.execute(delete(user_stores).where(user_stores.c.user_id == row.user_id))
        for store in sorted(set(stores)):
            con.execute(insert(user_stores).values(user_id=row.user_id, store_id=store))
        audit(con, actor=actor, action="user.stores", target=username,
              detail={"stores": sorted(set(stores))})  # fmt: skip


def list_users(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as con:
        rows = con.execute(select(users).order_by(users.c.username)).all()
        scopes: dict[int, list[str]] = {}
        for uid, store in con.execute(select(user_stores.c.user_id, user_stores.c.store_id)):
            scopes.setdefault(int(uid), []).append(str(store))
    return [
        {
            "username": r.username,
            "role": r.role,
            "stores": sorted(scopes.get(int(r.user_id), [])),
            "disabled": r.disabled_at is not None,
            "locked_until": r.locked_until.isoformat() if r.locked_until else None,
        }
        for r in rows
    ]
