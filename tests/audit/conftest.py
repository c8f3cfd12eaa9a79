"""Audit tests reuse the service fixtures (SQLite and PostgreSQL) with a signing key set."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.audit.helpers import SEED
from tracker.settings import Settings


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The shared settings with an audit signing key and a site URL."""
    return replace(settings, audit_signing_key=SEED, site_url="https://policies.example/")
