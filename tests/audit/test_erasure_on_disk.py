"""After ``erase`` and ``purge``, a byte search of the database's files finds neither the
erased id nor its IP address: every SQLite file (main, WAL, SHM) while the service still
has it open, and every table, index and TOAST file of PostgreSQL after a checkpoint.

PostgreSQL runs in a database of its own: ``VACUUM`` keeps row versions that a transaction
of the same database might still see, and other tests share the ``test`` database.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from tests.api import Api
from tests.servers import PG_URL
from tests.service.helpers import Clock, payload, policy, version
from tracker.audit.retention import purge
from tracker.settings import Settings
from tracker.store import Store

USER = "zed-erase-4711"
IP = "198.51.100.77"
MAINTENANCE = (
    "VACUUM FULL events, consents, notices, acceptance_links, audit_records, "
    "idempotency_keys, outbox_messages"
)
NEEDLES = [USER.encode(), IP.encode(), b"ZedAgent/9", b"zed-order-31337"]


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tracker.sqlite3'}"
        return
    name = f"t_scrub_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE {name} WITH (FORCE)")
        admin.dispose()


def _record(api: Api, user: str, ip: str, n: int, **extra: Any) -> None:
    body = {
        "user_id": user,
        "policy": "privacy",
        "version": n,
        "ip": ip,
        "user_agent": f"{user}-agent" if user != USER else "ZedAgent/9",
        "context": {"order": f"{user}-order" if user != USER else "zed-order-31337"},
    }
    r = api.post("/v1/acceptances", json=body, **extra)
    assert r.status_code in (200, 201), r.text


def _fill(api: Api) -> None:
    api.post("/v1/admin/versions", json=payload(policy("privacy", version(1, "major"))))
    for i in range(60):
        _record(api, f"other-{i}", f"203.0.113.{i}", 1)
        if i % 10 == 0:
            _record(api, USER, IP, 1, headers={"Idempotency-Key": f"zed-{i}"})
    api.post(
        "/v1/admin/versions",
        json=payload(policy("privacy", version(1, "major"), version(2, "major"))),
    )
    _record(api, USER, IP, 2)
    for i in range(60, 120):
        _record(api, f"other-{i}", f"203.0.113.{i % 250}", 2)


def _sqlite_files(settings: Settings) -> list[Path]:
    main = Path(make_url(settings.database_url).database or "")
    return [p for p in (main, Path(f"{main}-wal"), Path(f"{main}-shm")) if p.exists()]


def _postgres_files(store: Store) -> list[Path]:
    with store.engine.connect() as conn:
        conn.exec_driver_sql("CHECKPOINT")  # the cleaned pages, in the files
        data = Path(str(conn.exec_driver_sql("SHOW data_directory").scalar()))
        rows = conn.execute(
            text(
                "SELECT pg_relation_filepath(c.oid) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.relkind IN ('r', 'i', 't') AND n.nspname NOT IN "
                "('pg_catalog', 'information_schema')"
            )
        ).scalars()
        paths = [data / p for p in rows if p]
    if not os.access(data, os.R_OK):
        pytest.skip(f"{data} is not readable by this process")
    files = []
    for base in paths:  # the relation's file and its 1 GB segments (base.1, base.2, ...)
        files += [base, *base.parent.glob(base.name + ".*")]
    return sorted(f for f in set(files) if f.exists())


def _found(files: list[Path]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for f in files:
        data = f.read_bytes()
        for needle in NEEDLES:
            if needle in data:
                found.setdefault(needle.decode(), []).append(f.name)
    return found


def test_erase_and_purge_leave_nothing_readable(
    api: Api, store: Store, settings: Settings, clock: Clock
) -> None:
    _fill(api)
    files = _sqlite_files(settings) if store.dialect == "sqlite" else _postgres_files(store)
    assert _found(files).keys() == {n.decode() for n in NEEDLES}  # the search sees them
    r = api.delete(f"/v1/admin/users/{USER}")
    assert r.status_code == 200, r.text
    retention = Settings(**{**settings.__dict__, "retention_ip_days": 1})
    purge(store, retention, clock.now + timedelta(days=2))
    if store.dialect == "postgresql":  # the maintenance step docs/audit.md gives
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(MAINTENANCE)
    files = _sqlite_files(settings) if store.dialect == "sqlite" else _postgres_files(store)
    assert files
    found = _found(files)
    assert found == {}
    assert MAINTENANCE in (Path(__file__).parents[2] / "docs" / "audit.md").read_text()
    # The service still answers, and the chain still verifies.
    assert api.get("/v1/admin/audit/verify").json()["ok"] is True
    _record(api, "after", "192.0.2.1", 2)
