"""The dashboard's routes: login, the pages, the live-traffic JSON, static files.

Mounted by :func:`storeops.api.create_app` (``ROUTE_MODULES``). Pages are a registry
(:data:`PAGES`): each has a slug (its URL), a title, the function in
:mod:`storeops.dashboard.pages` that computes it and its template. Every page takes
``?store=`` (a store id, or ``*`` for every store the user sees) and ``?days=``
(7, 28 or 90); a store outside the user's scope answers **404**, the same as a store
that does not exist. Handlers stay thin: who is asking (session), which store (scope),
then the page function over the in-memory marts (:mod:`storeops.dashboard.snapshot`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import cached_property, partial
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import plotly
from fastapi import APIRouter, FastAPI, Form, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import Engine, select

from storeops import __version__
from storeops.access import ROLES, LoginError, NotVisibleError, Permission, Principal, authenticate
from storeops.alerts.events import acknowledge, list_alerts
from storeops.api.auth import get_ops_engine
from storeops.dashboard import pages
from storeops.dashboard.pages import CHAIN, PERIODS, View
from storeops.dashboard.session import (
    CSRF_COOKIE,
    CSRF_FIELD,
    LANG_COOKIE,
    SESSION_COOKIE,
    SESSION_SECONDS,
    Signer,
    session_key,
)
from storeops.dashboard.snapshot import SnapshotCache
from storeops.i18n import LOCALES, normalize_locale, translations
from storeops.kpi import KPIS
from storeops.marts.dashboard_behaviour import DEFAULT_FUNNEL
from storeops.opsdb.access_tables import user_stores, users
from storeops.workspace import Workspace

HERE = Path(__file__).parent
STATIC = HERE / "static"
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
PLOTLY_URL = f"/static/plotly-{plotly.__version__}.min.js"
#: Files under /static/ besides plotly.js (a fixed list: nothing else is served).
OWN_STATIC = {"dashboard.css": "text/css", "dashboard.js": "text/javascript"}
LONG_CACHE = "public, max-age=31536000, immutable"
#: No inline scripts, nothing from other origins; Plotly sets inline styles.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; frame-ancestors 'none'; form-action 'self'; "
        "base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

log = logging.getLogger("storeops.dashboard")
router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Page:
    slug: str
    title: str  # msgid in the dashboard catalog
    build: Callable[[View], dict[str, Any]]
    template: str
    #: Shown only to roles that see every store (app events have no store).
    chain_only: bool = False


PAGES: tuple[Page, ...] = (
    Page("overview", "Overview", pages.overview, "overview.html"),
    Page("traffic", "Live traffic", pages.traffic, "traffic.html"),
    Page("stores", "Stores", pages.stores, "stores.html"),
    Page("zones", "Zones", pages.zones, "zones.html"),
    Page("funnels", "Funnels", pages.funnels, "funnels.html", chain_only=True),
    Page("customers", "Customers", pages.customers, "customers.html"),
    Page("forecasts", "Forecasts", pages.forecasts, "forecasts.html"),
    Page("alerts", "Alerts", lambda view: view.extra, "alerts.html"),
)
PAGE_BY_SLUG = {p.slug: p for p in PAGES}

#: Messages looked up by a computed key rather than written in a template or a
#: ``_("...")`` call; tests/dashboard checks that the catalogs have them too.
DYNAMIC_MESSAGES: tuple[str, ...] = (
    *(p.title for p in PAGES),
    *(f"role:{role}" for role in ROLES),
    *(f"segment:{s}" for s in pages.SEGMENTS),
    *(f"status:{s}" for s in pages.STATUSES),
    *(f"goal:{s}" for s in ("on_track", "behind", "achieved", "no_data")),
    *(f"alerts:{s}" for s in ("open", "acknowledged", "all")),
    *(f"level:{s}" for s in ("red", "yellow", "blue")),
    *DEFAULT_FUNNEL,
    *(pages.CHANNELS),
    "Wrong username or password.",
    "This account is locked or disabled for now.",
    "None of your stores has data yet.",
    "That store was not found.",
    "Your role may not read analytics.",
    "This page spans every store; it is shown to roles that see every store.",
)


class DashboardState:
    """Per app: the snapshot cache, the session signer and one Jinja2 environment per
    language (translations are installed per environment)."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.snapshots = SnapshotCache(workspace.settings)
        self.signer = Signer(session_key(workspace.settings))

    @cached_property
    def environments(self) -> dict[str, Environment]:
        envs = {}
        for locale in LOCALES:
            env = Environment(
                loader=FileSystemLoader(HERE / "templates"),
                autoescape=select_autoescape(["html"]),
                extensions=["jinja2.ext.i18n"],
                auto_reload=False,
            )
            env.install_gettext_translations(translations(locale, "dashboard"), newstyle=True)  # type: ignore[attr-defined]
            env.globals.update(
                plotly_url=PLOTLY_URL, version=__version__, csrf_field=CSRF_FIELD,
                to_json=pages.charts.to_json,
            )  # fmt: skip
            envs[locale] = env
        return envs

    def render(self, lang: str, template: str, **context: Any) -> str:
        return self.environments[lang].get_template(template).render(locale=lang, **context)


