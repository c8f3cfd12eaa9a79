"""Real uvicorn over a socket: concurrent identical writes store exactly one event."""

from __future__ import annotations

import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from tests.service.helpers import payload, policy, version
from tracker.store import Store
from tracker.store.models import EventRow


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


WRITER = """
import sys
from tracker.settings import Settings
from tracker.store import Store
from tracker.store.catalog import SnapshotCache
from tracker.store.events import NewEvent, record
from datetime import UTC, datetime

store = Store.open(Settings(database_url=sys.argv[1], sqlite_busy_timeout=5.0))
cache = SnapshotCache()
for i in range(int(sys.argv[3])):
    def work(session, i=i):
        snap = cache.get(session)
        policy = snap.policy("privacy")
        new = NewEvent(f"{sys.argv[2]}-{i}", "accepted", "api", None)
        return record(session, snap, policy, policy.version(1), new, datetime.now(UTC))
    store.write(work)
store.dispose()
"""


def test_writer_processes_on_one_sqlite_file_never_see_locked(tmp_path: Path) -> None:
    """Several processes (uvicorn workers) writing one SQLite file: every write lands."""
    from tests.service.helpers import payload as make_payload
    from tracker import migrations
    from tracker.service.api.admin import parse_policies
    from tracker.settings import Settings
    from tracker.store import publish

    url = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    store = Store.open(Settings(database_url=url))
    migrations.upgrade(store.engine)
    policies = parse_policies(make_payload(policy("privacy", version(1, "major"))))
    store.write(lambda s: publish(s, policies))
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, url, f"p{n}", "60"], stderr=subprocess.PIPE)
        for n in range(4)
    ]
    errors = [p.communicate(timeout=120)[1].decode() for p in procs]
    assert all(p.returncode == 0 for p in procs), errors
    assert _events(store) == 240
    store.dispose()


def test_store_write_retries_then_reports_busy(tmp_path: Path) -> None:
    from sqlalchemy.exc import OperationalError

    from tracker.settings import Settings
    from tracker.store.engine import StoreUnavailable

    store = Store.open(Settings(database_url=f"sqlite:///{tmp_path / 'x.sqlite3'}"))
    store.attempts = 3
    calls = []

    def locked(session: Any) -> None:
        calls.append(1)
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    with pytest.raises(StoreUnavailable):
        store.write(locked)
    assert len(calls) == 3

    def broken(session: Any) -> None:
        raise OperationalError("SELECT", {}, Exception("no such table: nope"))

    with pytest.raises(OperationalError):
        store.write(broken)
    store.dispose()


def test_group_commit_isolates_a_failing_unit(tmp_path: Path) -> None:
    """Concurrent SQLite writers share commits; a unit that fails rolls back alone."""
    from sqlalchemy import text

    from tracker.errors import NotFound
    from tracker.settings import Settings

    store = Store.open(Settings(database_url=f"sqlite:///{tmp_path / 'g.sqlite3'}"))
    with store.engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (n INTEGER PRIMARY KEY)")
    barrier = threading.Barrier(32)

    def one(n: int) -> str:
        def work(session: Any) -> int:
            session.execute(text("INSERT INTO t (n) VALUES (:n)"), {"n": n})
            if n % 2:
                raise NotFound(f"odd {n}")
            return n

        barrier.wait()
        try:
            return f"ok {store.write(work)}"
        except NotFound as exc:
            return str(exc)

    with ThreadPoolExecutor(32) as pool:
        results = list(pool.map(one, range(32)))
    assert results == [f"ok {n}" if n % 2 == 0 else f"odd {n}" for n in range(32)]
    with store.engine.connect() as conn:
        stored = [n for (n,) in conn.exec_driver_sql("SELECT n FROM t ORDER BY n")]
    assert stored == list(range(0, 32, 2))
    store.dispose()
