"""Fixtures: every service test runs on SQLite and on PostgreSQL (which must be reachable)."""

from __future__ import annotations

import os
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool
from starlette.applications import Starlette

from tests.service.helpers import Clock
from tracker import migrations
from tracker.service import create_app
from tracker.settings import Settings
from tracker.store import Store
from tracker.store.keys import create_key, revoke_key

with warnings.catch_warnings():
    # Starlette 1.x prefers httpx2 for its TestClient; httpx works the same.
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

PG_URL = os.environ.get(
    "POLICY_TRACKER_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
DATABASES = ["sqlite", "postgresql"]


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh schema in the test database; an unreachable server fails the test."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, poolclass=NullPool)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


@pytest.fixture(params=DATABASES)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'tracker.sqlite3'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(repository=tmp_path, database_url=db_url, site_dir=tmp_path / "no-site")


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    opened = Store.open(settings)
    migrations.upgrade(opened.engine)
    yield opened
    opened.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(settings: Settings, store: Store, clock: Clock) -> Starlette:
    return create_app(settings, store=store, clock=clock)


@pytest.fixture
def keys(store: Store) -> dict[str, str]:
    """API keys by role: admin (every scope), read, write, revoked."""
    made = {}
    for name, scopes in [
        ("admin", {"read", "write", "admin"}),
        ("read", {"read"}),
        ("write", {"write"}),
        ("revoked", {"read", "write", "admin"}),
    ]:
        made[name], info = store.write(lambda s, n=name, sc=scopes: create_key(s, n, frozenset(sc)))
        if name == "revoked":
            store.write(lambda s, i=info.id: revoke_key(s, str(i)))
    return made


class Api:
    """A TestClient that sends the admin key unless told otherwise."""

    def __init__(self, client: TestClient, keys: dict[str, str]):
        self.client = client
        self.keys = keys

    def _headers(self, key: str | None, headers: dict[str, str] | None) -> dict[str, str]:
        out = dict(headers or {})
        if key is not None:
            out["Authorization"] = f"Bearer {self.keys.get(key, key)}"
        return out

    def get(self, url: str, *, key: str | None = "admin", **kw: Any) -> Any:
        return self.client.get(url, headers=self._headers(key, kw.pop("headers", None)), **kw)

    def post(self, url: str, *, key: str | None = "admin", **kw: Any) -> Any:
        return self.client.post(url, headers=self._headers(key, kw.pop("headers", None)), **kw)

    def delete(self, url: str, *, key: str | None = "admin", **kw: Any) -> Any:
        return self.client.delete(url, headers=self._headers(key, kw.pop("headers", None)), **kw)

    def put(self, url: str, *, key: str | None = "admin", **kw: Any) -> Any:
        return self.client.put(url, headers=self._headers(key, kw.pop("headers", None)), **kw)


@pytest.fixture
def api(app: Starlette, keys: dict[str, str]) -> Iterator[Api]:
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Api(client, keys)
