"""``/api/pos/*`` over HTTP: keys, store scope, idempotency headers, strict bodies."""

from __future__ import annotations

from fastapi.testclient import TestClient

from storeops.access import create_key
from storeops.api.app import create_app
from storeops.loyalty import StoredValue, enrol
from storeops.workspace import Workspace

ROUTES = ("storeops.api.routes.pos",)
LINE = {"sku": "A1", "unit_price_fen": 15_000, "quantity": 2}


def _client(ws: Workspace, role: str = "pos", store: str | None = "S1") -> TestClient:
    key = create_key(ws.ops_engine(), "till", role, store_id=store if role == "pos" else None)
    app = create_app(ws, route_modules=ROUTES)
    return TestClient(app, headers={"Authorization": f"Bearer {key['key']}"})


def test_pos_over_http(duckdb_workspace: Workspace) -> None:
    engine = duckdb_workspace.ops_engine()
    enrol(engine, "M1")
    StoredValue(engine, bonuses=()).top_up("M1", 10_000, key="top")
    till = _client(duckdb_workspace)
    body = {"store_id": "S1", "lines": [LINE], "member_id": "M1", "stored_value_fen": 4_000}
    quote = till.post("/api/pos/quote", json=body)
    assert quote.status_code == 200, quote.text
    assert quote.json()["payable_fen"] == 26_000

    commit = {**body, "order_id": "O1"}
    headers = {"Idempotency-Key": "0b6f7c2e-till-1"}
    first = till.post("/api/pos/commit", json=commit, headers=headers)
    assert first.status_code == 200, first.text
    again = till.post("/api/pos/commit", json=commit, headers=headers)
    assert again.content == first.content  # byte-identical replay
    changed = till.post("/api/pos/commit", json={**commit, "stored_value_fen": 1}, headers=headers)
    assert changed.status_code == 422 and "different" in changed.text
    assert StoredValue(engine).balance("M1") == 6_000

    missing_key = till.post("/api/pos/commit", json={**commit, "order_id": "O2"})
    assert missing_key.status_code == 422
    sneaky = till.post("/api/pos/commit", json={**commit, "order_id": "O3", "balance": 10**6},
                       headers={"Idempotency-Key": "0b6f7c2e-till-2"})  # fmt: skip
    assert sneaky.status_code == 422  # unknown fields are refused, not ignored
    short = till.post("/api/pos/commit", json={**commit, "order_id": "O4",
                                               "stored_value_fen": 20_000},
                      headers={"Idempotency-Key": "0b6f7c2e-till-3"})  # fmt: skip
    assert short.status_code == 422 and "InsufficientBalanceError" in short.text

    refund = {"store_id": "S1", "order_id": "O1", "refund_id": "R1", "amount_fen": 30_000}
    done = till.post("/api/pos/refund", json=refund, headers={"Idempotency-Key": "refund-0001"})
    assert done.status_code == 200, done.text
    assert done.json()["stored_value_fen"] == 4_000
    assert StoredValue(engine).balance("M1") == 10_000


def test_keys_and_store_scope(duckdb_workspace: Workspace) -> None:
    body = {"store_id": "S2", "lines": [LINE]}
    till = _client(duckdb_workspace)  # a till of S1
    other = till.post("/api/pos/quote", json=body)
    assert other.status_code == 404 and "not found" in other.text
    refund = {"store_id": "S2", "order_id": "O1", "refund_id": "R1", "amount_fen": 1}
    hidden = till.post("/api/pos/refund", json=refund, headers={"Idempotency-Key": "refund-0002"})
    assert hidden.status_code == 404
    analyst = _client(duckdb_workspace, role="analyst")
    assert analyst.post("/api/pos/quote", json=body).status_code == 403
    nobody = TestClient(create_app(duckdb_workspace, route_modules=ROUTES))
    assert nobody.post("/api/pos/quote", json=body).status_code == 401
