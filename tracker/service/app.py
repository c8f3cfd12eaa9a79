"""``create_app(settings) -> Starlette``: nothing happens at import."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

from starlette.applications import Starlette

from tracker.audit import periodic
from tracker.service.fast import TrackerApp
from tracker.service.problems import EXCEPTION_HANDLERS
from tracker.service.routes import MIDDLEWARE, routes
from tracker.service.state import AppState, utcnow
from tracker.settings import Settings
from tracker.store import Store


def create_app(
    settings: Settings,
    *,
    store: Store | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> Starlette:
    """The tracker's ASGI app. The lifespan opens the store (unless one is given) and
    closes what it opened; the database must already be migrated (``db upgrade``)."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        own = store is None
        opened = Store.open(settings) if store is None else store
        app.state.tracker = AppState(settings, opened, clock)
        audit_tasks = periodic.start(opened, settings, clock)
        try:
            yield
        finally:
            await periodic.stop(audit_tasks)
            app.state.tracker.close()
            if own:
                opened.dispose()

    return TrackerApp(
        routes=routes(settings.site_path),
        middleware=MIDDLEWARE,
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=lifespan,
    )
