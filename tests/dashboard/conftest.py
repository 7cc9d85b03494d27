"""A small demo workspace for the dashboard tests, built once per test session (per
xdist worker): two stores, 300 customers, 100 days — enough for every page to have
data (traffic, zones, app events, purchases, forecasts), built with the real
``storeops demo`` (marts, goals and alert rules included)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from storeops.access import create_user
from storeops.api.app import create_app
from storeops.cli.main import app as cli
from storeops.workspace import Workspace, open_workspace

PASSWORD = "password-for-tests"
DEMO_ARGS = ["--stores", "2", "--customers", "300", "--days", "100", "--json"]
ROUTES = ("storeops.dashboard.routes",)


@pytest.fixture(scope="session")
def demo_ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    root = tmp_path_factory.mktemp("dashboard") / "demo"
    result = CliRunner().invoke(cli, ["demo", str(root), *DEMO_ARGS])
    assert result.exit_code == 0, result.output
    json.loads(result.stdout)  # the demo finished and reported
    ws = open_workspace(root)
    engine = ws.ops_engine()
    create_user(engine, "owner1", PASSWORD, "owner")
    create_user(engine, "analyst1", PASSWORD, "analyst")
    create_user(engine, "mgr1", PASSWORD, "store_manager", stores=("S001",))
    engine.dispose()
    return ws


def login(client: TestClient, username: str, password: str = PASSWORD) -> None:
    client.get("/login")
    token = client.cookies.get("storeops_csrf")
    r = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token or ""},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text


@pytest.fixture
def anonymous(demo_ws: Workspace) -> Iterator[TestClient]:
    with TestClient(create_app(demo_ws, route_modules=ROUTES, background_jobs=False)) as c:
        yield c


@contextmanager
def client_for(ws: Workspace, username: str, locale: str = "en") -> Iterator[TestClient]:
    with TestClient(create_app(ws, route_modules=ROUTES, background_jobs=False)) as c:
        c.cookies.set("storeops_lang", locale)
        login(c, username)
        yield c


@pytest.fixture
def owner(demo_ws: Workspace) -> Iterator[TestClient]:
    with client_for(demo_ws, "owner1") as c:
        yield c


@pytest.fixture
def manager(demo_ws: Workspace) -> Iterator[TestClient]:
    with client_for(demo_ws, "mgr1") as c:
        yield c


def artifacts() -> Path:
    """test-artifacts/ at the repository root (the Makefile's ARTIFACTS folder)."""
    return Path(__file__).resolve().parents[2] / "test-artifacts"
