"""``/api/members``: enrol, read, look up by phone; masking and strict bodies."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from storeops.access import create_key
from storeops.api.app import create_app
from storeops.privacy.crypto import generate_key, generate_keyring
from storeops.workspace import Workspace, open_workspace

ROUTES = ("storeops.api.routes.members",)


def _client(ws: Workspace, role: str, store: str | None = None) -> TestClient:
    key = create_key(ws.ops_engine(), role, role, store_id=store)["key"]
    return TestClient(create_app(ws, route_modules=ROUTES),
                      headers={"Authorization": f"Bearer {key}"})  # fmt: skip


def test_members_api(duckdb_workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    no_keys = _client(duckdb_workspace, "owner")
    down = no_keys.post("/api/members", json={"member_id": "M0", "store_id": "S1"})
    assert down.status_code == 503 and "STOREOPS_ENCRYPTION_KEY" in down.text
    monkeypatch.setenv("STOREOPS_ENCRYPTION_KEY", generate_keyring())
    monkeypatch.setenv("STOREOPS_BLIND_INDEX_KEY", generate_key())
    ws = open_workspace(duckdb_workspace.root)
    till = _client(ws, "pos", "S1")
    made = till.post("/api/members", json={"member_id": "M1", "store_id": "S1",
                                           "phone": "+86 139 1234 5678"})  # fmt: skip
    assert made.status_code == 201, made.text
    assert made.json()["phone"] == "139****5678"  # a till sees it masked
    sneaky = till.post("/api/members", json={"member_id": "M2", "store_id": "S1",
                                             "tier": "gold"})  # fmt: skip
    assert sneaky.status_code == 422
    taken = till.post("/api/members", json={"member_id": "M3", "store_id": "S1",
                                            "phone": "13912345678"})  # fmt: skip
    assert taken.status_code == 422 and "another member" in taken.text
    found = till.get("/api/members/lookup", params={"phone": "139-1234-5678"})
    assert found.status_code == 200 and found.json()["member_id"] == "M1"
    assert till.get("/api/members/lookup", params={"phone": "13900000000"}).status_code == 404
    owner = _client(ws, "owner")
    assert owner.get("/api/members/M1").json()["phone"] == "13912345678"
    assert _client(ws, "analyst").get("/api/members/M1").json()["phone"] == "139****5678"
    other_till = _client(ws, "pos", "S2")
    assert other_till.get("/api/members/M1").status_code == 404
    assert other_till.get("/api/members/nobody").status_code == 404
