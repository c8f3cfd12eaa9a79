"""Where a webhook may go, checked once and kept: DNS rebinding, IPv4 inside IPv6, ports out
of range, and error text that tells an operator what failed without what a receiver said.

Name lookups are answered by a stub of ``socket.getaddrinfo`` (for one made-up name only);
every connection stays on 127.0.0.0/8.
"""

from __future__ import annotations

import random
import socket
import ssl
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import trustme
from sqlalchemy import select

from tests.api import Api
from tests.notices.helpers import publish
from tests.notices.receiver import Receiver
from tests.service.helpers import Clock, version
from tracker.notices.dispatch import Dispatcher
from tracker.notices.urls import AllowList, Destination, destination
from tracker.settings import Settings
from tracker.store import Store
from tracker.store.notices import DeliveryRow

NAME = "hooks.rebind.test"


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def _server_context(ca: trustme.CA, names: list[str]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(NAME).configure_cert(context)

    def sni(sock: Any, server_name: str | None, ctx: Any) -> None:
        names.append(server_name or "")

    context.sni_callback = sni
    return context


class Rebinding:
    """``getaddrinfo`` for NAME: the first answer, then the second one for every later call."""

    def __init__(self, first: str, then: str):
        self.answers = [first, then]
        self.calls = 0
        self.real = socket.getaddrinfo

    def __call__(self, host: Any, port: Any, *args: Any, **kw: Any) -> Any:
        if host != NAME:
            return self.real(host, port, *args, **kw)
        answer = self.answers[min(self.calls, 1)]
        self.calls += 1
        family = socket.AF_INET6 if ":" in answer else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (answer, int(port or 0)))]


@pytest.fixture
def pair(ca: trustme.CA) -> Iterator[tuple[Receiver, Receiver, list[str]]]:
    """Two https receivers on one port: 127.0.0.1 (allowed) and 127.0.0.2 (not)."""
    names: list[str] = []
    with Receiver(bind=("127.0.0.1", 0), tls=_server_context(ca, names)) as allowed:
        port = allowed.server.server_address[1]
        with Receiver(bind=("127.0.0.2", port), tls=_server_context(ca, names)) as other:
            yield allowed, other, names


@pytest.fixture
def tls_client(ca: trustme.CA) -> Iterator[httpx.Client]:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    with httpx.Client(verify=context, follow_redirects=False) as client:
        yield client


def _point_at(store: Store, url: str) -> None:
    with store.engine.begin() as conn:
        conn.exec_driver_sql(f"UPDATE webhook_endpoints SET url = '{url}'")


