"""The POS API: ``POST /api/pos/quote``, ``/api/pos/commit``, ``/api/pos/refund``.

Callers are tills with a ``pos`` API key for one store (or staff keys with
``pos:transact``); a request for another store answers 404. ``commit`` and ``refund``
need an ``Idempotency-Key`` header: a retry with the same key returns the original
answer and changes nothing; the same key with a different body answers 422; a key
still being processed answers 409. Handlers are thin: :mod:`storeops.pos.service`
does the work.

Cost per request matters here (a till's commit is on the cashier's clock): the
dependencies are ``async`` (no thread hand-off each), the handler is the one step in
the thread pool, and ``commit``/``refund`` answer their JSON-ready result as a
``JSONResponse`` directly (the same bytes FastAPI would send, without walking the
answer again to encode and validate it).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, Request
from fastapi.responses import JSONResponse

from storeops.access import Permission, Principal
from storeops.api.auth import OpsEngineDep, requires
from storeops.api.errors import ERROR_RESPONSES
from storeops.api.jobs import every, run_job
from storeops.errors import StoreOpsError
from storeops.loyalty.ledger import IdempotencyConflictError
from storeops.pos.guard import TooManyAttemptsError
from storeops.pos.schemas import CommitRequest, QuoteRequest, RefundRequest
from storeops.pos.service import InFlightError, OrderExistsError, PosService

router = APIRouter(prefix="/api/pos", tags=["pos"], responses=ERROR_RESPONSES)

Till = Annotated[Principal, Depends(requires(Permission.POS_TRANSACT))]
IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=8,
        max_length=128,
        description="Unique per operation (e.g. a UUID); resend it when retrying.",
    ),
]


_service_lock = threading.Lock()


async def _service(request: Request, engine: OpsEngineDep) -> PosService:
    """One service per app (its in-flight key registry must be shared)."""
    service: PosService | None = getattr(request.app.state, "pos_service", None)
    if service is None:
        with _service_lock:
            service = getattr(request.app.state, "pos_service", None)
            if service is None:
                service = PosService(engine)
                request.app.state.pos_service = service
    return service


Service = Annotated[PosService, Depends(_service)]


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Unless background jobs are off, move till sales into the warehouse on a schedule
    (``storeops pos export`` in a child process; exactly once, see storeops.pos.feed)."""
    job = None
    if app.state.background_jobs:
        ws = app.state.workspace
        export = ["pos", "export", "--json", "-w", str(ws.root)]
        job = asyncio.create_task(
            every(ws.settings.pos_export_interval_seconds,
                  lambda: run_job(export, "POS export"), "POS export")
        )  # fmt: skip
    try:
        yield
    finally:
        if job is not None:
            job.cancel()
            with suppress(asyncio.CancelledError):
                await job


def _answer(call: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    try:
        return call()
    except (InFlightError, OrderExistsError) as exc:
        raise HTTPException(409, str(exc)) from None
    except TooManyAttemptsError as exc:
        raise HTTPException(429, str(exc), {"Retry-After": str(exc.retry_after)}) from None
    except IdempotencyConflictError as exc:
        raise HTTPException(422, str(exc)) from None
    except StoreOpsError as exc:
        code = getattr(exc, "reason", None) or type(exc).__name__
        raise HTTPException(422, {"code": code, "message": str(exc)}) from None


@router.post("/quote")
def quote(body: QuoteRequest, till: Till, service: Service) -> dict[str, Any]:
    """Price a basket: offers, coupon checks, member's points and stored value, what is
    left to pay and the points it earns. Changes nothing."""
    till.require(Permission.POS_TRANSACT, body.store_id, what=f"store {body.store_id}")
    return _answer(lambda: service.quote(body, caller=till.id))


@router.post("/commit", response_model=dict[str, Any])
def commit(body: CommitRequest, till: Till, service: Service, key: IdempotencyKey) -> JSONResponse:
    """Commit a sale: coupons, points paid, stored value and points earned together."""
    till.require(Permission.POS_TRANSACT, body.store_id, what=f"store {body.store_id}")
    return JSONResponse(
        _answer(lambda: service.commit(body, key=f"pos:{till.id}:{key}", caller=till.id))
    )


@router.post("/refund", response_model=dict[str, Any])
def refund(body: RefundRequest, till: Till, service: Service, key: IdempotencyKey) -> JSONResponse:
    """Refund (part of) an order: stored value back, points clawed back, offers voided
    when the whole order is refunded."""
    till.require(Permission.POS_TRANSACT, body.store_id, what=f"store {body.store_id}")
    return JSONResponse(_answer(lambda: service.refund(body, key=f"pos-refund:{till.id}:{key}")))
