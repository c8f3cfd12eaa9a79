"""The service's own compaction of the console's counts on PostgreSQL.

There the triggers append a row per change to the delta tables (``tracker.store.counts``),
and every view adds those up: folded into the counts every ``COMPACT_SECONDS``, they stay a
few seconds' worth. SQLite adds to the counts directly; nothing to run.
"""

from __future__ import annotations

import asyncio

from tracker.audit.periodic import every
from tracker.store import Store, counts

COMPACT_SECONDS = 5.0


def start(store: Store) -> list[asyncio.Task[None]]:
    """The compaction task (PostgreSQL), cancelled with ``tracker.audit.periodic.stop``."""
    if store.dialect != "postgresql":
        return []
    work = lambda: store.write(counts.compact)  # noqa: E731
    return [
        asyncio.create_task(
            every(COMPACT_SECONDS, "console counts compaction", work), name="console-counts"
        )
    ]
