"""Bring the store up to date: migrate it, then publish the repository's versions into it."""

from __future__ import annotations

from tracker import migrations
from tracker.settings import Settings
from tracker.store import PublishResult, Store, publish


def sync(settings: Settings, store: Store) -> PublishResult:
    """Read versions from git (``tracker.history``) and upsert them, idempotently.

    A version stored with another SHA-256 is refused (``Conflict`` naming both hashes).
    """
    from tracker.history import read_catalog

    catalog = read_catalog(
        settings.repository, source=settings.source, ref=settings.ref, drafts=False
    )
    policies = list(catalog)
    return store.write(lambda session: publish(session, policies))


def prepare(
    settings: Settings, *, sync_repository: bool = True
) -> tuple[Store, PublishResult | None]:
    """Create and migrate the database if needed, and sync from the repository."""
    store = Store.open(settings)
    try:
        migrations.upgrade(store.engine)
        result = sync(settings, store) if sync_repository else None
    except BaseException:
        store.dispose()
        raise
    return store, result
