"""Engines and session factories for SQLite and PostgreSQL.

SQLite runs in WAL mode with foreign keys on and a busy timeout. Writes take the write lock
up front (``BEGIN IMMEDIATE``) so that two writers never deadlock upgrading a read lock,
and ``Store.write`` retries the whole unit of work on a lock timeout, a serialization
failure or a lost race on a unique key, so that no client ever sees "database is locked".
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from tracker.errors import TrackerError
from tracker.settings import Settings

T = TypeVar("T")

_WRITE = "tracker_write"


class StoreUnavailable(TrackerError):
    status = 503
    code = "store_unavailable"


def normalise_url(url: str) -> str:
    """``postgresql://`` and ``postgres://`` URLs use psycopg 3."""
    for scheme in ("postgres://", "postgresql://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme) :]
    return url


def make_engine(settings: Settings, url: str | None = None) -> Engine:
    url = normalise_url(url or settings.database_url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, settings)
    return create_engine(
        url,
        pool_size=settings.pool_size,
        max_overflow=settings.pool_size,
        pool_timeout=settings.pool_timeout,
        # No ping before each checkout (a round trip on every request): a connection found
        # broken invalidates the whole pool, its request gets a 503 with Retry-After, and
        # the next ones connect anew.
        connect_args={"connect_timeout": max(2, settings.connect_timeout)},
    )


def _sqlite_engine(url: str, settings: Settings) -> Engine:
    parsed = make_url(url)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"timeout": settings.sqlite_busy_timeout, "check_same_thread": False},
        pool_size=settings.pool_size,
        max_overflow=settings.pool_size * 4,
    )
    synchronous = settings.sqlite_synchronous.upper()
    if synchronous not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
        raise TrackerError(
            f"sqlite_synchronous must be OFF, NORMAL, FULL or EXTRA, not {synchronous}"
        )
    busy_ms = int(settings.sqlite_busy_timeout * 1000)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite would defer it).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        # Deleted and overwritten content is zeroed in the file, not left in free space:
        # an erased id must not stay readable (this build may default to it; say so).
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        write = connection.get_execution_options().get(_WRITE, False)
        # Straight to the driver: this runs for every transaction, on the hot paths too.
        connection.connection.driver_connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def _retryable(exc: DBAPIError) -> bool:
    if isinstance(exc, IntegrityError):
        return True  # a lost race on a unique key: the retry sees the winner's row
    if isinstance(exc, OperationalError):
        message = str(exc.orig).lower()
        if "database is locked" in message or "database is busy" in message:
            return True
    sqlstate = getattr(exc.orig, "sqlstate", None)
    return sqlstate in {"40001", "40P01"}  # serialization failure, deadlock


@dataclass
class _Pending:
    """One unit of work waiting for a group commit."""

    work: Callable[[Session], Any]
    done: threading.Event = field(default_factory=threading.Event)
    result: Any = None
    error: BaseException | None = None


#: Most units of work committed together on SQLite.
GROUP_LIMIT = 64
#: Longest a leader waits for writers it expects (the last group was larger than its own):
#: much less than the fsync a group of their own would cost.
GATHER_SECONDS = 0.002