_state_lock = threading.Lock()


def state(request: Request) -> DashboardState:
    found: DashboardState | None = getattr(request.app.state, "dashboard", None)
    if found is None:
        with _state_lock:
            found = getattr(request.app.state, "dashboard", None)
            if found is None:
                found = DashboardState(request.app.state.workspace)
                request.app.state.dashboard = found
    return found


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Copy the marts in the background while the server starts, so the first page
    does not wait for it."""
    dash: DashboardState | None = getattr(app.state, "dashboard", None)
    if dash is None:
        dash = DashboardState(app.state.workspace)
        app.state.dashboard = dash
    warm = threading.Thread(target=_warm, args=(dash,), daemon=True)
    warm.start()
    try:
        yield
    finally:  # never stop the process in the middle of a copy
        warm.join(timeout=dash.workspace.settings.lock_timeout_seconds)
        dash.snapshots.wait_idle(timeout=dash.workspace.settings.lock_timeout_seconds)


def _warm(dash: DashboardState) -> None:
    try:
        dash.snapshots.get()
    except Exception:  # the first request will try again and show the error
        log.exception("dashboard: the first copy of the marts failed")


def gettext_for(locale: str) -> Callable[[str], str]:
    return translations(locale, "dashboard").gettext


# -- who is asking ----------------------------------------------------------------------
def locale_of(request: Request) -> str:
    cookie = request.cookies.get(LANG_COOKIE)
    if cookie:
        return normalize_locale(cookie)
    accept = request.headers.get("accept-language", "")
    first = accept.split(",")[0].split(";")[0].strip()
    return normalize_locale(first) if first else normalize_locale(None)


def principal_of(engine: Engine, username: str) -> Principal | None:
    """The live user behind a session (None when disabled or deleted)."""
    with engine.connect() as con:
        row = con.execute(
            select(users.c.user_id, users.c.role, users.c.disabled_at).where(
                users.c.username == username
            )
        ).first()
        if row is None or row.disabled_at is not None:
            return None
        stores = frozenset(
            con.execute(
                select(user_stores.c.store_id).where(user_stores.c.user_id == row.user_id)
            ).scalars()
        )
    try:
        return Principal.of("user", username, str(row.role), stores)
    except Exception:  # a store manager left without stores: no session
        return None


def current_principal(request: Request) -> Principal | None:
    username = state(request).signer.session_user(request.cookies.get(SESSION_COOKIE))
    if username is None:
        return None
    return principal_of(get_ops_engine(request), username)


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _csrf_token(request: Request) -> tuple[str, bool]:
    """The CSRF token for this browser, and whether the cookie must be set."""
    signer = state(request).signer
    cookie = request.cookies.get(CSRF_COOKIE)
    if cookie and signer.loads("csrf", cookie) is not None:
        return cookie, False
    return signer.new_csrf(), True


def _check_csrf(request: Request, token: str | None) -> None:
    if not state(request).signer.csrf_ok(request.cookies.get(CSRF_COOKIE), token):
        raise HTTPException(403, "the form has expired or did not come from this site; reload it")


def _finish(request: Request, response: Response, token: str, new_token: bool) -> Response:
    response.headers.update(SECURITY_HEADERS)
    if new_token:
        response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict",
                            secure=_secure(request), path="/")  # fmt: skip
    return response


def _safe_next(value: str | None) -> str:
    """Only paths on this site (no scheme, no //host)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/overview"
    return value


# -- login, logout, language ---------------------------------------------------------------
@router.get("/", response_class=RedirectResponse)
def root() -> RedirectResponse:
    return RedirectResponse("/overview", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None) -> Response:
    return _login_page(request, next, error=None, status=200)


def _login_page(request: Request, next: str | None, *, error: str | None, status: int) -> Response:
    locale = locale_of(request)
    token, new = _csrf_token(request)
    html = state(request).render(
        locale, "login.html", csrf_token=token, next=_safe_next(next),
        error=error, locales=LOCALES, here="/login",
    )  # fmt: skip
    return _finish(request, HTMLResponse(html, status_code=status), token, new)


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    username: str = Form(""),
    password: str = Form(""),
    csrf_token: str = Form(""),
    next: str = Form("/overview"),
) -> Response:
    _check_csrf(request, csrf_token)
    try:
        authenticate(get_ops_engine(request), username.strip(), password)
    except LoginError as exc:
        locked = "locked" in str(exc) or "disabled" in str(exc)
        message = (
            "This account is locked or disabled for now."
            if locked
            else "Wrong username or password."
        )
        error = gettext_for(locale_of(request))(message)
        return _login_page(request, next, error=error, status=401)
    dash = state(request)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE, dash.signer.new_session(username.strip()), max_age=SESSION_SECONDS,
        httponly=True, samesite="lax", secure=_secure(request), path="/",
    )  # fmt: skip
    # A fresh CSRF token for the session (never reuse the one from before login).
    response.set_cookie(CSRF_COOKIE, dash.signer.new_csrf(), httponly=True, samesite="strict",
                        secure=_secure(request), path="/")  # fmt: skip
    response.headers.update(SECURITY_HEADERS)
    return response


