"""Segment HTTP tracking API: ``POST /v1/batch`` and the single-call endpoints.

Handlers stay thin: the raw body and headers go to :class:`Collector`, which owns
validation, the dedupe window and the durable spool write. Bodies are read as bytes
(no pydantic model): a batch of 100 events is parsed once, with stdlib ``json``, on
the hot path. The ``lifespan`` starts the collector and the scheduler that loads the
spool into the warehouse every ``collector_load_interval_seconds`` (as a child process,
`storeops collector load` run by :mod:`storeops.api.jobs`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from fastapi import APIRouter, FastAPI, HTTPException, Request, Response

from storeops.api.jobs import every, run_job
from storeops.collector import ENDPOINTS, MAX_BATCH_BYTES, Collector
from storeops.errors import StoreOpsError

log = logging.getLogger("storeops.collector")

router = APIRouter(prefix="/v1", tags=["collector"])


def get_collector(request: Request) -> Collector:
    """The running collector, or 503 with the reason it is not running."""
    collector: Collector | None = getattr(request.app.state, "collector", None)
    if collector is None:
        problem = getattr(request.app.state, "collector_problem", "the collector is not running")
        raise HTTPException(status_code=503, detail=problem)
    return collector


async def _read_capped(request: Request) -> bytes:
    """The body, but never more than one byte over the batch limit (that byte is
    enough to answer 413): a client cannot make the server buffer a huge upload."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_BATCH_BYTES:
            break
    return b"".join(chunks)[: MAX_BATCH_BYTES + 1]


_EVENT_SCHEMA = {
    "type": "object",
    "description": "A Segment call (messageId, userId or anonymousId, timestamp, ...).",
    "additionalProperties": True,
}
_BODY = {
    True: {
        "type": "object",
        "properties": {"batch": {"type": "array", "items": _EVENT_SCHEMA}},
        "required": ["batch"],
    },
    False: _EVENT_SCHEMA,
}
_RESPONSES = {
    "200": {"description": "Stored; `failed` lists the events refused and why."},
    "400": {"description": "Malformed JSON or gzip, no `batch` list, or every event failed."},
    "401": {"description": "No valid write key (HTTP basic-auth user name)."},
    "413": {"description": "Over 500 KB (batch) or 32 KB (single call)."},
    "503": {"description": "The collector is not running, or the spool cannot be written."},
}


def _endpoint(call: str) -> None:
    # The collector is looked up with a plain call, not an ``Annotated[…, Depends()]``
    # parameter: FastAPI's dependency solving took 109 µs per request against 40 µs
    # without it (measured on the ASGI app), about 5% of the per-batch budget.
    async def receive(request: Request) -> Response:
        collector = get_collector(request)
        answer = await collector.ingest(call, await _read_capped(request), request.headers)
        return Response(answer.content, answer.status, media_type="application/json")

    receive.__name__ = f"collect_{call}"
    router.add_api_route(
        f"/{call}",
        receive,
        methods=["POST"],
        summary=f"Segment {call} call",
        response_class=Response,
        # The body is read as bytes (see the module doc); the schema is for readers and
        # for clients generated from the spec.
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _BODY[call == "batch"]}},
            },
            "responses": _RESPONSES,
        },
    )


for _call in ENDPOINTS:
    _endpoint(_call)


# The spool job runs as `storeops collector load` in a child process at lower CPU
# priority (storeops.api.jobs): the load parses, joins and writes with several threads
# (Arrow, DuckDB), and in the server's own process it took CPU and the GIL from the door
# (at 50,000 events/s with a load every 5 s, p99 went from 8 ms to 2 s on two cores).


async def _load_once(collector: Collector) -> None:
    """The scheduler's spool job: seal the active segment, then load what is sealed."""
    await asyncio.to_thread(collector.writer.rotate_and_wait)  # seal what was acknowledged
    report = await run_job(
        ["collector", "load", "--json", "-w", str(collector.ws.root)], "spool load"
    )
    if report and report.get("batches"):
        log.info("spool loaded: %s", report)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start the collector (spool writer) and, unless disabled, its loader schedule."""
    try:
        collector = Collector(app.state.workspace).start()
    except StoreOpsError as exc:
        # E.g. no blind-index key for the PII policy: the rest of the API still serves,
        # and every collector call answers 503 with this message.
        app.state.collector_problem = f"the collector is not running: {exc}"
        log.error(app.state.collector_problem)
        yield
        return
    app.state.collector = collector
    job = None
    if app.state.background_jobs:
        interval = app.state.workspace.settings.collector_load_interval_seconds
        job = asyncio.create_task(every(interval, lambda: _load_once(collector), "spool load"))
    try:
        yield
    finally:
        if job is not None:
            job.cancel()
            with suppress(asyncio.CancelledError):
                await job
        app.state.collector = None
        await asyncio.to_thread(collector.close)
