"""Real HTTP servers on 127.0.0.1 for tests: a scriptable API. Model servers (OpenAI,
Anthropic, tool calls, embeddings) are in tests/llm_servers.py."""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

Handler = Callable[["Request"], tuple[int, dict[str, str], bytes]]


def free_port() -> int:
    """A loopback port nothing listens on (now): for a server a test starts, or one it needs
    to be down."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


READY_WAIT = 60.0  # seconds a server may take to start (a start-up wait, not a test threshold)


def installed(name: str) -> str | None:
    """The path of a server's program (Debian puts some in /usr/sbin, off a user's PATH)."""
    return shutil.which(name) or next(
        (p for p in (f"/usr/sbin/{name}", f"/usr/bin/{name}") if os.access(p, os.X_OK)), None)


def wait_until(what: str, attempt: Callable[[], object], log: Path | None = None) -> None:
    """Until `attempt` (a connection to a server just started) succeeds; past READY_WAIT the
    server's log ends the error."""
    deadline = time.monotonic() + READY_WAIT
    while True:
        try:
            attempt()
            return
        except Exception:
            if time.monotonic() > deadline:
                tail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
                raise RuntimeError(f"{what} did not start:\n{tail}") from None
            time.sleep(0.2)


class Request:
    def __init__(self, method: str, path: str, headers: dict[str, str], body: bytes):
        self.method, self.path, self.headers, self.body = method, path, headers, body

    def json(self) -> Any:
        return json.loads(self.body or b"null")


class LoopbackServer:
    """A threaded HTTP server on 127.0.0.1 whose answers a test scripts with `route()`.

    Unrouted paths answer 404. Every request is recorded in `requests`."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Handler] = {}
        self.requests: list[Request] = []
        self.lock = threading.Lock()
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path = self.path.split("?", 1)[0]
                req = Request(self.command, self.path, dict(self.headers), body)
                with server.lock:
                    server.requests.append(req)
                handler = server.routes.get((self.command, path)) or server.routes.get(("*", path))
                if handler is None:
                    status, headers, payload = 404, {"Content-Type": "text/plain"}, b"not found"
                else:
                    status, headers, payload = handler(req)
                try:
                    self.send_response(status)
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LoopbackServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def route(self, method: str, path: str, handler: Handler) -> None:
        self.routes[(method, path)] = handler

    def json(self, method: str, path: str, data: Any, status: int = 200,
             delay: float = 0.0) -> None:
        def handler(req: Request) -> tuple[int, dict[str, str], bytes]:
            if delay:
                time.sleep(delay)
            return status, {"Content-Type": "application/json"}, json.dumps(data).encode()

        self.route(method, path, handler)

    def count(self, path: str) -> int:
        with self.lock:
            return sum(1 for r in self.requests if r.path.split("?", 1)[0] == path)

