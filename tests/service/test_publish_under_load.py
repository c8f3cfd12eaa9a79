"""A publication by another process while apps poll status: never an error.

The server keeps the catalog for ``catalog_cache_seconds``; the notices a publication
creates are read fresh. A status answer that meets a notice (or a consent) naming a version
newer than its catalog reads the catalog again instead of failing.
"""

from __future__ import annotations

import random
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from tests.servers import serve
from tests.service.helpers import Clock, payload, policy, version
from tracker import migrations
from tracker.service import create_app
from tracker.settings import Settings
from tracker.store import Store
from tracker.store.keys import create_key

USERS = 120
CLIENTS = 16

PUBLISHER = """
import sys, orjson
from tracker.service.api.admin import parse_policies
from tracker.settings import Settings
from tracker.store import Store
from tracker.store.publish import publish

settings = Settings(database_url=sys.argv[1])
store = Store.open(settings)
for line in sys.stdin:
    policies = parse_policies(orjson.loads(line))
    store.write(lambda s: publish(s, policies))
    print("published", flush=True)
store.dispose()
"""


@pytest.fixture
def slow_cache_server(db_url: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A real uvicorn whose catalog cache outlives several publications (10 s)."""
    settings = Settings(
        repository=tmp_path,
        database_url=db_url,
        site_dir=tmp_path / "no-site",
        catalog_cache_seconds=10,
    )
    store = Store.open(settings)
    migrations.upgrade(store.engine)
    key, _ = store.write(lambda s: create_key(s, "load", frozenset({"read", "write", "admin"})))
    app = create_app(settings, store=store, clock=Clock())
    try:
        with serve(app) as url:
            yield url, key
    finally:
        store.dispose()


def _versions(count: int) -> list[dict[str, Any]]:
    return [version(n, "major" if n % 2 else "minor") for n in range(1, count + 1)]


def test_status_never_fails_while_another_process_publishes(
    slow_cache_server: tuple[str, str], db_url: str
) -> None:
    base, key = slow_cache_server
    auth = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base, headers=auth, timeout=30) as client:
        r = client.post("/v1/admin/versions", json=payload(policy("privacy", *_versions(1))))
        assert r.status_code == 201, r.text
        for n in range(USERS):
            r = client.post(
                "/v1/acceptances", json={"user_id": f"u{n}", "policy": "privacy", "version": 1}
            )
            assert r.status_code in (200, 201), r.text
        # Warm the server's catalog cache (10 s) before anything is published elsewhere.
        assert client.get("/v1/users/u0/status").status_code == 200

    outcomes: Counter[str] = Counter()
    seen_versions: set[int] = set()
    stop = threading.Event()
    lock = threading.Lock()

    def poll(seed: int) -> None:
        rng = random.Random(seed)
        with httpx.Client(base_url=base, headers=auth, timeout=30) as client:
            while not stop.is_set():
                try:
                    if rng.random() < 0.2:
                        ids = [f"u{rng.randrange(USERS)}" for _ in range(50)]
                        r = client.post("/v1/status/batch", json={"user_ids": ids})
                        users = r.json()["users"] if r.status_code == 200 else []
                    else:
                        r = client.get(f"/v1/users/u{rng.randrange(USERS)}/status")
                        users = [r.json()] if r.status_code == 200 else []
                    outcome = str(r.status_code)
                except httpx.HTTPError as exc:
                    outcome, users = type(exc).__name__, []
                notices = {
                    n["to_version"] for u in users for p in u["policies"] for n in p["notices"]
                }
                with lock:
                    outcomes[outcome] += 1
                    seen_versions.update(notices)

    threads = [threading.Thread(target=poll, args=(i,)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    with subprocess.Popen(
        [sys.executable, "-c", PUBLISHER, db_url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as publisher:
        try:
            assert publisher.stdin is not None and publisher.stdout is not None
            for count in range(2, 7):
                doc = payload(policy("privacy", *_versions(count)))
                publisher.stdin.write(orjson.dumps(doc).decode() + "\n")
                publisher.stdin.flush()
                assert publisher.stdout.readline().strip() == "published"
                time.sleep(0.4)
            _, errors = publisher.communicate(timeout=30)
            assert publisher.returncode == 0, errors
            time.sleep(0.5)
        finally:
            stop.set()
            for t in threads:
                t.join(30)
            if publisher.poll() is None:
                publisher.kill()
    assert set(outcomes) == {"200"}, outcomes
    assert outcomes["200"] > 200
    # The polls did meet the notices published behind the server's cached catalog.
    assert seen_versions & {2, 3, 4, 5, 6}, seen_versions
