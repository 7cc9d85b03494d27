"""The dashboard in headless Chromium (Playwright, the system chromium).

Logs in, switches language, opens every page and checks that Plotly drew every chart
with data; a store manager's picker lists only their store and another store's page
answers 404. Screenshots go to test-artifacts/screenshots/.

Needs ``chromium`` on the PATH (``apt-get install chromium``) and the ``playwright``
package (``pip install -e '.[dev]'``; no browser download: the system chromium is
used). Skipped without them, except with ``CI=true``, where it fails.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from tests.conftest import IN_CI
from tests.dashboard.conftest import PASSWORD, ROUTES, artifacts

from storeops.api.app import create_app
from storeops.dashboard.routes import PAGES
from storeops.workspace import Workspace

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

#: Counts the drawn data of each Plotly chart: bar/funnel points, line paths,
#: heat-map images. A chart without data draws none of them.
DRAWN = """() => Array.from(document.querySelectorAll('.chart')).map(el => ({
  id: el.id,
  plotly: el.classList.contains('js-plotly-plot'),
  traces: el.querySelectorAll('svg g.trace, svg g.hm').length,
  marks: el.querySelectorAll(
    'svg g.trace g.point path, svg g.trace path.js-line, svg g.hm image').length,
}))"""


def _browser_missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed: pip install -e '.[dev]'"
    if CHROMIUM is None:
        return "chromium is not installed: apt-get install chromium"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    reason = _browser_missing()
    if reason is not None:
        if IN_CI:
            pytest.fail(f"CI=true and the browser tests cannot run: {reason}")
        pytest.skip(f"browser tests skipped: {reason}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture(scope="module")
def server(demo_ws: Workspace) -> Iterator[str]:
    """The dashboard under uvicorn in a thread, on a free loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app = create_app(demo_ws, route_modules=ROUTES, background_jobs=False)
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not srv.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=30)


@pytest.fixture(scope="module")
def shots() -> Path:
    folder = artifacts() / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _log_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/overview")
    assert "/login" in page.url
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login")
    page.wait_for_url(f"{base}/overview**")


def _charts_drawn(page: Any) -> list[dict[str, Any]]:
    page.wait_for_function(
        "() => Array.from(document.querySelectorAll('.chart'))"
        ".every(el => el.getAttribute('data-drawn') === '1')",
        timeout=30_000,
    )
    return page.evaluate(DRAWN)  # type: ignore[no-any-return]


def test_owner_logs_in_switches_language_and_opens_every_page(
    browser: Any, server: str, shots: Path
) -> None:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    page.goto(f"{server}/overview")
    assert "登录" in page.inner_text("body")  # the browser asks for Chinese
    page.screenshot(path=str(shots / "login-zh.png"))
    _log_in(page, server, "owner1")
    assert "总览" in page.inner_text("nav") and "实时客流" in page.inner_text("nav")
    _charts_drawn(page)
    page.screenshot(path=str(shots / "overview-zh.png"), full_page=True)

    page.click('a.lang[data-locale="en"]')
    page.wait_for_load_state("load")
    assert "Overview" in page.inner_text("nav") and "总览" not in page.inner_text("nav")
    _charts_drawn(page)

    for p in PAGES:
        page.click(f'nav a[data-page="{p.slug}"]')
        page.wait_for_url(f"{server}/{p.slug}**")
        drawn = _charts_drawn(page)
        if p.slug != "alerts":
            assert drawn, p.slug
        for chart in drawn:
            assert chart["plotly"] and chart["traces"] > 0 and chart["marks"] > 0, (p.slug, chart)
        page.screenshot(path=str(shots / f"{p.slug}-owner-en.png"), full_page=True)

    # The live page polls its JSON and redraws.
    page.click('nav a[data-page="traffic"]')
    _charts_drawn(page)
    page.evaluate(
        "() => document.querySelector('[data-live-url]').dispatchEvent(new Event('storeops:poll'))"
    )
    page.wait_for_function(
        "() => document.querySelector('[data-live-url]').getAttribute('data-polls') === '1'"
    )

    # The store picker switches the store.
    page.select_option("#store-picker", "S002")
    page.wait_for_url("**store=S002**")
    _charts_drawn(page)

    page.click("#logout")
    page.wait_for_url(f"{server}/login")
    assert errors == []
    context.close()


def test_store_manager_cannot_open_another_store(browser: Any, server: str, shots: Path) -> None:
    context = browser.new_context(locale="en-US", viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    _log_in(page, server, "mgr1")
    options = page.eval_on_selector_all("#store-picker option", "els => els.map(e => e.value)")
    assert options == ["S001"]
    assert page.locator('nav a[data-page="funnels"]').count() == 0
    _charts_drawn(page)
    page.screenshot(path=str(shots / "overview-store-manager.png"), full_page=True)

    response = page.goto(f"{server}/stores?store=S002")
    assert response is not None and response.status == 404
    assert "S002" not in page.inner_text("main")
    page.screenshot(path=str(shots / "other-store-404.png"))
    response = page.goto(f"{server}/zones?store=S001")
    assert response is not None and response.status == 200
    for chart in _charts_drawn(page):
        assert chart["marks"] > 0
    context.close()