def test_the_dispatcher_connects_to_the_address_it_checked(
    api: Api,
    store: Store,
    settings: Settings,
    clock: Clock,
    pair: tuple[Receiver, Receiver, list[str]],
    tls_client: httpx.Client,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    allowed, other, sni_names = pair
    r = api.post("/v1/admin/webhooks", json={"url": allowed.url("/ok")})
    assert r.status_code == 201, r.text
    allowed.secrets.append(r.json()["secret"])
    other.secrets.append(r.json()["secret"])
    port = allowed.server.server_address[1]
    _point_at(store, f"https://{NAME}:{port}/ok")
    # The check sees 127.0.0.1 (allowed); any later lookup would get 127.0.0.2 (not allowed).
    resolver = Rebinding("127.0.0.1", "127.0.0.2")
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    publish(api, version(1, "major"))
    worker = Dispatcher(store, settings, clock=clock, client=tls_client, rng=random.Random(1))
    try:
        assert worker.run(once=True) == 1
    finally:
        worker.close()
    assert other.received == [], "connected to an address that was never checked"
    (got,) = allowed.received
    assert got.verified and got.host == f"{NAME}:{port}"
    assert sni_names == [NAME]  # SNI (and so the certificate check) used the name
    assert resolver.calls == 1
    with store.read() as session:
        assert [d.state for d in session.scalars(select(DeliveryRow))] == ["delivered"]


def test_a_name_that_resolves_to_a_private_address_is_refused_without_connecting(
    api: Api,
    store: Store,
    settings: Settings,
    clock: Clock,
    pair: tuple[Receiver, Receiver, list[str]],
    tls_client: httpx.Client,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    allowed, other, _ = pair
    r = api.post("/v1/admin/webhooks", json={"url": allowed.url("/ok")})
    assert r.status_code == 201
    _point_at(store, f"https://{NAME}:{allowed.server.server_address[1]}/ok")
    monkeypatch.setattr(socket, "getaddrinfo", Rebinding("::ffff:127.0.0.2", "127.0.0.2"))
    publish(api, version(1, "major"))
    worker = Dispatcher(store, settings, clock=clock, client=tls_client, rng=random.Random(1))
    try:
        worker.run(once=True)
    finally:
        worker.close()
    assert allowed.received == [] and other.received == []
    (d,) = api.get("/v1/admin/deliveries?state=pending").json()["deliveries"]
    assert d["last_error"] == f"refused: {NAME} resolves to a private or loopback address"


def test_delivery_errors_say_what_failed_not_what_the_receiver_said(
    api: Api, store: Store, settings: Settings, clock: Clock, receiver: Receiver
) -> None:
    r = api.post("/v1/admin/webhooks", json={"url": receiver.url("/status/503")})
    assert r.status_code == 201
    publish(api, version(1, "major"))
    worker = Dispatcher(store, settings, clock=clock, rng=random.Random(1))
    try:
        worker.run(once=True)
        (d,) = api.get("/v1/admin/deliveries?state=pending").json()["deliveries"]
        assert d["last_error"] == "HTTP 503"  # not the body ("ok")
        # A closed port: what happened, not the socket's words (errno, address, port).
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            closed = s.getsockname()[1]
        _point_at(store, f"http://127.0.0.1:{closed}/x")
        clock.now = clock.now.replace(year=clock.now.year + 1)
        worker.run(once=True)
    finally:
        worker.close()
    (d,) = api.get("/v1/admin/deliveries?state=pending").json()["deliveries"]
    assert d["last_error"] == "could not connect (refused, unreachable or TLS handshake failed)"


EMBEDDED = [
    "https://[::127.0.0.1]/hook",  # IPv4-compatible
    "https://[::ffff:127.0.0.1]/hook",  # IPv4-mapped
    "https://[::ffff:0:127.0.0.1]/hook",  # IPv4-translated (SIIT)
    "https://[64:ff9b::7f00:1]/hook",  # NAT64
    "https://[64:ff9b::a9fe:a9fe]/hook",  # NAT64 to the metadata address
    "https://[2002:7f00:1::]/hook",  # 6to4 of 127.0.0.1
    "https://[2002:a9fe:a9fe::]/hook",  # 6to4 of 169.254.169.254
    "https://[2001:0:4136:e378:8000:63bf:80ff:fffe]/hook",  # Teredo, client 127.0.0.1
    "https://hooks.example.com:99999/hook",  # port out of range
    "https://hooks.example.com:0/hook",
    "https://hooks.example.com:/hook",
]


@pytest.mark.parametrize("url", EMBEDDED)
def test_ipv4_inside_ipv6_and_bad_ports_are_refused(api: Api, url: str) -> None:
    r = api.post("/v1/admin/webhooks", json={"url": url})
    assert r.status_code == 422, (url, r.text)
    assert api.get("/v1/admin/webhooks").json()["webhooks"] == []


@pytest.mark.parametrize(
    "answer",
    ["::127.0.0.1", "::ffff:0:a00:1", "64:ff9b::a9fe:a9fe", "2002:c0a8:101::1", "fe80::1%eth0"],
)
def test_a_resolved_address_embedding_a_private_one_is_refused(answer: str) -> None:
    found = destination("https://hooks.example.com/x", AllowList(""), lambda host, port: [answer])
    assert found == "hooks.example.com resolves to a private or loopback address"


@pytest.mark.parametrize(
    "answer", ["2606:4700::1111", "64:ff9b::808:808", "2002:808:808::1", "93.184.216.34"]
)
def test_public_forms_still_pass(answer: str) -> None:
    found = destination("https://hooks.example.com/x", AllowList(""), lambda h, p: [answer])
    assert found == Destination("hooks.example.com", answer, 443)
