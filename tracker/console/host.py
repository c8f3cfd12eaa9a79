"""What the console needs of the app it is served by (``request.app.state.tracker``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol

from sqlalchemy.orm import Session
from starlette.requests import Request

from tracker.settings import Settings
from tracker.store import Snapshot, SnapshotCache, Store


class Host(Protocol):
    settings: Settings
    store: Store
    snapshots: SnapshotCache

    def now(self) -> datetime: ...

    def today(self) -> date: ...

    def snapshot(self, session: Session) -> Snapshot: ...

    def forget_keys(self) -> None: ...


def host(request: Request) -> Host:
    found: Host = request.app.state.tracker
    return found
