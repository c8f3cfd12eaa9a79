"""Console tests: the service fixtures (SQLite and PostgreSQL) with webhooks to 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.notices.receiver import Receiver
from tracker.settings import Settings


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(
        repository=tmp_path,
        database_url=db_url,
        site_dir=tmp_path / "no-site",
        site_url="https://policies.example.com/",
        webhook_allowed_hosts="127.0.0.1",
        webhook_timeout=1.0,
        webhook_retry_schedule="5s",
    )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running
