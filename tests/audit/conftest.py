"""Audit tests reuse the service fixtures (SQLite and PostgreSQL) with a signing key set."""

from __future__ import annotations

import base64
from dataclasses import replace
from pathlib import Path

import pytest

from tests.service.conftest import (  # noqa: F401
    api,
    app,
    clock,
    db_url,
    keys,
    pg_url,
    store,
)
from tests.service.conftest import settings as service_settings  # noqa: F401
from tracker.settings import Settings

SEED = base64.b64encode(bytes(range(32))).decode()


@pytest.fixture
def settings(service_settings: Settings, tmp_path: Path) -> Settings:  # noqa: F811
    return replace(service_settings, audit_signing_key=SEED, site_url="https://policies.example/")
