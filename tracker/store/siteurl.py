"""The public site URL every process of one tracker names in its links.

``serve`` (and ``demo``) serve the site at ``/`` of the host and port they listen on and
record that URL here; other processes sharing the database (``dispatch``, ``export``,
``evidence``) take it, unless ``POLICY_TRACKER_SITE_URL`` says where the site is, so that a
notice, a webhook payload and an evidence bundle name the same, reachable pages.
"""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tracker.settings import ENV_PREFIX, Settings
from tracker.store.links import ServiceSecretRow

NAME = "served_site_url"


def configured(settings: Settings) -> bool:
    """Whether the site URL was set (environment or an explicit value), not defaulted."""
    return bool(os.environ.get(ENV_PREFIX + "SITE_URL")) or settings.site_url != Settings.site_url


def record(session: Session, url: str, now: datetime) -> None:
    """Remember the URL the serving process makes true (the latest serve wins)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(ServiceSecretRow).values(name=NAME, value=url[:128], created_at=now)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["name"], set_={"value": url[:128], "created_at": now}
        )
    )


def resolve(settings: Settings, session: Session) -> Settings:
    """``settings`` with the site URL a serving process recorded, unless one is configured."""
    if configured(settings):
        return settings
    found = session.scalar(select(ServiceSecretRow.value).where(ServiceSecretRow.name == NAME))
    return replace(settings, site_url=found) if found else settings
