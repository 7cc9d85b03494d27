"""``storeops serve``: the API (with the collector) and its scheduler, under uvicorn.

With ``--workers N`` uvicorn runs N processes, each with the whole app (they share the
listening socket). Background jobs (the spool load, the POS export, ...) must run
once, not N times: the worker that holds the exclusive lock on ``serve-jobs.lock`` in
the workspace runs them (:func:`served_app`), the others only serve requests. When
that worker stops, the lock goes with it and the worker started in its place takes
it over. The collector's spool writer runs in every worker (each writes segments of
its own; segments carry the pid and are held with ``flock``). Its memory of recent
messageIds is per worker, so a retry that reaches another worker is spooled again
rather than answered as a duplicate; the loader still stores each messageId once.

The workers' listening socket is made with ``IPPROTO_TCP`` (:class:`TcpConfig`):
uvicorn's own has protocol 0, and asyncio sets ``TCP_NODELAY`` only on connections of
sockets that say TCP, so every answer (headers and body written apart) waited ~40 ms
for the client's delayed ACK.
"""

from __future__ import annotations

import fcntl
import os
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, BinaryIO

import typer
import uvicorn

from storeops.cli.common import WorkspaceOption, handle_errors, workspace_from

if TYPE_CHECKING:
    from fastapi import FastAPI

#: The workspace a worker process serves (set by ``storeops serve --workers N``).
WORKSPACE_ENV = "STOREOPS_SERVE_WORKSPACE"
JOBS_LOCK = "serve-jobs.lock"
_held: list[BinaryIO] = []  # the lock file, open for the life of the worker


def owns_background_jobs(root: Path) -> bool:
    """Take the workspace's jobs lock if no other process holds it; True when taken
    (by this call or before, in this process)."""
    if _held:
        return True
    fh = (root / JOBS_LOCK).open("ab")  # held until the process exits
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        fh.close()
        return False
    _held.append(fh)
    return True


class TcpConfig(uvicorn.Config):
    """uvicorn's configuration, with a listening socket that says it is TCP (module doc;
    the workers get it pickled, so it lives at module level)."""

    def bind_socket(self) -> socket.socket:
        sock = super().bind_socket()
        if sock.family not in (socket.AF_INET, socket.AF_INET6):
            return sock
        tcp = socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
        tcp.set_inheritable(True)
        return tcp


def served_app() -> FastAPI:
    """The app of one ``storeops serve --workers N`` worker (a uvicorn factory): the
    workspace from ``$STOREOPS_SERVE_WORKSPACE``; background jobs only in the worker
    that holds the jobs lock."""
    from storeops.api import create_app
    from storeops.workspace import open_workspace

    ws = open_workspace(os.environ[WORKSPACE_ENV])
    return create_app(ws, background_jobs=owns_background_jobs(ws.root))


@handle_errors
def serve_command(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help="Worker processes (one per CPU core is a good start); background jobs "
            "run in one of them.",
        ),
    ] = 1,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
    access_log: Annotated[
        bool, typer.Option(help="Log every request (costly at collector rates).")
    ] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Serve the API: the Segment-compatible collector on /v1, the spool loader every
    minute. Point Segment SDKs at http://HOST:PORT with a key from `storeops sources add`."""
    from uvicorn.supervisors import Multiprocess

    from storeops.api import create_app

    ws = workspace_from(workspace)
    if workers == 1:
        app = create_app(ws)
        uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=access_log)
        return
    ws.ops_engine().dispose()  # migrate once here, not in N workers at the same time
    os.environ[WORKSPACE_ENV] = str(ws.root)
    config = TcpConfig(
        "storeops.cli.serve_cmd:served_app", factory=True, workers=workers, host=host,
        port=port, log_level=log_level, access_log=access_log,
    )  # fmt: skip
    Multiprocess(config, sockets=[config.bind_socket()]).run()


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_command)
