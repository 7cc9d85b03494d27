"""``create_app(workspace)``: the FastAPI application behind ``storeops serve``.

Resources plug in through :data:`ROUTE_MODULES` (a registry, like the CLI's
``COMMAND_MODULES``): each module exposes ``router`` (an ``APIRouter``) and may expose
``lifespan(app)``, an async context manager for what it runs in the background (the
collector's spool writer and loader). Lifespans start in list order and stop in
reverse.
"""

from __future__ import annotations

import gc
import importlib
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from types import ModuleType

from fastapi import FastAPI

from storeops import __version__
from storeops.api.auth import install_error_handlers
from storeops.workspace import Workspace

#: Route modules mounted by :func:`create_app`, in this order.
ROUTE_MODULES: tuple[str, ...] = (
    "storeops.api.routes.collector",
    "storeops.api.routes.behaviour",
    "storeops.api.routes.pos",
    "storeops.api.routes.members",
    "storeops.api.routes.marts",
    "storeops.dashboard.routes",
    "storeops.api.routes.alerts",
    "storeops.api.routes.reports",
)

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def create_app(
    workspace: Workspace,
    *,
    route_modules: Sequence[str] = ROUTE_MODULES,
    background_jobs: bool = True,
) -> FastAPI:
    """The API for ``workspace``.

    ``background_jobs=False`` keeps the modules' schedulers (e.g. the spool loader)
    from running; tests use it to drive jobs themselves.
    """
    modules: list[ModuleType] = [importlib.import_module(name) for name in route_modules]
    lifespans: list[Lifespan] = [m.lifespan for m in modules if hasattr(m, "lifespan")]

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            for enter in lifespans:
                await stack.enter_async_context(enter(app))
            # Everything alive now (modules, the app, caches) lives as long as the
            # process: keep it out of the cyclic GC. A full collection over it took
            # ~95 ms, a latency spike every few seconds at collector rates. And collect
            # young objects only when 50,000 (not 700) are alive: a parsed batch alone
            # holds ~500 dicts, so the default collected on nearly every request and
            # promoted in-flight requests to the oldest generation.
            thresholds = gc.get_threshold()
            gc.collect()
            gc.freeze()
            gc.set_threshold(50_000, 10, 10)
            try:
                yield
            finally:
                gc.set_threshold(*thresholds)
                gc.unfreeze()

    app = FastAPI(
        title="storeops",
        version=__version__,
        lifespan=lifespan,
        # The collector answers in Segment's own shapes; docs stay available.
        docs_url="/docs",
    )
    app.state.workspace = workspace
    app.state.background_jobs = background_jobs
    install_error_handlers(app)
    for module in modules:
        app.include_router(module.router)

    @app.get("/health", tags=["health"])
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    return app
