"""The dashboard over HTTP (FastAPI TestClient): login, CSRF, scope, languages, pages."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient
from tests.dashboard.conftest import PASSWORD, ROUTES, client_for, login
from typer.testing import CliRunner

from storeops.api.app import create_app
from storeops.cli.main import app as cli
from storeops.dashboard.routes import PAGES, PLOTLY_URL
from storeops.workspace import Workspace, open_workspace

SLUGS = [p.slug for p in PAGES]


def figures(html: str) -> list[dict]:
    """The Plotly figures embedded in a page (data-figure attributes)."""
    import html as htmlmod

    return [json.loads(htmlmod.unescape(m)) for m in re.findall(r'data-figure="([^"]*)"', html)]


def test_pages_need_a_login(anonymous: TestClient) -> None:
    for slug in SLUGS:
        r = anonymous.get(f"/{slug}?store=S001", follow_redirects=False)
        assert r.status_code == 303
        assert r.headers["location"].startswith("/login?next=%2F" + slug)
    assert anonymous.get("/dashboard/api/live").status_code == 401


def test_login_sets_a_signed_httponly_cookie(anonymous: TestClient) -> None:
    login(anonymous, "owner1")
    cookie = next(c for c in anonymous.cookies.jar if c.name == "storeops_session")
    assert cookie.has_nonstandard_attr("HttpOnly")
    assert anonymous.get("/overview").status_code == 200
    # A forged or altered session is no session.
    payload, mac = cookie.value.split(".")
    anonymous.cookies.set("storeops_session", payload + "." + mac[:-2] + "xx")
    assert anonymous.get("/overview", follow_redirects=False).status_code == 303


def test_wrong_password_and_missing_csrf_are_refused(anonymous: TestClient) -> None:
    anonymous.get("/login")
    token = anonymous.cookies.get("storeops_csrf")
    bad = anonymous.post("/login", data={"username": "owner1", "password": "nope-nope-nope",
                                         "csrf_token": token})  # fmt: skip
    assert bad.status_code == 401 and "用户名或密码错误" in bad.text  # zh by default
    forged = anonymous.post("/login", data={"username": "owner1", "password": PASSWORD,
                                            "csrf_token": "x.y"})  # fmt: skip
    assert forged.status_code == 403
    assert "storeops_session" not in anonymous.cookies


def test_login_redirects_only_within_the_site(anonymous: TestClient) -> None:
    anonymous.get("/login")
    token = anonymous.cookies.get("storeops_csrf")
    r = anonymous.post(
        "/login",
        data={"username": "owner1", "password": PASSWORD, "csrf_token": token,
              "next": "//evil.example/x"},
        follow_redirects=False,
    )  # fmt: skip
    assert r.headers["location"] == "/overview"
    r = anonymous.get("/lang/en?next=https://evil.example/", follow_redirects=False)
    assert r.headers["location"] == "/overview"


def test_logout_needs_the_csrf_token(owner: TestClient) -> None:
    assert owner.post("/logout", data={"csrf_token": "forged"}).status_code == 403
    assert owner.get("/overview", follow_redirects=False).status_code == 200
    token = owner.cookies.get("storeops_csrf")
    r = owner.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    assert owner.get("/overview", follow_redirects=False).status_code == 303


@pytest.mark.parametrize("slug", SLUGS)
def test_every_page_answers_with_charts_that_hold_data(owner: TestClient, slug: str) -> None:
    r = owner.get(f"/{slug}")
    assert r.status_code == 200, r.text
    assert (
        "Content-Security-Policy" in r.headers
        and "script-src 'self'" in r.headers["Content-Security-Policy"]
    )
    assert "No data for this page yet" not in r.text
    for fig in figures(r.text):
        assert fig["data"], slug
        values = [v for t in fig["data"] for k in ("x", "y", "z") for v in (t.get(k) or [])]
        assert any(v not in (None, 0) for v in values), (slug, fig["layout"].get("title"))
    if slug != "alerts":
        assert figures(r.text), slug


def test_overview_tiles_compare_the_period_with_the_previous_one(owner: TestClient) -> None:
    r = owner.get("/overview?store=S001&days=28")
    assert r.status_code == 200
    assert r.text.count('class="tile"') >= 6
    assert re.search(r"[+-]\d+\.\d%", r.text)  # a change against the previous 28 days


def test_languages(demo_ws: Workspace) -> None:
    with client_for(demo_ws, "owner1", locale="zh_CN") as zh:
        page = zh.get("/overview").text
        assert "总览" in page and "实时客流" in page and "Overview" not in page
        r = zh.get("/lang/en?next=/stores", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/stores"
        zh.cookies.set("storeops_lang", r.cookies["storeops_lang"])
        page = zh.get("/stores").text
        assert "Chain average" in page and "连锁平均" not in page


def test_a_store_manager_sees_only_their_store(manager: TestClient) -> None:
    page = manager.get("/overview").text
    options = re.findall(r'<option value="([^"]+)"', page)
    assert options == ["S001"]
    for slug in ("overview", "traffic", "stores", "zones", "customers", "forecasts"):
        assert manager.get(f"/{slug}?store=S001").status_code == 200
        other = manager.get(f"/{slug}?store=S002")
        missing = manager.get(f"/{slug}?store=S999")
        assert other.status_code == missing.status_code == 404
        assert manager.get(f"/{slug}?store=*").status_code == 404
    assert manager.get("/dashboard/api/live?store=S002").status_code == 404
    # The benchmark shows their store and the chain average, never another store's row.
    stores = manager.get("/stores").text
    assert "S001" in stores and "S002" not in stores
    # App funnels span every store: not for a store-scoped role, and not in the menu.
    assert manager.get("/funnels").status_code == 403
    assert 'data-page="funnels"' not in page


def test_live_traffic_json(owner: TestClient) -> None:
    data = owner.get("/dashboard/api/live?store=S002").json()
    assert data["store"] == "S002" and data["day"]
    assert len(data["minutes"]) == len(data["entries"]) > 60
    assert data["total"] == sum(data["entries"]) == data["cumulative"][-1]
    assert data["figures"]["minutes"]["data"][0]["y"] == data["entries"]


def test_alerts_are_acknowledged_with_a_csrf_token(demo_ws: Workspace) -> None:
    pytest.importorskip("storeops.alerts.events")
    with client_for(demo_ws, "owner1") as owner, client_for(demo_ws, "mgr1") as manager:
        page = owner.get("/alerts?status=open").text
        ids = re.findall(r'data-alert="(\d+)"', page)
        if not ids:
            pytest.skip("the demo raised no alert")
        alert = ids[0]
        assert owner.post(f"/alerts/{alert}/ack", data={"csrf_token": "x"}).status_code == 403
        mine = set(re.findall(r'data-alert="(\d+)"', manager.get("/alerts?status=all").text))
        others = [a for a in ids if a not in mine]
        if others:
            token = manager.cookies.get("storeops_csrf")
            r = manager.post(f"/alerts/{others[0]}/ack", data={"csrf_token": token})
            assert r.status_code == 404
        token = owner.cookies.get("storeops_csrf")
        r = owner.post(f"/alerts/{alert}/ack", data={"csrf_token": token, "next": "/alerts"},
                       follow_redirects=False)  # fmt: skip
        assert r.status_code == 303
        assert f'data-alert="{alert}"' not in owner.get("/alerts?status=open").text
        assert f'data-alert="{alert}"' in owner.get("/alerts?status=acknowledged").text


def test_static_files(anonymous: TestClient) -> None:
    js = anonymous.get(PLOTLY_URL)
    assert js.status_code == 200 and "max-age=31536000" in js.headers["cache-control"]
    assert len(js.content) > 1_000_000
    assert anonymous.get("/static/dashboard.js").status_code == 200
    assert anonymous.get("/static/..%2Fsession.py").status_code == 404
    assert anonymous.get("/static/secret.txt").status_code == 404


def test_storeops_serve_mounts_the_dashboard(demo_ws: Workspace) -> None:
    with TestClient(create_app(demo_ws, background_jobs=False)) as c:
        r = c.get("/", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/overview"
        assert c.get("/login").status_code == 200


def test_demo_logins_command(demo_ws: Workspace) -> None:
    runner = CliRunner()
    args = ["dashboard", "demo-logins", "-w", str(demo_ws.root), "--json"]
    first = json.loads(runner.invoke(cli, args).stdout)
    again = json.loads(runner.invoke(cli, args).stdout)
    assert [x["username"] for x in first["logins"]] == ["demo", "demo_manager"]
    assert [x["created"] for x in again["logins"]] == [False, False]
    assert first["logins"][1]["stores"] == ["S001"]
    assert set(first["keys_added"]) <= {"session_key", "encryption_key", "blind_index_key"}
    assert again["keys_added"] == []
    settings = open_workspace(demo_ws.root).settings
    assert settings.session_key is not None and settings.blind_index_key is not None
    assert settings.encryption_key is not None
    with TestClient(create_app(open_workspace(demo_ws.root), route_modules=ROUTES)) as c:
        login(c, "demo_manager", "storeops-store")
        assert c.get("/overview?store=S002").status_code == 404
