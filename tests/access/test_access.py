"""Users, lockout, API keys and object-level access."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from tests.ops_engines import new_engine

from storeops.access import (
    ROLES,
    AccessError,
    ApiKeyError,
    LoginError,
    NotVisibleError,
    Permission,
    Principal,
    UserError,
    authenticate,
    create_key,
    create_user,
    disable_user,
    list_keys,
    list_users,
    revoke_key,
    set_stores,
    verify_key,
)
from storeops.access.users import LOCKOUT, MAX_FAILURES
from storeops.opsdb.access_tables import api_keys, users
from storeops.opsdb.tables import audit_log

PASSWORD = "correct horse battery"


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return new_engine("sqlite", tmp_path)


def test_users_log_in_and_passwords_are_hashed(engine: Engine) -> None:
    create_user(engine, "ann", PASSWORD, "analyst")
    create_user(engine, "li.wei", PASSWORD, "store_manager", stores=("S2", "S1"))
    ann = authenticate(engine, "ann", PASSWORD)
    assert (ann.role, ann.stores, ann.sees_pii) == ("analyst", None, False)
    li = authenticate(engine, "li.wei", PASSWORD)
    assert li.stores == frozenset({"S1", "S2"})
    with engine.connect() as con:
        stored = con.execute(select(users.c.password_hash)).scalars().all()
    assert all(h.startswith("$argon2id$") and PASSWORD not in h for h in stored)
    assert [u["username"] for u in list_users(engine)] == ["ann", "li.wei"]
    with engine.connect() as con:
        actions = con.execute(select(audit_log.c.action, audit_log.c.target)).all()
    assert ("user.create", "ann") in actions


def test_bad_users_are_refused(engine: Engine) -> None:
    with pytest.raises(UserError, match="needs at least one store"):
        create_user(engine, "m", PASSWORD, "store_manager")
    with pytest.raises(UserError, match="sees every store"):
        create_user(engine, "a", PASSWORD, "analyst", stores=("S1",))
    with pytest.raises(UserError, match="unknown role"):
        create_user(engine, "a", PASSWORD, "pos")
    with pytest.raises(UserError, match="at least 10"):
        create_user(engine, "a", "short", "analyst")
    with pytest.raises(UserError, match="letters, digits"):
        create_user(engine, "a b", PASSWORD, "analyst")
    create_user(engine, "a", PASSWORD, "analyst")
    with pytest.raises(UserError, match="already exists"):
        create_user(engine, "a", PASSWORD, "owner")


def test_lockout_after_wrong_passwords(engine: Engine) -> None:
    create_user(engine, "bo", PASSWORD, "marketer")
    t = datetime(2026, 5, 1, 9, 0)
    for i in range(MAX_FAILURES):
        with pytest.raises(LoginError, match="wrong username or password"):
            authenticate(engine, "bo", f"wrong password {i}", now=t)
    with pytest.raises(LoginError, match="locked until 09:15"):
        authenticate(engine, "bo", PASSWORD, now=t + timedelta(minutes=1))
    assert authenticate(engine, "bo", PASSWORD, now=t + LOCKOUT).role == "marketer"
    with pytest.raises(LoginError, match="wrong username or password"):
        authenticate(engine, "nobody", PASSWORD)
    disable_user(engine, "bo")
    with pytest.raises(LoginError, match="disabled"):
        authenticate(engine, "bo", PASSWORD, now=t + LOCKOUT)


def test_api_keys_shown_once_stored_hashed_and_revocable(engine: Engine) -> None:
    made = create_key(engine, "till 1", "pos", store_id="S1")
    key = made["key"]
    assert key.startswith("so_") and len(key) > 40
    p = verify_key(engine, key)
    assert p is not None and (p.role, p.stores) == ("pos", frozenset({"S1"}))
    with engine.connect() as con:
        assert key not in str(con.execute(select(api_keys)).all())
    assert verify_key(engine, key[:-1] + ("A" if key[-1] != "A" else "B")) is None
    assert verify_key(engine, "not a key") is None
    revoke_key(engine, made["prefix"])
    assert verify_key(engine, key) is None
    assert list_keys(engine)[0]["revoked"] is True
    with pytest.raises(ApiKeyError, match="no live API key"):
        revoke_key(engine, made["prefix"])
    with pytest.raises(ApiKeyError, match="one store"):
        create_key(engine, "till 2", "pos")
    with pytest.raises(ApiKeyError, match="roles"):
        create_key(engine, "root", "superuser")


def test_store_scope_hides_other_stores_objects() -> None:
    manager = Principal.of("user", "li", "store_manager", frozenset({"S1"}))
    manager.require(Permission.MEMBERS_READ, "S1")
    with pytest.raises(NotVisibleError, match="not found"):
        manager.require(Permission.MEMBERS_READ, "S2")
    # Another store's object is "not found" even where the permission is missing too.
    with pytest.raises(NotVisibleError):
        manager.require(Permission.USERS_ADMIN, "S2")
    with pytest.raises(AccessError, match="may not users admin"):
        manager.require(Permission.USERS_ADMIN)
    assert not manager.sees_store(None)
    owner = Principal.of("user", "boss", "owner")
    assert owner.sees_store("S9") and owner.sees_pii
    with pytest.raises(AccessError, match="at least one store"):
        Principal.of("api_key", "k", "pos")


def test_role_matrix() -> None:
    """Who may do what, written out: a change to the registry must change this table."""
    expected = {
        "owner": set(Permission),
        "admin": set(Permission),
        "analyst": {"analytics:read", "members:read", "reports:read"},
        "marketer": {"analytics:read", "members:read", "reports:read", "promotions:write"},
        "store_manager": {"analytics:read", "members:read", "members:write", "value:write",
                          "coupons:redeem", "reports:read"},
        "pos": {"members:read", "members:write", "value:write", "coupons:redeem",
                "pos:transact"},
    }  # fmt: skip
    assert {r: {str(p) for p in ps} for r, ps in ROLES.items()} == {
        r: {str(p) for p in ps} for r, ps in expected.items()
    }
    # Only owner and admin see raw personal data.
    assert {r for r, ps in ROLES.items() if Permission.PII_READ in ps} == {"owner", "admin"}


def test_store_managers_stores_can_change(engine: Engine) -> None:
    create_user(engine, "li", PASSWORD, "store_manager", stores=("S1",))
    set_stores(engine, "li", ("S3",), actor="owner")
    assert authenticate(engine, "li", PASSWORD).stores == frozenset({"S3"})
    with pytest.raises(AccessError):
        set_stores(engine, "li", (), actor="owner")
