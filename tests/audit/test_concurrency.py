"""Concurrent writers on PostgreSQL (and SQLite) never fork the chain or leave gaps."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from sqlalchemy import select

from tests.audit.helpers import publish
from tracker.audit import operations as ops
from tracker.audit.ledger import chain_notice_ack  # noqa: F401  (the hook notices call)
from tracker.audit.sealer import flush
from tracker.settings import Settings
from tracker.store import Store, load_snapshot
from tracker.store.events import NewEvent, record
from tracker.store.models import EventRow


def test_concurrent_writers_keep_one_unbroken_chain(
    api: object, store: Store, settings: Settings
) -> None:
    publish(api)
    with store.read() as session:
        snapshot = load_snapshot(session)
    policy = snapshot.policy("privacy")
    version = policy.version(1)
    writers, each = 16, 25
    barrier = threading.Barrier(writers)
    # Separate engines: like separate service processes, each with its own pool.
    stores = [Store.open(settings) for _ in range(4)]

    def write(w: int) -> None:
        target = stores[w % len(stores)]
        barrier.wait()
        for i in range(each):
            new = NewEvent(user_id=f"w{w}-u{i}", kind="accepted", method="api", api_key_id=None)
            now = datetime.now(UTC)
            target.write(lambda s, n=new, t=now: record(s, snapshot, policy, version, n, t))

    try:
        with ThreadPoolExecutor(writers) as pool:
            list(pool.map(write, range(writers)))
        for s in stores:
            flush(s.engine)
    finally:
        for s in stores:
            s.dispose()
    with store.read() as session:
        seqs = sorted(session.scalars(select(EventRow.chain_seq)))
    assert seqs == list(range(1, writers * each + 1))
    report = ops.verify(store, settings)
    assert report.ok, report.message
    assert report.last_seq == writers * each
