"""Build a django-termsandconditions database (SQLite or PostgreSQL) in another process with
the app's own models (``tests.django_app.peer``), and read what the app says."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from tests.servers import PG_URL

ROOT = Path(__file__).parents[2]


def build_peer(url: str, scenario: str = "mixed") -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "tests.django_app.peer", url, scenario],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    found: dict[str, Any] = json.loads(done.stdout)
    return found


@contextmanager
def peer_database(kind: str, tmp_path: Path) -> Iterator[str]:
    """An empty database for the app: a SQLite file's URL, or a new PostgreSQL database's
    (dropped afterwards)."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'django.sqlite3'}"
        return
    name = f"dtc_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    base = PG_URL.split("?", 1)[0].rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}".replace("postgresql+psycopg://", "postgresql://")
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()
