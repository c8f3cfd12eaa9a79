"""Status reads on PostgreSQL on the event loop: one round trip on an async connection pool.

The routed status endpoint runs in the thread pool on a SQLAlchemy session: a thread hop,
a pool checkout with a ping, BEGIN, a query for consents, one for notices, COMMIT. Here the
same answer takes one prepared statement (``tracker.store.sql_postgresql.STATUS_READ``) on an
autocommit connection of psycopg's ``AsyncConnectionPool``, awaited on the event loop. The
statement also reads the catalog's revision and the API key's row, so this path checks
both on every request, more often than the routed one does (which trusts them for
``catalog_cache_seconds`` and ``auth_cache_seconds``): an answer is sent only when the
snapshot it is encoded from is the stored catalog and the key is not revoked. Otherwise
the router answers the same request.

psycopg rather than asyncpg: the same driver as the rest of the store (the same value
types, so the same bytes), and no faster here (the statement above, 8 concurrent clients
on this machine: 4,380 and 4,430 queries/s against asyncpg's 3,610 and 4,700).

When PostgreSQL stops answering, this path steps aside (the routed path answers 503 with
``Retry-After`` until it is back) and a probe tries a new connection every half second;
when one opens, a fresh pool replaces the old one, whose connections are all broken and
whose own reconnection backs off for up to minutes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool, PoolTimeout
from sqlalchemy import Engine

from tracker.settings import Settings
from tracker.store import sql_postgresql
from tracker.store.catalog import Snapshot
from tracker.store.engine import StoreUnavailable
from tracker.store.keys import KeyInfo

log = logging.getLogger("tracker.service")

#: Seconds between attempts to reach PostgreSQL again while it is down.
PROBE_SECONDS = 0.5
#: Single-user status statements in flight at once, per process (``UserReads``): one
#: serves a 2-core machine best; the statement carries more users as load grows.
USER_READS = 1


def connect_params(engine: Engine, settings: Settings) -> dict[str, Any]:
    """libpq parameters of the engine's URL (host, port, dbname, user, options…)."""
    _, params = engine.dialect.create_connect_args(engine.url)
    params.pop("context", None)  # SQLAlchemy's adapters: not needed for these reads
    params["connect_timeout"] = max(2, settings.connect_timeout)
    return dict(params)


async def _configure(conn: psycopg.AsyncConnection[Any]) -> None:
    """A new connection of the pool: the acceptance function of this code, in its
    ``pg_temp`` (``sql_postgresql.ACCEPT_FUNCTION``)."""
    await conn.execute(sql_postgresql.ACCEPT_FUNCTION)


class PostgresReads:
    """An async pool of autocommit connections for the status reads, and whether
    PostgreSQL is answering."""

    def __init__(self, engine: Engine, settings: Settings):
        self.params = connect_params(engine, settings)
        self.size = max(1, settings.pool_size)
        self.timeout = settings.pool_timeout
        self.pool: AsyncConnectionPool | None = None
        #: False until a connection opened, and from a connection error until one opens.
        self.up = False
        self._probe: asyncio.Task[None] | None = None
        self._retired: set[asyncio.Task[None]] = set()

    async def open(self) -> None:
        """Open the pool when PostgreSQL answers, else start probing for it (the service
        starts with PostgreSQL down, and answers 503 until it is back)."""
        if await self._reachable():
            await self._replace_pool()
        else:
            self._start_probe()

    async def close(self) -> None:
        if self._probe is not None:
            self._probe.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._probe
        for task in list(self._retired):
            with contextlib.suppress(Exception):
                await task
        if self.pool is not None:
            await self.pool.close(timeout=1)
            self.pool = None

    async def fetch(
        self, sql: str, params: dict[str, Any] | Sequence[Any]
    ) -> Sequence[tuple[Any, ...]]:
        """The rows of one prepared statement. ``StoreUnavailable`` when no connection
        was free within ``pool_timeout``; a connection error marks the database down."""
        pool = self.pool
        if pool is None:
            raise StoreUnavailable("the database is not answering; retry shortly")
        try:
            async with pool.connection(timeout=self.timeout) as conn:
                cursor = await conn.execute(sql, params, prepare=True)
                return await cursor.fetchall()
        except PoolTimeout:
            raise StoreUnavailable(
                "no database connection was free in time; retry shortly"
            ) from None
        except (psycopg.OperationalError, psycopg.InterfaceError):
            self.down()
            raise

    def down(self) -> None:
        """PostgreSQL stopped answering: step aside until a probe reaches it again."""
        if self.up:
            log.warning("PostgreSQL is not answering; status reads go through the router")
        self.up = False
        self._start_probe()

    def _start_probe(self) -> None:
        if self._probe is None or self._probe.done():
            self._probe = asyncio.get_running_loop().create_task(self._reconnect())

    async def _reachable(self) -> bool:
        try:
            conn = await psycopg.AsyncConnection.connect(**self.params, autocommit=True)
        except psycopg.Error:
            return False
        await conn.close()
        return True

    async def _reconnect(self) -> None:
        while not await self._reachable():
            await asyncio.sleep(PROBE_SECONDS)
        await self._replace_pool()

    async def _replace_pool(self) -> None:
        old, self.pool = self.pool, self._new_pool()
        await self.pool.open(wait=False)
        self.up = True
        if old is not None:
            task = asyncio.get_running_loop().create_task(old.close(timeout=0))
            self._retired.add(task)
            task.add_done_callback(self._retired.discard)

    def _new_pool(self) -> AsyncConnectionPool:
        return AsyncConnectionPool(
            "",
            kwargs={**self.params, "autocommit": True, "prepare_threshold": 0},
            configure=_configure,
            min_size=1,
            max_size=self.size,
            timeout=self.timeout,
            open=False,
            name="tracker-status-reads",
        )

    async def answers(self) -> bool:
        """Whether PostgreSQL answers a query within ``pool_timeout`` (``/healthz``)."""
        if not self.up:
            return False
        try:
            await asyncio.wait_for(self.fetch("SELECT 1", {}), self.timeout)
        except Exception:
            return False
        return True


