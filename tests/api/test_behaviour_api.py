"""``/api/behaviour/*``: the funnel, retention and paths JSON endpoints."""

from __future__ import annotations

from fastapi.testclient import TestClient
from tests.cli.test_behaviour_cmds import OC, PA, PV, fill

from storeops.api.app import create_app
from storeops.workspace import Workspace


def client(ws: Workspace) -> TestClient:
    return TestClient(create_app(ws, route_modules=("storeops.api.routes.behaviour",)))


def test_funnel_endpoint(duckdb_workspace: Workspace) -> None:
    fill(duckdb_workspace)
    api = client(duckdb_workspace)
    body = {
        "steps": [{"event": PV}, {"event": PA}, {"event": OC}],
        "window": "7d",
        "breakdown": "store",
        "dropoff_step": 2,
        "segment": "cart_stop",
    }
    r = api.post("/api/behaviour/funnel", json=body)
    assert r.status_code == 200, r.text
    out = r.json()
    assert [(s["name"], s["count"]) for s in out["steps"]] == [(PV, 3), (PA, 2), (OC, 1)]
    assert out["window_seconds"] == 7 * 86_400
    assert out["dropoffs"]["people"] == ["anon:b"]
    assert out["segment"] == {"name": "cart_stop", "step": 2, "people": 1}


def test_invalid_queries_are_422_with_a_code(duckdb_workspace: Workspace) -> None:
    api = client(duckdb_workspace)
    r = api.post("/api/behaviour/funnel", json={"steps": [{"event": PV}]})
    assert r.status_code == 422 and r.json()["detail"]["code"] == "funnel.too_few_steps"
    r = api.post(
        "/api/behaviour/funnel", json={"steps": [{"event": PV}, {"event": OC}], "window": "x"}
    )
    assert r.status_code == 422 and r.json()["detail"]["code"] == "behaviour.bad_duration"
    r = api.post(
        "/api/behaviour/retention", json={"return_by": "purchase", "count_by": "anonymous_id"}
    )
    assert r.status_code == 422
    r = api.post("/api/behaviour/paths", json={"steps": 3})  # no anchor event
    assert r.status_code == 422


def test_retention_and_paths_endpoints(duckdb_workspace: Workspace) -> None:
    fill(duckdb_workspace)
    api = client(duckdb_workspace)
    r = api.post("/api/behaviour/retention", json={"period": "week", "periods": 2})
    assert r.status_code == 200, r.text
    assert r.json()["cohorts"][0]["retained"] == [3, 1]
    r = api.post("/api/behaviour/paths", json={"event": PV, "steps": 2, "count_by": "anonymous_id"})
    assert r.status_code == 200, r.text
    assert {t["event"] for t in r.json()["top"]} == {PA, "(end)"}


def test_mounted_in_the_default_app(duckdb_workspace: Workspace) -> None:
    app = create_app(duckdb_workspace, background_jobs=False)
    paths = set(app.openapi()["paths"])
    assert {"/api/behaviour/funnel", "/api/behaviour/retention", "/api/behaviour/paths"} <= paths
