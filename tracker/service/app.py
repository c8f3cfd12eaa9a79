"""``create_app(settings) -> Starlette``: nothing happens at import."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

from tracker.audit import periodic
from tracker.console import tally
from tracker.service.fast import TrackerApp, unavailable, user_reader
from tracker.service.fast_pg import PostgresReads, UserReads
from tracker.service.hosted.clientip import proxy_middleware
from tracker.service.problems import EXCEPTION_HANDLERS
from tracker.service.routes import MIDDLEWARE, routes
from tracker.service.state import AppState
from tracker.settings import Settings
from tracker.store import Store
from tracker.store.engine import StoreUnavailable
from tracker.timeline import utcnow

log = logging.getLogger("tracker.service")


def create_app(
    settings: Settings,
    *,
    store: Store | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> Starlette:
    """The tracker's ASGI app. The lifespan opens the store (unless one is given) and
    closes what it opened; the database must already be migrated (``db upgrade``)."""

    middleware = [*proxy_middleware(settings.trusted_proxies), *MIDDLEWARE]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        own = store is None
        opened = Store.open(settings) if store is None else store
        state = app.state.tracker = AppState(settings, opened, clock)
        if opened.dialect == "postgresql":
            state.postgres = PostgresReads(opened.engine, settings)
            state.postgres_users = UserReads(user_reader(state))
            await state.postgres.open()
        audit_tasks = periodic.start(opened, settings, clock) + tally.start(opened)
        try:
            yield
        finally:
            await periodic.stop(audit_tasks)
            if state.postgres is not None:
                await state.postgres.close()
            state.close()
            if own:
                opened.dispose()

    return TrackerApp(
        routes=routes(settings.site_path),
        middleware=middleware,
        exception_handlers={**EXCEPTION_HANDLERS, **UNAVAILABLE_HANDLERS},
        lifespan=lifespan,
    )


async def database_unavailable(request: Request, exc: Exception) -> Response:
    """A 503 with ``Retry-After`` when the database does not answer (down, restarting, a
    connection lost) or no connection was free within ``pool_timeout``: a client may retry
    the request as it is (nothing was recorded)."""
    log.warning("%s %s: %s", request.method, request.url.path, str(exc).splitlines()[0])
    if isinstance(exc, StoreUnavailable):
        return unavailable(exc.message)
    if isinstance(exc, PoolTimeout):
        return unavailable("no database connection was free in time; retry shortly")
    return unavailable("the database is not answering; retry shortly")


UNAVAILABLE_HANDLERS = {
    StoreUnavailable: database_unavailable,
    PoolTimeout: database_unavailable,
    OperationalError: database_unavailable,
    InterfaceError: database_unavailable,
}
