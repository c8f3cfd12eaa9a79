"""A flaky HTTP proxy in front of a real tracker, and a port nothing listens on."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx


@dataclass
class Seen:
    method: str
    path: str
    idempotency_key: str | None
    action: str


@dataclass
class FlakyProxy:
    """Forwards to ``upstream``, but misbehaves first, as scripted.

    Actions, taken one per request in order, then ``forward`` forever:
    ``forward``; ``503`` (answer 503 without forwarding); ``429:N`` (429 with Retry-After N);
    ``close`` (drop the connection without answering); ``lost`` (forward, then answer 503 as
    if the response was lost on the way back); ``slow:S`` (wait S seconds, then forward).
    """

    upstream: str
    script: list[str] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)
    url: str = ""

    def next_action(self) -> str:
        return self.script.pop(0) if self.script else "forward"


def _handler(proxy: FlakyProxy, http: httpx.Client) -> type[BaseHTTPRequestHandler]:
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _any(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            with lock:
                action = proxy.next_action()
                proxy.seen.append(
                    Seen(self.command, self.path, self.headers.get("idempotency-key"), action)
                )
            if action == "close":
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if action == "503":
                return self._reply(503, b'{"detail": "try later"}', "application/json")
            if action.startswith("429:"):
                return self._reply(429, b"slow down", "text/plain", action[4:])
            if action.startswith("slow:"):
                time.sleep(float(action[5:]))
            headers = {
                k: v for k, v in self.headers.items() if k.lower() not in {"host", "connection"}
            }
            upstream = http.request(self.command, self.path, headers=headers, content=body)
            if action == "lost":
                return self._reply(503, b"<html>bad gateway</html>", "text/html")
            self._reply(
                upstream.status_code,
                upstream.content,
                upstream.headers.get("content-type", "application/json"),
                extra={
                    k: v for k, v in upstream.headers.items() if k.lower() == "idempotent-replayed"
                },
            )

        def _reply(
            self,
            status: int,
            body: bytes,
            content_type: str,
            retry_after: str | None = None,
            extra: dict[str, str] | None = None,
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            if retry_after is not None:
                self.send_header("Retry-After", retry_after)
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_DELETE = _any

    return Handler


@contextmanager
def flaky(upstream: str, *script: str) -> Iterator[FlakyProxy]:
    proxy = FlakyProxy(upstream, list(script))
    with httpx.Client(base_url=upstream, timeout=10) as http:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(proxy, http))
        # Closing waits for every handler, a slow one included, so that what it forwards
        # has reached the tracker before the test looks.
        server.daemon_threads = False
        server.block_on_close = True
        proxy.url = f"http://127.0.0.1:{server.server_address[1]}"
        thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        try:
            yield proxy
        finally:
            server.shutdown()
            server.server_close()
            thread.join(10)


def closed_port() -> str:
    """A URL nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
