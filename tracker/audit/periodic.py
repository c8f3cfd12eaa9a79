"""The service's own checkpoints and retention purges, every so many seconds.

Started in the app's lifespan when ``audit_checkpoint_seconds`` or ``audit_purge_seconds``
is above 0, cancelled at shutdown. The work runs in a thread (it is database work); a
failure is logged and tried again next time, never ending the loop or the service.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from tracker.audit.checkpoints import checkpoint
from tracker.audit.retention import purge as purge_expired
from tracker.errors import TrackerError
from tracker.settings import Settings
from tracker.store import Store

log = logging.getLogger(__name__)


async def every(seconds: float, name: str, work: Callable[[], object]) -> None:
    """Run ``work`` in a thread every ``seconds`` until cancelled (``name`` for the log)."""
    while True:
        await asyncio.sleep(seconds)
        try:
            await asyncio.to_thread(work)
        except TrackerError as exc:  # e.g. nothing to checkpoint yet: say so, go on
            log.info("%s skipped: %s", name, exc)
        except Exception:
            log.exception("%s failed; trying again in %s s", name, seconds)


def start(
    store: Store, settings: Settings, clock: Callable[[], datetime]
) -> list[asyncio.Task[None]]:
    """The periodic tasks the settings ask for (none by default)."""
    tasks: list[asyncio.Task[None]] = []
    if settings.audit_checkpoint_seconds > 0:
        work = lambda: checkpoint(store, settings, clock())  # noqa: E731
        tasks.append(
            asyncio.create_task(
                every(settings.audit_checkpoint_seconds, "audit checkpoint", work),
                name="audit-checkpoint",
            )
        )
    if settings.audit_purge_seconds > 0:
        purge = lambda: purge_expired(store, settings, clock())  # noqa: E731
        tasks.append(
            asyncio.create_task(
                every(settings.audit_purge_seconds, "audit purge", purge), name="audit-purge"
            )
        )
    return tasks


async def stop(tasks: list[asyncio.Task[None]]) -> None:
    """Cancel the tasks and wait for them (work already in a thread finishes first)."""
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
