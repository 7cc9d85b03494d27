"""Shared pieces of the collector tests: a workspace with a write key, auth headers,
a uvicorn server in a thread, event builders."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn

from storeops.api import create_app
from storeops.collector import add_source
from storeops.privacy.crypto import generate_key
from storeops.workspace import Workspace, init_workspace, open_workspace

BLIND_INDEX_KEY = generate_key()


def collector_workspace(root: Path, *, backend: str = "duckdb", **settings: Any) -> Workspace:
    """A workspace with a blind-index key and the given collector settings."""
    init_workspace(root, backend=backend)
    toml = root / "storeops.toml"
    extra = {"blind_index_key": BLIND_INDEX_KEY, **settings}
    with toml.open("a", encoding="utf-8") as fh:
        for key, value in extra.items():
            fh.write(f"{key} = {json.dumps(value)}\n")
    return open_workspace(root)


def auth(write_key: str) -> dict[str, str]:
    token = base64.b64encode(f"{write_key}:".encode()).decode()
    return {"authorization": f"Basic {token}", "content-type": "application/json"}


def track(i: int, *, user: str = "u1", ts: str = "2025-06-01T10:00:00Z", **props: Any) -> dict:
    return {
        "type": "track",
        "event": "Product Viewed",
        "messageId": f"m-{i}",
        "userId": user,
        "timestamp": ts,
        "properties": {"sku": f"SKU-{i % 7}", **props},
    }


def new_source(ws: Workspace, source_id: str = "app") -> str:
    return add_source(ws, source_id)


@contextmanager
def running_server(ws: Workspace, *, background_jobs: bool = False) -> Iterator[str]:
    """``create_app(ws)`` under uvicorn in a thread; yields its base URL."""
    config = uvicorn.Config(
        create_app(ws, background_jobs=background_jobs),
        host="127.0.0.1",
        port=0,
        log_level="warning",
        access_log=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def stored_events(ws: Workspace) -> list[tuple[str, str]]:
    with ws.warehouse() as wh:
        frame = wh.to_pandas(wh.table("events").select("source_id", "message_id"))
    return list(frame.itertuples(index=False, name=None))
