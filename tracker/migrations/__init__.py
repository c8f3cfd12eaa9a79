"""Alembic migrations shipped inside the package; ``policy-tracker db upgrade`` runs them.

Use the functions here rather than the ``alembic`` command: they need no ini file.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

from tracker.store.engine import normalise_url


def config(url: str | None = None, connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", "tracker:migrations")
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@contextmanager
def _connected(engine: Engine) -> Iterator[Config]:
    with engine.begin() as connection:
        yield config(connection=connection)


def upgrade(engine: Engine, revision: str = "head") -> None:
    with _connected(engine) as cfg:
        command.upgrade(cfg, revision)


def downgrade(engine: Engine, revision: str = "-1") -> None:
    with _connected(engine) as cfg:
        command.downgrade(cfg, revision)


def current(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def heads() -> list[str]:
    return list(ScriptDirectory.from_config(config()).get_heads())


def head() -> str:
    found = heads()
    if len(found) != 1:
        raise RuntimeError(f"migrations have {len(found)} heads: {found}")
    return found[0]
