"""Shared by the HTTP benchmarks: run the real ``storeops serve`` in a subprocess."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def storeops_serve(root: Path, *, start_timeout: float = 60) -> Iterator[subprocess.Popen[bytes]]:
    """``storeops serve`` on a free loopback port for workspace ``root``, once it accepts
    connections; stopped on exit. The port is ``server.port``."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", "from storeops.cli.main import main; main()", "serve",
         "--port", str(port), "--log-level", "warning", "-w", str(root)],
    )  # fmt: skip
    server.port = port  # type: ignore[attr-defined]
    try:
        deadline = time.monotonic() + start_timeout
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("storeops serve did not start") from None
                time.sleep(0.1)
        yield server
    finally:
        server.terminate()
        server.wait(timeout=60)
