"""A real tracker (``create_app`` on a temporary SQLite database) served by uvicorn."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import httpx
import pytest

from tests.servers import serve
from tests.service.helpers import Clock, payload, policy, version
from tracker import migrations
from tracker.client import Retry, TrackerClient
from tracker.service import create_app
from tracker.settings import Settings
from tracker.store import Store
from tracker.store.keys import create_key, list_keys
from tracker.store.links import set_key_app

FAST = Retry(attempts=3, backoff=0.01, max_backoff=0.05)


@dataclass
class Tracker:
    url: str
    keys: dict[str, str]
    clock: Clock

    def client(self, key: str = "app", **kw: object) -> TrackerClient:
        kw.setdefault("retry", FAST)
        return TrackerClient(self.url, self.keys.get(key, key), **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def tracker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tracker]:
    """Policies ``privacy`` (v1 major, v2 minor) and ``terms`` (v1 major) in force."""
    tmp: Path = tmp_path_factory.mktemp("tracker")
    settings = Settings(
        repository=tmp,
        database_url=f"sqlite:///{tmp / 'tracker.sqlite3'}",
        site_dir=tmp / "no-site",
    )
    store = Store.open(settings)
    migrations.upgrade(store.engine)
    keys = {}
    for name, scopes in [("admin", "admin"), ("app", "read,write"), ("read", "read")]:
        keys[name] = store.write(
            partial(create_key, name=name, scopes=frozenset(scopes.split(",")))
        )[0]
    # The example app sends users to the hosted page and back to 127.0.0.1 (any port).
    store.write(
        lambda s: set_key_app(
            s,
            next(k.id for k in list_keys(s) if k.name == "app"),
            app_name="Example app",
            return_urls=["http://127.0.0.1/"],
        )
    )
    clock = Clock()
    try:
        with serve(create_app(settings, store=store, clock=clock)) as url:
            body = payload(
                policy("privacy", version(1, "major"), version(2, "minor"), title="Privacy"),
                policy("terms", version(1, "major", title="Terms"), title="Terms"),
            )
            headers = {"Authorization": f"Bearer {keys['admin']}"}
            r = httpx.post(f"{url}/v1/admin/versions", json=body, headers=headers)
            assert r.status_code == 201, r.text
            yield Tracker(url, keys, clock)
    finally:
        store.dispose()


@pytest.fixture
def user() -> str:
    return f"user-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def client(tracker: Tracker) -> Iterator[TrackerClient]:
    with tracker.client() as c:
        yield c