@router.post("/logout")
def logout(request: Request, csrf_token: str = Form("")) -> Response:
    _check_csrf(request, csrf_token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response


@router.get("/lang/{locale}")
def switch_language(locale: str, next: str | None = None) -> Response:
    """Remember the language (a cookie for a year) and go back to the page."""
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(LANG_COOKIE, normalize_locale(locale), max_age=365 * 86400,
                        samesite="lax", path="/")  # fmt: skip
    return response


# -- pages -------------------------------------------------------------------------------------
class PageError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _store_param(request: Request, principal: Principal, store_ids: list[str]) -> str:
    """The store asked for, within the user's scope; PageError(404) otherwise."""
    asked = request.query_params.get("store")
    visible = [s for s in store_ids if principal.sees_store(s)]
    if asked is None or asked == "":
        if principal.stores is None:
            return CHAIN
        if not visible:
            raise PageError(404, "None of your stores has data yet.")
        return visible[0]
    if asked == CHAIN and principal.stores is None:
        return CHAIN
    try:
        principal.require(Permission.ANALYTICS_READ, asked, what="That store")
    except NotVisibleError:
        raise PageError(404, "That store was not found.") from None
    if asked not in store_ids:
        raise PageError(404, "That store was not found.")
    return asked


def _days_param(request: Request) -> int:
    try:
        days = int(request.query_params.get("days", PERIODS[0]))
    except ValueError:
        return PERIODS[0]
    return days if days in PERIODS else PERIODS[0]


def _login_redirect(request: Request) -> RedirectResponse:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse("/login?" + urlencode({"next": here}), status_code=303)


def render_page(request: Request, page: Page, extra: dict[str, Any] | None = None) -> Response:
    locale = locale_of(request)
    principal = current_principal(request)
    if principal is None:
        return _login_redirect(request)
    dash = state(request)
    token, new = _csrf_token(request)
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    common: dict[str, Any] = {
        "locales": LOCALES, "csrf_token": token, "user": principal,
        "pages": [p for p in PAGES if not (p.chain_only and principal.stores is not None)],
        "page": page, "here": here,
        "query": lambda **kw: "?" + urlencode(kw),
    }  # fmt: skip
    try:
        if not principal.can(Permission.ANALYTICS_READ):
            raise PageError(403, "Your role may not read analytics.")
        if page.chain_only and principal.stores is not None:
            raise PageError(
                403, "This page spans every store; it is shown to roles that see every store."
            )
        snapshot = dash.snapshots.get()
        store = _store_param(request, principal, snapshot.store_ids())
        days = _days_param(request)
        view = View(snapshot, principal, store, locale, gettext_for(locale), days, extra or {})
        context = page.build(view)
    except PageError as exc:
        html = dash.render(locale, "error.html", **common, status=exc.status, message=exc.message)
        return _finish(request, HTMLResponse(html, status_code=exc.status), token, new)
    visible = [s for s in snapshot.store_ids() if principal.sees_store(s)]
    picker = ([CHAIN] if principal.stores is None else []) + visible
    html = dash.render(locale, page.template, **{
        **common, **context, "store": store, "days": days, "periods": PERIODS,
        "picker": [(s, view.store_name(s)) for s in picker],
        "query": lambda **kw: "?" + urlencode({"store": store, "days": days, **kw}),
    })  # fmt: skip
    return _finish(request, HTMLResponse(html), token, new)


def _page_route(page: Page) -> Callable[[Request], Response]:
    def handler(request: Request) -> Response:
        return render_page(request, page)

    handler.__name__ = f"page_{page.slug}"
    return handler


for _page in PAGES:
    if _page.slug != "alerts":
        router.add_api_route(f"/{_page.slug}", _page_route(_page), methods=["GET"],
                             response_class=HTMLResponse)  # fmt: skip


@router.get("/dashboard/api/live")
def live(request: Request) -> Response:
    """Today's minute entries for ``?store=``: what the live page polls."""
    principal = current_principal(request)
    if principal is None:
        return JSONResponse({"detail": "log in first"}, status_code=401)
    dash = state(request)
    snapshot = dash.snapshots.get()
    try:
        store = _store_param(request, principal, snapshot.store_ids())
    except PageError as exc:
        return JSONResponse({"detail": exc.message}, status_code=exc.status)
    locale = locale_of(request)
    view = View(snapshot, principal, store, locale, gettext_for(locale))
    data = pages.live_data(view)
    figures = pages.live_figures(view, data)
    body = pages.charts.to_json({**data, "figures": figures})
    return Response(body, media_type="application/json", headers={"Cache-Control": "no-store"})


# -- alerts --------------------------------------------------------------------------------------
@router.get("/alerts", response_class=HTMLResponse)
def alerts_page(request: Request, status: str = "open") -> Response:
    principal = current_principal(request)
    if principal is None:
        return _login_redirect(request)
    extra = alerts_context(request, principal, status)
    return render_page(request, PAGE_BY_SLUG["alerts"], extra)


def alerts_context(request: Request, principal: Principal, status: str) -> dict[str, Any]:
    status = status if status in ("open", "acknowledged", "all") else "open"
    asked = request.query_params.get("store")
    store = asked if asked and asked != CHAIN else None
    found = list_alerts(get_ops_engine(request), principal, status=status, store_id=store,  # type: ignore[arg-type]
                        limit=200)  # fmt: skip
    locale = locale_of(request)
    rows = []
    for a in found:
        kpi = KPIS.get(a.kpi)
        fmt = partial(kpi.format, locale=locale) if kpi is not None else str
        rows.append({
            "alert_id": a.alert_id, "day": a.day, "level": a.level, "rule": a.rule,
            "kpi": kpi.name(locale) if kpi is not None else a.kpi, "store_id": a.store_id,
            "value": fmt(a.value), "expected": fmt(a.expected),
            "acknowledged_at": a.acknowledged_at, "acknowledged_by": a.acknowledged_by,
        })  # fmt: skip
    return {"alerts": rows, "status": status}


@router.post("/alerts/{alert_id}/ack")
def acknowledge_alert(
    request: Request, alert_id: int, csrf_token: str = Form(""), next: str = Form("/alerts")
) -> Response:
    principal = current_principal(request)
    if principal is None:
        return _login_redirect(request)
    _check_csrf(request, csrf_token)
    try:
        acknowledge(get_ops_engine(request), alert_id, principal.id, principal)
    except NotVisibleError:
        raise HTTPException(404, "that alert was not found") from None
    return RedirectResponse(_safe_next(next), status_code=303)


# -- static files ----------------------------------------------------------------------------------
@router.get(PLOTLY_URL)
def plotly_js() -> FileResponse:
    """plotly.js from the installed plotly package; the version is in the URL, so it
    is cached for a year."""
    return FileResponse(PLOTLY_JS, media_type="text/javascript",
                        headers={"Cache-Control": LONG_CACHE})  # fmt: skip


@router.get("/static/{name}")
def static_file(name: str) -> FileResponse:
    media = OWN_STATIC.get(name)
    if media is None:
        raise HTTPException(404, "no such file")
    # URLs carry ?v=<storeops version>, so a new release is fetched anew.
    return FileResponse(STATIC / name, media_type=media, headers={"Cache-Control": LONG_CACHE})
