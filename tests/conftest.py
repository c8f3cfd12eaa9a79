"""The fixtures every test folder shares: the database (each test on SQLite and on
PostgreSQL, which must be reachable), the store, the app, keys, the API in process and the
app served by uvicorn. A folder's conftest.py may override one (``settings``) by name."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool
from starlette.applications import Starlette

from tests.api import Api, TestClient
from tests.servers import PG_URL, serve
from tests.service.helpers import Clock
from tracker import migrations
from tracker.service import create_app
from tracker.settings import Settings
from tracker.store import Store
from tracker.store.keys import create_key, revoke_key

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
        made[name], info = store.write(partial(create_key, name=name, scopes=frozenset(scopes)))
        if name == "revoked":
            store.write(partial(revoke_key, ident=str(info.id)))
    return made


@pytest.fixture
def api(app: Starlette, keys: dict[str, str]) -> Iterator[Api]:
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Api(client, keys)


@pytest.fixture
def server(app: Starlette) -> Iterator[str]:
    """The app served by uvicorn on 127.0.0.1; its base URL."""
    with serve(app) as url:
        yield url


@pytest.fixture
def cached(settings: Settings) -> Settings:
    """Caches that outlive the test, so that whether a fast path answers never depends
    on how fast the machine is."""
    return replace(settings, catalog_cache_seconds=600.0, auth_cache_seconds=600.0)


@pytest.fixture
def two_apps(
    cached: Settings, store: Store, clock: Clock, keys: dict[str, str]
) -> Iterator[tuple[Api, Api]]:
    """The same store served with the fast paths (``tracker.service.fast``) and without."""
    fast = create_app(cached, store=store, clock=clock)
    routed = create_app(replace(cached, status_fast_path=False), store=store, clock=clock)
    with (
        TestClient(fast, raise_server_exceptions=False) as a,
        TestClient(routed, raise_server_exceptions=False) as b,
    ):
        yield Api(a, keys), Api(b, keys)