class _UnitFailed(Exception):
    """A unit of work failed in a group run without savepoints."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


@dataclass
class Store:
    """An engine with a read and a write session factory.

    On SQLite, writes are *group-committed*: SQLite has one writer at a time and each commit
    costs an fsync, so the writers of this process queue, and whichever takes the write
    lock runs every queued unit of work in one transaction (a failing unit rolls back alone:
    see ``_run_group``), then commits once and hands each caller its own result or error. No
    caller returns before the commit that holds its work; the synchronous setting (FULL by
    default) is untouched, so a returned write is as durable as a lone one.
    """

    engine: Engine
    reads: sessionmaker[Session]
    writes: sessionmaker[Session]
    attempts: int = 12
    _group: bool = False
    _queue: deque[_Pending] = field(default_factory=deque)
    #: Guards the queue, ``_leading`` and ``_last_group``.
    _mutex: threading.RLock = field(default_factory=threading.RLock)
    #: Notified when a leader is done.
    _turn: threading.Condition = field(init=False)
    #: Notified when a writer queues.
    _arrived: threading.Condition = field(init=False)
    _leading: bool = False
    #: How many units the last group held.
    _last_group: int = 0

    def __post_init__(self) -> None:
        self._turn = threading.Condition(self._mutex)
        self._arrived = threading.Condition(self._mutex)

    @classmethod
    def open(cls, settings: Settings, url: str | None = None) -> Store:
        engine = make_engine(settings, url)
        return cls.from_engine(engine)

    @classmethod
    def from_engine(cls, engine: Engine) -> Store:
        reads = sessionmaker(engine, expire_on_commit=False)
        writes = sessionmaker(engine.execution_options(**{_WRITE: True}), expire_on_commit=False)
        return cls(engine, reads, writes, _group=engine.dialect.name == "sqlite")

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self.reads() as session:
            yield session

    def write(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` in a write transaction, retrying it whole on transient conflicts.

        ``work`` must be safe to run again: it sees the database as it is when retried.
        """
        delay = 0.005
        for attempt in range(self.attempts):
            try:
                if self._group:
                    return self._write_grouped(work)
                with self.writes.begin() as session:
                    return work(session)
            except DBAPIError as exc:
                if not _retryable(exc):
                    raise
                if attempt == self.attempts - 1:
                    if isinstance(exc, IntegrityError):
                        raise
                    raise StoreUnavailable("the database is busy; retry the request") from exc
                time.sleep(delay * (1 + random.random()))
                delay = min(delay * 2, 0.5)
        raise AssertionError("unreachable")

    def _write_grouped(self, work: Callable[[Session], T]) -> T:
        item = _Pending(work)
        with self._turn:
            self._queue.append(item)
            self._arrived.notify()
        while not item.done.is_set():
            with self._turn:
                # Sleep until the leader is done: its commit may carry this work. (Polling
                # instead costs every waiter a wake-up a millisecond, which on a busy
                # machine takes the CPU from the leader.)
                while self._leading and not item.done.is_set():
                    self._turn.wait()
                if item.done.is_set():
                    break
                self._leading = True
            try:
                # Lead one group (which holds this caller's work unless the queue is longer
                # than a group), then let a waiting caller lead the next: a leader that
                # stayed on would keep its own caller waiting.
                self._commit_group()
            finally:
                with self._turn:
                    self._leading = False
                    self._turn.notify_all()
        if item.error is not None:
            raise item.error
        return cast(T, item.result)

    def _take(self, count: int) -> list[_Pending]:
        with self._turn:
            count = min(len(self._queue), count)
            return [self._queue.popleft() for _ in range(count)]

    def _commit_group(self) -> None:
        batch = self._take(GROUP_LIMIT)
        if not batch:
            return
        try:
            try:
                outcomes = self._run_group(batch, isolated=False)
            except _UnitFailed as failed:
                # Alone, the unit was its transaction: it has rolled back already.
                outcomes = (
                    [(batch[0], None, failed.error)]
                    if len(batch) == 1
                    else self._run_group(batch, isolated=True)
                )
        except BaseException as exc:  # nothing was committed: every caller gets the error
            for item in batch:
                item.error = exc
                item.done.set()
            if not isinstance(exc, Exception):
                raise
            return
        for item, result, error in outcomes:
            item.result, item.error = result, error
            item.done.set()

    def _run_group(
        self, batch: list[_Pending], *, isolated: bool
    ) -> list[tuple[_Pending, Any, BaseException | None]]:
        """Run ``batch`` (and the writers that queue meanwhile, added to it) in one transaction.

        Units rarely fail, and a savepoint around each costs about as much as the unit, so
        the first run has none: a failing unit raises ``_UnitFailed``, which rolls the whole
        transaction back, and the group runs again ``isolated``, each unit in its own
        savepoint (a failing unit rolls back alone).
        """
        outcomes: list[tuple[_Pending, Any, BaseException | None]] = []
        with self.writes.begin() as session:
            more = list(batch)
            while more:
                for item in more:
                    if not isolated:
                        try:
                            outcomes.append((item, item.work(session), None))
                        except Exception as exc:
                            raise _UnitFailed(exc) from exc
                        continue
                    try:
                        with session.begin_nested():
                            outcomes.append((item, item.work(session), None))
                    except Exception as exc:  # this unit only: its savepoint is rolled back
                        outcomes.append((item, None, exc))
                # Writers that queued while this group ran share its commit (one fsync for
                # all of them) rather than wait for the next. With fewer than the last group
                # held, the others are likely on their way: wait for them, briefly.
                more = self._take(GROUP_LIMIT - len(batch))
                if not more and len(batch) < self._last_group:
                    more = self._gather(self._last_group - len(batch), GROUP_LIMIT - len(batch))
                batch += more
        self._last_group = len(batch)
        return outcomes

    def _gather(self, expected: int, limit: int) -> list[_Pending]:
        deadline = time.monotonic() + GATHER_SECONDS
        with self._mutex:
            while len(self._queue) < expected and (left := deadline - time.monotonic()) > 0:
                self._arrived.wait(left)
            return self._take(limit)

    def scrub(self, tables: Sequence[str]) -> None:
        """Make rows just rewritten unreadable in the database's files, as far as can be
        done without blocking the service (after an erasure or a purge has committed).

        SQLite: ``secure_delete`` already zeroed the old cells in the pages; a checkpoint
        (TRUNCATE) copies the WAL into the main file and empties the WAL, whose frames held
        the pages as they were: nothing is left. PostgreSQL: ``VACUUM`` of ``tables``
        removes the old row versions that no transaction still needs, but their bytes can
        stay in a page's free space and in index pages until ``VACUUM FULL`` rewrites the
        tables (docs/audit.md: the maintenance step, which locks them while it runs).
        Neither reaches backups, replicas or WAL archives.
        """
        if self.dialect == "sqlite":
            with self.engine.connect() as conn:
                raw = conn.connection.driver_connection
                assert raw is not None
                for _ in range(50):
                    busy = raw.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
                    if busy is None or not busy[0]:
                        return
                    time.sleep(0.05)  # a reader holds the WAL: try again shortly
            return
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM " + ", ".join(f'"{t}"' for t in tables))

    def dispose(self) -> None:
        self.engine.dispose()
