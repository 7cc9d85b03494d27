"""Who is calling the API, and may they?

``Authorization: Bearer <API key>`` identifies the caller (``storeops apikeys add``);
:func:`requires` builds a dependency that answers **401** without a valid key and
**403** without the permission. Object-level checks inside handlers raise
:class:`~storeops.access.NotVisibleError` for another store's object, which the
handlers installed by :func:`install_error_handlers` answer **404** — the same answer
as for an object that does not exist.

A verified key is remembered by the serving process for :data:`KEY_CACHE_SECONDS`
(a till sends hundreds of requests a minute; each lookup cost a database round trip).
So a key revoked with ``storeops apikeys revoke`` stops working within that many
seconds in every process; unknown and revoked keys are never remembered. The
collector's ``/v1`` routes keep Segment's own write-key authentication.

The dependencies here are ``async``: FastAPI runs each plain ``def`` dependency in
the thread pool, a thread hand-off (and a GIL contest) per dependency per request;
what may block (opening the database, a key not yet remembered) goes to the thread
pool only when it happens.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from storeops.access import AccessError, NotVisibleError, Permission, Principal, verify_key
from storeops.api.deps import get_workspace

_engine_lock = threading.Lock()


def get_ops_engine(request: Request) -> Engine:
    """The ops database of the app's workspace, migrated and opened once. Handlers run
    in a thread pool and Alembic is not thread-safe: the first requests wait here."""
    engine: Engine | None = getattr(request.app.state, "ops_engine", None)
    if engine is None:
        with _engine_lock:
            engine = getattr(request.app.state, "ops_engine", None)
            if engine is None:
                engine = get_workspace(request).ops_engine()
                request.app.state.ops_engine = engine
    return engine


async def _ops_engine(request: Request) -> Engine:
    engine: Engine | None = getattr(request.app.state, "ops_engine", None)
    if engine is None:
        engine = await run_in_threadpool(get_ops_engine, request)
    return engine


OpsEngineDep = Annotated[Engine, Depends(_ops_engine)]

_CHALLENGE = {"WWW-Authenticate": "Bearer"}


#: How long a verified key is trusted without asking the database again (module doc).
KEY_CACHE_SECONDS = 5.0
_KEY_CACHE_SIZE = 1_000


class _KeyCache:
    """Verified keys of one app: SHA-256 of the key -> (principal, valid until)."""

    def __init__(self, seconds: float | None = None) -> None:
        self.seconds = KEY_CACHE_SECONDS if seconds is None else seconds
        self._known: dict[bytes, tuple[Principal, float]] = {}
        self._lock = threading.Lock()

    async def principal(self, engine: Engine, key: str) -> Principal | None:
        digest = hashlib.sha256(key.encode()).digest()
        now = time.monotonic()
        found = self._known.get(digest)
        if found is not None and found[1] > now:
            return found[0]
        principal = await run_in_threadpool(verify_key, engine, key)
        with self._lock:
            if principal is None:
                self._known.pop(digest, None)
            else:
                if len(self._known) >= _KEY_CACHE_SIZE:
                    self._known.clear()
                self._known[digest] = (principal, now + self.seconds)
        return principal


def _key_cache(request: Request) -> _KeyCache:
    cache: _KeyCache | None = getattr(request.app.state, "key_cache", None)
    if cache is None:
        with _engine_lock:
            cache = getattr(request.app.state, "key_cache", None)
            if cache is None:
                cache = request.app.state.key_cache = _KeyCache()
    return cache


async def get_principal(request: Request, engine: OpsEngineDep) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(401, "send an API key: Authorization: Bearer <key>", _CHALLENGE)
    principal = await _key_cache(request).principal(engine, token.strip())
    if principal is None:
        raise HTTPException(401, "unknown or revoked API key", _CHALLENGE)
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def requires(
    permission: Permission, *, chain_wide: bool = False
) -> Callable[..., Awaitable[Principal]]:
    """A dependency: the caller, who must hold ``permission``; with ``chain_wide`` also
    see every store (results that span stores are not cut by store yet)."""

    async def check(principal: PrincipalDep) -> Principal:
        if not principal.can(permission):
            raise HTTPException(403, f"the {principal.role} role may not {permission.value}")
        if chain_wide and principal.stores is not None:
            raise HTTPException(
                403, "this answer spans every store; a store-scoped key cannot ask for it"
            )
        return principal

    return check


def install_error_handlers(app: FastAPI) -> None:
    """Access errors raised in handlers become 403 and 404 answers."""

    @app.exception_handler(NotVisibleError)
    async def _not_found(_: Request, exc: NotVisibleError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    @app.exception_handler(AccessError)
    async def _forbidden(_: Request, exc: AccessError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=403)
