"""Logins for the demo workspace, so ``make demo`` ends in a dashboard one can open.

Two users with fixed, documented passwords (the demo runs on loopback with made-up
data; never use these names or passwords for real data):

- ``demo`` — an owner, who sees every store;
- ``demo_manager`` — the store manager of the first store, who sees only that store.

Creating them again keeps the existing users (and their passwords). The workspace also
gets the keys it lacks in its storeops.toml: a random ``session_key``, so logins
survive a restart of ``storeops serve``, and the personal-data keys
(``encryption_key``, ``blind_index_key``, as ``storeops keys generate`` makes them),
without which the collector does not start and channels with secrets cannot be added.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select

from storeops.access import UserError, create_user
from storeops.opsdb.access_tables import users
from storeops.privacy.crypto import generate_key, generate_keyring
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


def ensure_demo_keys(ws: Workspace) -> list[str]:
    """Add the keys the workspace lacks (``session_key``, ``encryption_key``,
    ``blind_index_key``) to its storeops.toml; returns the names added. A key set in
    the environment or already in the file is kept."""
    path = ws.root / SETTINGS_FILE
    text = path.read_text(encoding="utf-8")
    makers = {
        "session_key": lambda: secrets.token_urlsafe(32),
        "encryption_key": generate_keyring,
        "blind_index_key": generate_key,
    }
    added = [
        name for name in makers if getattr(ws.settings, name) is None and f"{name} =" not in text
    ]
    if not added:
        return []
    lines = "".join(f'{name} = "{makers[name]()}"\n' for name in added)
    path.write_text(
        text.rstrip("\n") + "\n# Keys of the demo workspace (added by "
        "`storeops dashboard demo-logins`).\n" + lines,
        encoding="utf-8",
    )
    return added


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
