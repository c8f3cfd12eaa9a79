"""Migrations, models, SQLite settings and query plans of the hot paths, on both databases."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select, text

from tests.service.helpers import payload, policy, version
from tracker import migrations
from tracker.service.api.admin import parse_policies
from tracker.settings import Settings
from tracker.store import Base, Store, publish
from tracker.store.models import EventRow
from tracker.store.status import consents_sql, status_query


def test_one_head() -> None:
    assert len(migrations.heads()) == 1


def test_upgrade_downgrade_upgrade(store: Store) -> None:
    assert migrations.current(store.engine) == migrations.head()
    migrations.downgrade(store.engine, "base")
    assert migrations.current(store.engine) is None
    tables = set(inspect(store.engine).get_table_names()) - {"alembic_version"}
    assert tables == set()
    migrations.upgrade(store.engine)
    assert migrations.current(store.engine) == migrations.head()
    assert set(Base.metadata.tables) <= set(inspect(store.engine).get_table_names())


def test_models_and_migrations_agree(store: Store) -> None:
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_constraint_names_follow_the_convention(store: Store) -> None:
    insp = inspect(store.engine)
    fks = {fk["name"] for fk in insp.get_foreign_keys("events")}
    assert "fk_events_policy_id_policies" in fks
    if store.dialect == "postgresql":
        assert insp.get_pk_constraint("consents")["name"] == "pk_consents"


def test_sqlite_runs_in_wal_with_foreign_keys(tmp_path: Path) -> None:
    store = Store.open(Settings(database_url=f"sqlite:///{tmp_path / 'x.sqlite3'}"))
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000


def _fill(store: Store, users: int) -> None:
    policies = parse_policies(payload(policy("privacy", version(1, "major"))))
    store.write(lambda s: publish(s, policies))
    series = (
        f"SELECT 'user-' || g, 1 FROM generate_series(1, {users}) g"
        if store.dialect == "postgresql"
        else f"WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < {users}) "
        "SELECT 'user-' || n, 1 FROM g"
    )
    with store.engine.begin() as conn:
        conn.exec_driver_sql(f"INSERT INTO consents (user_id, policy_id) {series}")
        conn.exec_driver_sql(
            "INSERT INTO events (user_id, policy_id, version_id, kind, method, created_at) "
            "SELECT user_id, policy_id, 1, 'accepted', 'api', '2025-01-01' FROM consents"
        )
        conn.exec_driver_sql("ANALYZE")


def _plan(store: Store, query: Any) -> str:
    compiled = query.compile(store.engine, compile_kwargs={"literal_binds": True})
    prefix = "EXPLAIN QUERY PLAN " if store.dialect == "sqlite" else "EXPLAIN "
    with store.engine.connect() as conn:
        rows = conn.execute(text(prefix + str(compiled))).all()
    return "\n".join(" ".join(str(c) for c in row) for row in rows)


@pytest.mark.parametrize("policy", [None, 1])
@pytest.mark.parametrize("users", [["user-7"], [f"user-{i}" for i in range(1, 400, 3)]])
def test_status_lookup_uses_the_primary_key(
    store: Store, users: list[str], policy: int | None
) -> None:
    _fill(store, 100_000)
    sql = consents_sql(store.dialect, len(users), policy is not None)
    params = [*users, policy] if policy is not None else users
    prefix = "EXPLAIN QUERY PLAN " if store.dialect == "sqlite" else "EXPLAIN "
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql(prefix + sql, tuple(params)).all()
    plan = "\n".join(" ".join(str(c) for c in row) for row in rows)
    if store.dialect == "sqlite":
        assert "USING INDEX sqlite_autoindex_consents_1" in plan or "PRIMARY KEY" in plan, plan
    else:
        assert "pk_consents" in plan and "Seq Scan" not in plan, plan
    # The SQLAlchemy form of the same lookup (used by tools) plans the same way.
    plan = _plan(store, status_query(users, policy))
    assert "consents_1" in plan or "PRIMARY KEY" in plan or "pk_consents" in plan, plan


def test_events_listing_uses_its_index(store: Store) -> None:
    _fill(store, 100_000)
    query = (
        select(EventRow).where(EventRow.user_id == "user-9", EventRow.id > 0).order_by(EventRow.id)
    )
    plan = _plan(store, query)
    assert "ix_events_user_id_id" in plan, plan
