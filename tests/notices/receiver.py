"""A real HTTP receiver on 127.0.0.1 that verifies every request with ``standardwebhooks``.

Paths choose the answer: ``/ok``, ``/status/<code>`` (with ``?retry_after=N``), ``/slow``
(sleeps past the client's timeout), ``/close`` (drops the connection), ``/redirect``.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from standardwebhooks.webhooks import Webhook


@dataclass
class Received:
    path: str
    webhook_id: str
    timestamp: str
    signature: str
    body: bytes
    verified: bool
    started: float
    ended: float = 0.0
    #: The sender's TCP port: which process sent it (see ``answering``).
    port: int = 0
    #: The ``Host`` header the sender sent.
    host: str = ""
    #: Whether it met the others at the receiver's ``gather`` barrier (see ``Receiver``).
    gathered: bool = False

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    secrets: list[str] = field(default_factory=list)
    delay: float = 0.0
    #: When set, each request waits here for the others before it is answered: requests that
    #: all pass it were in flight at once, whatever the machine's load (a sender that sends one
    #: at a time leaves the first waiting until the barrier's timeout breaks it).
    gather: threading.Barrier | None = None
    received: list[Received] = field(default_factory=list)
    in_flight: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    max_in_flight: int = 0
    #: Requests read in full and not answered yet.
    active: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: Where to listen (any 127.0.0.0/8 address; port 0 picks a free one).
    bind: tuple[str, int] = ("127.0.0.1", 0)
    #: Serve https with this context (server side) instead of plain http.
    tls: ssl.SSLContext | None = None

    def __enter__(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                receiver._handle(self)

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # senders killed mid-request reset their connections

        self.server = Server(self.bind, Handler)
        if self.tls is not None:
            self.server.socket = self.tls.wrap_socket(self.server.socket, server_side=True)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def base(self) -> str:
        host, port = self.server.server_address[:2]
        assert isinstance(host, str)
        return f"{'https' if self.tls else 'http'}://{host}:{port}"

    def url(self, path: str = "/ok") -> str:
        return self.base + path

    def _verify(self, body: bytes, headers: dict[str, str]) -> bool:
        for secret in self.secrets:
            try:
                Webhook(secret).verify(body, headers)
                return True
            except Exception:
                continue
        return False

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("content-length", "0"))
        body = h.rfile.read(length)
        if len(body) < length:  # the sender died mid-request: nothing was delivered
            h.close_connection = True
            return
        headers = {k.lower(): v for k, v in h.headers.items()}
        wid = headers.get("webhook-id", "")
        record = Received(
            urlsplit(h.path).path,
            wid,
            headers.get("webhook-timestamp", ""),
            headers.get("webhook-signature", ""),
            body,
            self._verify(body, headers),
            time.monotonic(),
            port=h.client_address[1],
            host=headers.get("host", ""),
        )
        with self.lock:
            self.in_flight[wid] += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight[wid])
            self.active.append(record)
        try:
            self._answer(h, record)
        finally:
            record.ended = time.monotonic()
            with self.lock:
                self.in_flight[wid] -= 1
                self.active = [r for r in self.active if r is not record]
                self.received.append(record)

    def answering(self, ports: set[int]) -> list[Received]:
        """Requests from these sender ports that were read in full and not answered yet."""
        with self.lock:
            return [r for r in self.active if r.port in ports]

    def _answer(self, h: BaseHTTPRequestHandler, record: Received) -> None:
        parts = urlsplit(h.path)
        query = parse_qs(parts.query)
        if self.gather is not None:
            try:
                self.gather.wait()
                record.gathered = True
            except threading.BrokenBarrierError:
                pass
        if self.delay:
            time.sleep(self.delay)
        if parts.path == "/slow":
            time.sleep(3)
        if parts.path == "/close":
            h.close_connection = True
            h.connection.close()
            return
        status = 200
        extra: dict[str, str] = {}
        if parts.path.startswith("/status/"):
            status = int(parts.path.rsplit("/", 1)[1])
        if parts.path == "/redirect":
            status, extra = 307, {"Location": self.url("/ok")}
        if "retry_after" in query:
            extra["Retry-After"] = query["retry_after"][0]
        h.send_response(status)
        for k, v in extra.items():
            h.send_header(k, v)
        h.send_header("Content-Length", "2")
        h.end_headers()
        h.wfile.write(b"ok")
