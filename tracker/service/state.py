"""What the app holds while it runs: settings, the store, the catalog cache, the clock."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from tracker.service.fast_pg import PostgresReads, UserReads
from tracker.settings import Settings
from tracker.store import Snapshot, SnapshotCache, Store
from tracker.store.keys import KeyInfo, authenticate
from tracker.timeline import utcnow


@dataclass
class AppState:
    settings: Settings
    store: Store
    clock: Callable[[], datetime] = utcnow
    snapshots: SnapshotCache = field(default_factory=SnapshotCache)
    #: Quick reads run on the event loop (SQLite in WAL mode: readers never block).
    inline_reads: bool = False
    #: Status answers sent by ``tracker.service.fast`` (in front of the router).
    fast_answers: int = 0
    #: PostgreSQL: the async pool the status reads use on the event loop (the lifespan
    #: opens it).
    postgres: PostgresReads | None = None
    #: PostgreSQL: single-user status reads waiting to share a statement (``fast``).
    postgres_users: UserReads | None = None

    #: API keys checked recently, by the SHA-256 of the key: (checked at, key).
    keys: dict[str, tuple[float, KeyInfo]] = field(default_factory=dict)
    #: The connection each thread keeps for inline reads, and all of them (to close).
    _kept: threading.local = field(default_factory=threading.local)
    _kept_all: list[Connection] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.inline_reads = self.store.dialect == "sqlite"
        self._zone = self.settings.zone

    @contextmanager
    def inline_read(self) -> Iterator[Session]:
        """A read session on a connection this thread keeps between reads, for the quick
        reads run on the event loop: a pool checkout and return costs more than a status
        query. Each read is still its own transaction (the session's)."""
        with self.store.reads(bind=self.kept_connection()) as session:
            yield session

    def kept_connection(self) -> Connection:
        """The connection this thread keeps for inline reads (opened on first use)."""
        conn: Connection | None = getattr(self._kept, "connection", None)
        if conn is None or conn.closed or conn.invalidated:
            conn = self.store.engine.connect()
            self._kept.connection = conn
            self._kept.driver = conn.connection.driver_connection
            self._kept_all.append(conn)
        return conn

    def kept_driver_connection(self) -> Any:
        """The DB-API connection under ``kept_connection`` (SQLite: autocommit)."""
        conn: Connection | None = getattr(self._kept, "connection", None)
        if conn is None or conn.closed or conn.invalidated:
            conn = self.kept_connection()
        return self._kept.driver

    def close(self) -> None:
        """Give back the connections kept for inline reads (at shutdown)."""
        for conn in self._kept_all:
            conn.close()
        self._kept_all.clear()

    async def database_answers(self) -> bool:
        """Whether the database answers a query (``/healthz``): on PostgreSQL within
        ``pool_timeout`` on the async pool, on SQLite on the connection kept for reads."""
        if self.postgres is not None:
            return await self.postgres.answers()
        try:
            self.kept_driver_connection().execute("SELECT 1").fetchall()
        except Exception:
            return False
        return True

    def snapshot(self, session: Session) -> Snapshot:
        """The catalog for a read (at most ``catalog_cache_seconds`` old)."""
        return self.snapshots.get(session, max_age=self.settings.catalog_cache_seconds)

    def recent_snapshot(self) -> Snapshot | None:
        """The catalog if it was checked within ``catalog_cache_seconds``, else None."""
        return self.snapshots.recent(self.settings.catalog_cache_seconds)

    def authenticate(self, session: Session, token: str) -> KeyInfo | None:
        digest = hashlib.sha256(token.encode("utf-8")).hexdigest()
        now = time.monotonic()
        cached = self.keys.get(digest)
        if cached is not None and now - cached[0] < self.settings.auth_cache_seconds:
            return cached[1]
        key = authenticate(session, token)
        self._remember(digest, now, key)
        return key

    def recent_key(self, token: str) -> KeyInfo | None:
        """The key of ``token`` if it was checked recently (no database read), else None."""
        cached = self.keys.get(hashlib.sha256(token.encode("utf-8")).hexdigest())
        if cached is not None and time.monotonic() - cached[0] < self.settings.auth_cache_seconds:
            return cached[1]
        return None

    def known_key(self, token: str) -> KeyInfo | None:
        """The key of ``token`` if this process has checked it, however long ago (for reads
        that check the key's row themselves), else None."""
        cached = self.keys.get(hashlib.sha256(token.encode("utf-8")).hexdigest())
        return cached[1] if cached is not None else None

    def _remember(self, digest: str, now: float, key: KeyInfo | None) -> None:
        if key is None:
            self.keys.pop(digest, None)
            return
        if len(self.keys) >= 10_000:  # many keys in use: start over rather than grow
            self.keys.clear()
        self.keys[digest] = (now, key)

    def forget_key(self, token: str) -> None:
        """A key found revoked: check it again on its next use."""
        self.keys.pop(hashlib.sha256(token.encode("utf-8")).hexdigest(), None)

    def forget_keys(self) -> None:
        """After a revocation in this process: check every key again."""
        self.keys.clear()

    def now(self) -> datetime:
        return self.clock()

    def today(self) -> date:
        """Today in the publisher's time zone: the day that decides which version is in force."""
        return self.clock().astimezone(self._zone).date()
