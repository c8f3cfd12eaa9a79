"""The tracker's store: SQLAlchemy 2 models, engine and session factories, set-based queries.

Writes go through ``Store.write(fn)`` (one transaction, retried whole on transient
conflicts; group-committed on SQLite); reads through ``with store.read() as session``.
"""

from tracker.store import (  # their tables, on Base like the rest
    audit_models,
    console,
    counts,
    dashboard,
    links,
    translations,
)
from tracker.store.catalog import PolicyInfo, Snapshot, SnapshotCache, VersionInfo, load_snapshot
from tracker.store.engine import Store, make_engine, normalise_url
from tracker.store.models import Base, EventKind, Method
from tracker.store.publish import PublishResult, publish

__all__ = [
    "Base",
    "EventKind",
    "Method",
    "PolicyInfo",
    "PublishResult",
    "Snapshot",
    "SnapshotCache",
    "Store",
    "VersionInfo",
    "audit_models",
    "console",
    "counts",
    "dashboard",
    "links",
    "load_snapshot",
    "make_engine",
    "normalise_url",
    "publish",
    "translations",
]
