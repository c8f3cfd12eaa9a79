"""What the app holds while it runs: settings, the store, the catalog cache, the clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from tracker.settings import Settings
from tracker.store import SnapshotCache, Store


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class AppState:
    settings: Settings
    store: Store
    clock: Callable[[], datetime] = utcnow
    snapshots: SnapshotCache = field(default_factory=SnapshotCache)

    def now(self) -> datetime:
        return self.clock()

    def today(self) -> date:
        return self.clock().astimezone(UTC).date()
