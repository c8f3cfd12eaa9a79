"""What the database benchmarks share: a scratch database of each kind (a temporary SQLite file,
a PostgreSQL schema of their own), rows made by a series in SQL, ANALYZE, a warm median."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

if TYPE_CHECKING:
    from tracker.store import Store

PG_URL = os.environ.get(
    "POLICY_TRACKER_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def dialects(database: str) -> tuple[str, ...]:
    """The dialects a ``--database`` choice (sqlite, postgresql, both) names."""
    return ("sqlite", "postgresql") if database == "both" else (database,)


@contextmanager
def scratch_url(dialect: str, name: str) -> Iterator[str]:
    """The URL of an empty database of ``dialect``, dropped afterwards: a SQLite file in a
    temporary folder, or a schema of its own in the database of ``POLICY_TRACKER_TEST_POSTGRES``."""
    if dialect == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{Path(tmp) / name}.sqlite3"
        return
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, poolclass=NullPool)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        sep = "&" if "?" in PG_URL else "?"
        yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def series(dialect: str, n: int) -> str:
    """A query of the integers 0 … n - 1 as ``g`` (BIGINT on PostgreSQL, so that arithmetic on
    them does not overflow)."""
    if dialect == "postgresql":
        return f"SELECT g::bigint AS g FROM generate_series(0, {n - 1}) g"
    return (
        f"WITH RECURSIVE s(g) AS (SELECT 0 UNION ALL SELECT g + 1 FROM s WHERE g < {n - 1}) "
        "SELECT g FROM s"
    )


def analyze(store: Store) -> None:
    if store.dialect == "postgresql":
        with store.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
    else:
        with store.engine.begin() as conn:
            conn.execute(text("ANALYZE"))


def median_ms(work: Callable[[], object], runs: int = 5, *, warm: bool = True) -> float:
    if warm:
        work()  # warm: caches, connections, the pages read
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        work()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)