Checked = tuple[Snapshot, KeyInfo, str]
#: Reads the answers of some users in one statement, asked the same way (None: the router
#: answers).
ReadPart = Callable[[Checked, list[str], Any], Awaitable[list[bytes] | None]]
Waiting = list[tuple[str, "asyncio.Future[bytes | None]"]]


class UserReads:
    """Single-user status reads: several asked the same way with one key in a statement.

    At most ``limit`` statements are in flight. A request that comes while they are waits,
    and goes with the other requests of its key asked the same way (the same policy and
    locale, ``group``) that waited (up to ``most``) in the next statement, sent as soon as
    one in flight returns. An idle service sends each request's
    statement at once, as before; a busy one sends one statement for several users
    instead of one each: one round trip, one check of the key and the catalog, one pass of
    the driver. Each user's answer is the bytes it has alone (the same encoder, the same
    rows). Measured (``benchmarks/status.py``, PostgreSQL, 8 clients, quiet machine, one
    run after the other): 7,405 requests/s, p99 2.7 ms, with one statement in flight;
    5,825 and 4,335, p99 3.0 and 6.1 ms, with two (two runs); and under load (4-5),
    3,715, p99 23 ms, with one statement per request.
    """

    def __init__(self, read: ReadPart, limit: int = USER_READS, most: int = 2_500):
        self.read = read
        self.limit = max(1, limit)
        self.most = max(1, most)
        #: Statements in flight.
        self.busy = 0
        #: Statements sent for more than one user (the tests look).
        self.shared = 0
        #: (key id, group) → (the freshest check of that key, how asked, the requests waiting)
        self.waiting: dict[tuple[int, Hashable], tuple[Checked, Any, Waiting]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def __call__(
        self, checked: Checked, user: str, how: Any = None, group: Hashable = None
    ) -> bytes | None:
        """One user's answer (None: the router answers). ``how``: what ``read`` is given
        besides the users; ``group``: what requests must share to share a statement."""
        if self.busy < self.limit:
            self.busy += 1
            try:
                found = await self.read(checked, [user], how)
            finally:
                self._next()
            return found[0] if found else None
        future: asyncio.Future[bytes | None] = asyncio.get_running_loop().create_future()
        key = (checked[1].id, group)
        queued = self.waiting[key][2] if key in self.waiting else []
        queued.append((user, future))
        self.waiting[key] = (checked, how, queued)
        return await future

    def _next(self) -> None:
        """A statement returned: send the longest-waiting key's requests in its place."""
        if not self.waiting:
            self.busy -= 1
            return
        key = next(iter(self.waiting))
        checked, how, queued = self.waiting.pop(key)
        if len(queued) > self.most:  # the rest wait behind the others
            self.waiting[key] = (checked, how, queued[self.most :])
            queued = queued[: self.most]
        task = asyncio.ensure_future(self._send(checked, how, queued))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, checked: Checked, how: Any, queued: Waiting) -> None:
        try:
            users = list(dict.fromkeys(user for user, _ in queued))
            self.shared += len(users) > 1
            found = await self.read(checked, users, how)
            answers = dict(zip(users, found, strict=True)) if found is not None else {}
            for user, future in queued:
                if not future.done():
                    future.set_result(answers.get(user))
        except Exception as exc:  # each request answers it (a 503 when the database is down)
            for _, future in queued:
                if not future.done():
                    future.set_exception(exc)
        except BaseException:
            for _, future in queued:
                future.cancel()
            raise
        finally:
            self._next()
