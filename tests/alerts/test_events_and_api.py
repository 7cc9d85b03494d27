"""Alert events in a caller's store scope and their acknowledgement, on SQLite and
PostgreSQL; and the JSON API over them (a store manager sees and acknowledges only
its own stores' alerts)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert, select

from storeops.access import Principal, create_key
from storeops.alerts import (
    AlertNotFoundError,
    AlertQueryError,
    RuleSpec,
    acknowledge,
    add_rule,
    list_alerts,
)
from storeops.api.app import create_app
from storeops.notify import ensure_outbox_channel
from storeops.opsdb import utcnow
from storeops.opsdb.alert_tables import alert_events
from storeops.opsdb.tables import audit_log
from storeops.workspace import Workspace


def seed(engine: Engine) -> dict[tuple[str, str], int]:
    """Alerts for S1 and S2 on two days (red on the 20th, blue on the 21st)."""
    ensure_outbox_channel(engine)
    rule = add_rule(engine, RuleSpec(name="entries-drop", kpi="entries", kind="anomaly"))
    ids = {}
    with engine.begin() as con:
        for store in ("S1", "S2"):
            for day, level in ((date(2026, 10, 20), "red"), (date(2026, 10, 21), "blue")):
                ids[(store, day.isoformat())] = con.execute(
                    insert(alert_events)
                    .values(
                        rule_id=rule.rule_id,
                        store_id=store,
                        day=day,
                        kpi="entries",
                        level=level,
                        value=10.0,
                        expected=300.0,
                        score=-6.0,
                        detail={},
                        created_at=utcnow(),
                    )
                    .returning(alert_events.c.alert_id)
                ).scalar_one()
    return ids


def test_scope_filters_and_order(ops_engine: Engine) -> None:
    ids = seed(ops_engine)
    everything = list_alerts(ops_engine)
    assert [(a.store_id, a.day.isoformat()) for a in everything] == [
        ("S2", "2026-10-21"),
        ("S1", "2026-10-21"),
        ("S2", "2026-10-20"),
        ("S1", "2026-10-20"),
    ]
    manager = Principal.of("user", "mgr", "store_manager", frozenset({"S1"}))
    mine = list_alerts(ops_engine, manager)
    assert {a.store_id for a in mine} == {"S1"} and len(mine) == 2
    assert {a.alert_id for a in list_alerts(ops_engine, ["S2"])} == {
        ids[("S2", "2026-10-20")],
        ids[("S2", "2026-10-21")],
    }
    assert [a.level for a in list_alerts(ops_engine, level="red")] == ["red", "red"]
    window = list_alerts(ops_engine, date_from=date(2026, 10, 21), date_to=date(2026, 10, 21))
    assert {a.day for a in window} == {date(2026, 10, 21)}
    owner = Principal.of("user", "boss", "owner")
    assert len(list_alerts(ops_engine, owner, store_id="S2")) == 2
    with pytest.raises(AlertQueryError, match="after"):
        list_alerts(ops_engine, date_from=date(2026, 10, 22), date_to=date(2026, 10, 21))


def test_acknowledge_in_scope_once_and_audited(ops_engine: Engine) -> None:
    ids = seed(ops_engine)
    manager = Principal.of("user", "mgr", "store_manager", frozenset({"S1"}))
    own, other = ids[("S1", "2026-10-20")], ids[("S2", "2026-10-20")]
    with pytest.raises(AlertNotFoundError, match="was not found"):
        acknowledge(ops_engine, other, "user:mgr", manager)
    done = acknowledge(ops_engine, own, "user:mgr", manager)
    assert done.acknowledged and done.acknowledged_by == "user:mgr"
    again = acknowledge(ops_engine, own, "user:someone-else")
    assert again.acknowledged_by == "user:mgr" and again.acknowledged_at == done.acknowledged_at
    assert [a.alert_id for a in list_alerts(ops_engine, manager, status="acknowledged")] == [own]
    assert own not in {a.alert_id for a in list_alerts(ops_engine, status="open")}
    with ops_engine.connect() as con:
        rows = con.execute(select(audit_log.c.action, audit_log.c.target)).all()
    assert [(r.action, r.target) for r in rows] == [("alert.acknowledge", f"alert:{own}")]
    with pytest.raises(AlertNotFoundError):
        acknowledge(ops_engine, 10**9, "x")


def _client(
    ws: Workspace, role: str, store: str | None = None
) -> tuple[TestClient, dict[str, str]]:
    key = create_key(ws.ops_engine(), f"{role} key", role, store_id=store)["key"]
    return TestClient(create_app(ws, background_jobs=False)), {"Authorization": f"Bearer {key}"}


def test_api_lists_and_acknowledges_in_the_callers_stores(duckdb_workspace: Workspace) -> None:
    ids = seed(duckdb_workspace.ops_engine())
    client, manager = _client(duckdb_workspace, "store_manager", "S1")
    got = client.get("/api/alerts", headers=manager)
    assert got.status_code == 200
    body: list[dict[str, Any]] = got.json()
    assert {a["store_id"] for a in body} == {"S1"} and len(body) == 2
    assert body[0]["day"] == "2026-10-21" and body[0]["kpi"] == "entries"
    other = ids[("S2", "2026-10-20")]
    assert client.post(f"/api/alerts/{other}/ack", headers=manager).status_code == 404
    own = ids[("S1", "2026-10-20")]
    acked = client.post(f"/api/alerts/{own}/ack", headers=manager)
    assert acked.status_code == 200 and acked.json()["acknowledged_by"].startswith("api_key:")
    still_open = client.get("/api/alerts", headers=manager).json()
    assert [a["alert_id"] for a in still_open] == [ids[("S1", "2026-10-21")]]
    everything = client.get("/api/alerts?status=all&level=red", headers=manager).json()
    assert [a["alert_id"] for a in everything] == [own]
    bad = client.get("/api/alerts?date_from=2026-10-22&date_to=2026-10-01", headers=manager)
    assert bad.status_code == 422
    assert client.get("/api/alerts").status_code == 401
    owner_client, owner = _client(duckdb_workspace, "owner")
    assert len(owner_client.get("/api/alerts?status=all", headers=owner).json()) == 4
    pos_client, pos = _client(duckdb_workspace, "pos", "S1")
    assert pos_client.get("/api/alerts", headers=pos).status_code == 403
