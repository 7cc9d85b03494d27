"""Logins for the demo workspace, so ``make demo`` ends in a dashboard one can open.

Two users with fixed, documented passwords (the demo runs on loopback with made-up
data; never use these names or passwords for real data):

- ``demo`` — an owner, who sees every store;
- ``demo_manager`` — the store manager of the first store, who sees only that store.

Creating them again keeps the existing users (and their passwords). The workspace also
gets a random ``session_key`` in its storeops.toml when it has none, so logins survive
a restart of ``storeops serve``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select

from storeops.access import UserError, create_user
from storeops.opsdb.access_tables import users
from storeops.settings import SETTINGS_FILE
from storeops.workspace import Workspace

OWNER = ("demo", "storeops-demo")
MANAGER = ("demo_manager", "storeops-store")


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: str
    stores: tuple[str, ...]
    created: bool


def ensure_session_key(ws: Workspace) -> bool:
    """Add a random ``session_key`` to the workspace's storeops.toml when missing."""
    if ws.settings.session_key is not None:
        return False
    path = ws.root / SETTINGS_FILE
    text = path.read_text(encoding="utf-8")
    if "session_key" in text:
        return False
    key = secrets.token_urlsafe(32)
    path.write_text(
        text.rstrip("\n") + "\n# Signs dashboard logins (added for the demo).\n"
        f'session_key = "{key}"\n',
        encoding="utf-8",
    )
    return True


def ensure_demo_logins(ws: Workspace, first_store: str) -> list[DemoLogin]:
    """The owner and the store manager of ``first_store``, created when missing."""
    engine = ws.ops_engine()
    try:
        logins = []
        for (name, password), role, stores in (
            (OWNER, "owner", ()),
            (MANAGER, "store_manager", (first_store,)),
        ):
            with engine.connect() as con:
                exists = con.execute(select(users.c.user_id).where(users.c.username == name))
                found = exists.first() is not None
            if not found:
                try:
                    create_user(engine, name, password, role, stores=stores, actor="demo")
                except UserError:  # created meanwhile by another process
                    found = True
            logins.append(DemoLogin(name, password, role, stores, created=not found))
        return logins
    finally:
        engine.dispose()
