"""``/api/behaviour/*``: the funnel, retention and paths JSON endpoints."""

from __future__ import annotations

from fastapi.testclient import TestClient
from tests.cli.test_behaviour_cmds import OC, PA, PV, fill

from storeops.access import create_key
from storeops.api.app import create_app
from storeops.workspace import Workspace

ROUTES = "storeops.api.routes.behaviour"


def client(ws: Workspace, role: str = "analyst", store: str | None = None) -> TestClient:
    """A client holding an API key of ``role``."""
    key = create_key(ws.ops_engine(), "test", role, store_id=store)["key"]
    app = create_app(ws, route_modules=("storeops.api.routes.behaviour",))
    return TestClient(app, headers={"Authorization": f"Bearer {key}"})


def test_callers_need_a_key_with_analytics_read(duckdb_workspace: Workspace) -> None:
    fill(duckdb_workspace)
    body = {"steps": [{"event": PV}, {"event": PA}], "window": "7d"}
    anonymous = TestClient(create_app(duckdb_workspace, route_modules=(ROUTES,)))
    r = anonymous.post("/api/behaviour/funnel", json=body)
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    bad = anonymous.post("/api/behaviour/funnel", json=body,
                         headers={"Authorization": "Bearer so_nope_nope"})  # fmt: skip
    assert bad.status_code == 401
    till = client(duckdb_workspace, role="pos", store="S1")
    assert till.post("/api/behaviour/funnel", json=body).status_code == 403
    assert client(duckdb_workspace).post("/api/behaviour/funnel", json=body).status_code == 200


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


def test_dates_outside_the_calendar_are_422(duckdb_workspace: Workspace) -> None:
    """Found by the OpenAPI fuzzing: year 1 in Asia/Shanghai has no UTC start."""
    body = {"steps": [{"event": PV}, {"event": PA}], "since": "0001-01-01"}
    r = client(duckdb_workspace).post("/api/behaviour/funnel", json=body)
    assert r.status_code == 422 and r.json()["detail"]["code"] == "behaviour.bad_date"
