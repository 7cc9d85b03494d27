"""Local receiving servers for channel tests: an HTTP server in a thread that records
every request and answers from a script (status and JSON body per request)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Answers ``script[i]`` to the i-th request (the last one for all later ones)."""

    script: list[tuple[int, dict[str, Any]]] = field(default_factory=lambda: [(200, {})])
    received: list[Received] = field(default_factory=list)
    url: str = ""

    def answer(self, index: int) -> tuple[int, dict[str, Any]]:
        return self.script[min(index, len(self.script) - 1)]


@contextmanager
def http_receiver(script: list[tuple[int, dict[str, Any]]] | None = None) -> Iterator[Receiver]:
    receiver = Receiver(script=script or [(200, {})])
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(length)
            with lock:
                index = len(receiver.received)
                receiver.received.append(Received(self.path, dict(self.headers.items()), body))
            status, answer = receiver.answer(index)
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
