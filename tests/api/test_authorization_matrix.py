"""Every API endpoint × every role × own or another store's object: no leaks.

For each endpoint the expected answer follows from the role registry alone: 401
without a key; 403 without the endpoint's permission (or for a store-scoped key on a
chain-wide answer) — the same for every object; 404 for another store's object (a
store-scoped key); else the endpoint runs (2xx, or 422 for a body the business rules
refuse). Anything else is a leak. A new ``/api``
route must be added to ENDPOINTS, or the first test fails.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from storeops.access import ROLES, STORE_SCOPED, Permission, create_key
from storeops.alerts import RuleSpec, add_rule
from storeops.api.app import create_app
from storeops.loyalty.members import PiiKeys, enrol
from storeops.notify import ensure_outbox_channel
from storeops.opsdb.alert_tables import alert_events
from storeops.privacy.crypto import blind_index_from, cipher_from, generate_key, generate_keyring
from storeops.workspace import Workspace, open_workspace

LINE = {"sku": "A1", "unit_price_fen": 1_000}


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # the route as the OpenAPI schema names it
    permission: Permission
    body: Callable[[str], dict[str, Any] | None]  # store -> JSON body
    chain_wide: bool = False
    store_scoped: bool = True
    url: Callable[[str], str] | None = None  # store -> URL, where it names the object


ENDPOINTS = (
    Endpoint("POST", "/api/pos/quote", Permission.POS_TRANSACT,
             lambda s: {"store_id": s, "lines": [LINE]}),
    Endpoint("POST", "/api/pos/commit", Permission.POS_TRANSACT,
             lambda s: {"store_id": s, "lines": [LINE], "order_id": f"O-{s}"}),
    Endpoint("POST", "/api/pos/refund", Permission.POS_TRANSACT,
             lambda s: {"store_id": s, "order_id": "none", "refund_id": "R", "amount_fen": 1}),
    Endpoint("POST", "/api/behaviour/funnel", Permission.ANALYTICS_READ,
             lambda s: {"steps": [{"event": "A"}, {"event": "B"}]}, chain_wide=True,
             store_scoped=False),
    Endpoint("POST", "/api/behaviour/retention", Permission.ANALYTICS_READ,
             lambda s: {}, chain_wide=True, store_scoped=False),
    Endpoint("POST", "/api/behaviour/paths", Permission.ANALYTICS_READ,
             lambda s: {"event": "A"}, chain_wide=True, store_scoped=False),
    Endpoint("POST", "/api/members", Permission.MEMBERS_WRITE,
             lambda s: {"member_id": f"NEW-{s}", "store_id": s}),
    Endpoint("GET", "/api/members/{member_id}", Permission.MEMBERS_READ, lambda s: None,
             url=lambda s: f"/api/members/M-{s}"),
    Endpoint("GET", "/api/members/lookup", Permission.MEMBERS_READ, lambda s: None,
             url=lambda s: f"/api/members/lookup?phone={PHONES[s]}"),
    Endpoint("GET", "/api/reports", Permission.REPORTS_READ, lambda s: None,
             url=lambda s: f"/api/reports?store={s}"),
    Endpoint("GET", "/api/reports/{name}", Permission.REPORTS_READ, lambda s: None,
             url=lambda s: f"/api/reports/{REPORTS[s]}"),
    Endpoint("GET", "/api/alerts", Permission.ANALYTICS_READ, lambda s: None,
             store_scoped=False),
    Endpoint("POST", "/api/alerts/{alert_id}/ack", Permission.ANALYTICS_READ, lambda s: None,
             url=lambda s: f"/api/alerts/{ALERTS[s]}/ack"),
)  # fmt: skip
PHONES = {"S1": "13911110001", "S2": "13922220002"}
REPORTS = {s: f"daily-{s}-2026-10-31-zh_CN.html" for s in PHONES}
#: Alert ids of the alerts seeded for each store (in this order, in a fresh database).
ALERTS = {"S1": 1, "S2": 2}


def _seed_alerts(engine: Engine) -> None:
    ensure_outbox_channel(engine)
    rule = add_rule(engine, RuleSpec(name="entries-drop", kpi="entries", kind="anomaly"))
    with engine.begin() as con:
        for store, alert_id in ALERTS.items():
            con.execute(alert_events.insert().values(
                alert_id=alert_id, rule_id=rule.rule_id, store_id=store, day=date(2026, 10, 20),
                kpi="entries", level="red", detail={}, created_at=datetime(2026, 11, 1),
            ))  # fmt: skip


def test_every_api_route_is_in_the_matrix(duckdb_workspace: Workspace) -> None:
    schema = create_app(duckdb_workspace, background_jobs=False).openapi()
    routes = {
        (method.upper(), path)
        for path, ops in schema["paths"].items()
        if path.startswith("/api/")
        for method in ops
    }
    assert routes == {(e.method, e.path) for e in ENDPOINTS}


def _expected(e: Endpoint, role: str, own: bool) -> set[int]:
    """403 when the role may not call the endpoint at all (the same answer for every
    object, so it tells nothing about them); then 404 for another store's object."""
    scoped = role in STORE_SCOPED
    if e.permission not in ROLES[role] or (e.chain_wide and scoped):
        return {403}
    if scoped and e.store_scoped and not own:
        return {404}
    return {200, 201, 422}


@pytest.mark.parametrize("role", sorted(ROLES))
def test_no_leaks(duckdb_workspace: Workspace, role: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STOREOPS_ENCRYPTION_KEY", generate_keyring())
    monkeypatch.setenv("STOREOPS_BLIND_INDEX_KEY", generate_key())
    duckdb_workspace = open_workspace(duckdb_workspace.root)
    engine = duckdb_workspace.ops_engine()
    keys = PiiKeys(cipher_from(duckdb_workspace.settings),
                   blind_index_from(duckdb_workspace.settings))  # fmt: skip
    for store, phone in PHONES.items():
        enrol(engine, f"M-{store}", store_id=store, phone=phone, keys=keys)
        (duckdb_workspace.folder("reports") / REPORTS[store]).write_text("<html></html>")
    _seed_alerts(engine)
    store = "S1" if role in STORE_SCOPED else None
    key = create_key(engine, f"{role} key", role, store_id=store)["key"]
    client = TestClient(create_app(duckdb_workspace, background_jobs=False))
    for n, e in enumerate(ENDPOINTS):
        for own in (True, False):
            target = "S1" if own else "S2"
            body, url = e.body(target), e.url(target) if e.url else e.path
            headers = {"Idempotency-Key": f"matrix-{role}-{n}-{own}"}
            anonymous = client.request(e.method, url, json=body, headers=headers)
            assert anonymous.status_code == 401, (e.path, anonymous.text)
            headers["Authorization"] = f"Bearer {key}"
            got = client.request(e.method, url, json=body, headers=headers)
            assert got.status_code in _expected(e, role, own), (
                role, e.path, "own" if own else "foreign", got.status_code, got.text,
            )  # fmt: skip
