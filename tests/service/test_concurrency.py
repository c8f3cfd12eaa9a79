"""Real uvicorn over a socket: concurrent identical writes store exactly one event."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import func, select
from starlette.applications import Starlette

from tests.service.helpers import payload, policy, version
from tracker.store import Store
from tracker.store.models import EventRow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(app: Starlette) -> Iterator[str]:
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not srv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(10)


def _storm(base: str, key: str, body: dict[str, Any], headers: dict[str, str]) -> list[int]:
    barrier = threading.Barrier(64)

    def one(_: int) -> int:
        with httpx.Client(base_url=base, timeout=60) as client:
            barrier.wait()
            r = client.post(
                "/v1/acceptances",
                json=body,
                headers={"Authorization": f"Bearer {key}", **headers},
            )
            return r.status_code

    with ThreadPoolExecutor(64) as pool:
        return list(pool.map(one, range(64)))


def _events(store: Store) -> int:
    with store.read() as session:
        return int(session.scalar(select(func.count()).select_from(EventRow)) or 0)


@pytest.mark.parametrize("idempotency", [False, True])
def test_64_concurrent_identical_acceptances_store_one_event(
    server: str, keys: dict[str, str], store: Store, idempotency: bool
) -> None:
    admin = {"Authorization": f"Bearer {keys['admin']}"}
    r = httpx.post(
        f"{server}/v1/admin/versions",
        json=payload(policy("privacy", version(1, "major"))),
        headers=admin,
    )
    assert r.status_code == 201
    body = {"user_id": "u1", "policy": "privacy", "version": 1, "method": "clickwrap"}
    headers = {"Idempotency-Key": "same"} if idempotency else {}
    statuses = _storm(server, keys["write"], body, headers)
    assert all(s in (200, 201) for s in statuses), statuses
    assert statuses.count(201) == (64 if idempotency else 1)
    assert _events(store) == 1


def test_concurrent_different_users_all_stored(
    server: str, keys: dict[str, str], store: Store
) -> None:
    admin = {"Authorization": f"Bearer {keys['admin']}"}
    httpx.post(
        f"{server}/v1/admin/versions",
        json=payload(policy("privacy", version(1, "major"))),
        headers=admin,
    )

    client = httpx.Client(base_url=server, timeout=60)

    def one(i: int) -> int:
        r = client.post(
            "/v1/acceptances",
            json={"user_id": f"u{i}", "policy": "privacy", "version": 1},
            headers={"Authorization": f"Bearer {keys['write']}"},
        )
        return r.status_code

    with client, ThreadPoolExecutor(32) as pool:
        statuses = list(pool.map(one, range(200)))
    assert statuses == [201] * 200
    assert _events(store) == 200


def test_encoded_slash_in_user_id_over_a_socket(server: str, keys: dict[str, str]) -> None:
    r = httpx.get(
        f"{server}/v1/users/x%252Fy/status", headers={"Authorization": f"Bearer {keys['read']}"}
    )
    assert r.status_code == 200
    assert r.json()["user_id"] == "x%2Fy"
