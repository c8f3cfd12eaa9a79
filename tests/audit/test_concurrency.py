"""Concurrent writers on PostgreSQL (and SQLite) never fork the chain or leave gaps."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from tests.audit.helpers import publish
from tracker import audit
from tracker.settings import Settings
from tracker.store import Store, load_snapshot
from tracker.store.audit_models import AuditRecordRow
from tracker.store.chain import chain_disabled
from tracker.store.events import NewEvent, record
from tracker.store.models import EventRow
from tracker.store.sealer import LOCK_HEAD, flush


def _sealed(values: Iterable[int | None]) -> list[int]:
    """Chain sequence numbers in order; an event left unsealed (None) fails the test."""
    found = list(values)
    assert None not in found, found
    return sorted(v for v in found if v is not None)


T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


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
            target.write(
                partial(record, snapshot=snapshot, policy=policy, version=version, new=new, now=now)
            )

    try:
        with ThreadPoolExecutor(writers) as pool:
            list(pool.map(write, range(writers)))
        for s in stores:
            flush(s.engine)
    finally:
        for s in stores:
            s.dispose()
    with store.read() as session:
        seqs = _sealed(session.scalars(select(EventRow.chain_seq)))
    assert seqs == list(range(1, writers * each + 1))
    report = audit.verify(store, settings)
    assert report.ok, report.message
    assert report.last_seq == writers * each


def test_purge_and_erasure_beside_writers_neither_deadlock_nor_break_the_chain(
    api: object, store: Store, settings: Settings
) -> None:
    """Purge and erasure rewrite event rows while sealing passes run (PostgreSQL: on a
    thread); both take the chain head first, so neither waits on the other's rows."""
    publish(api)
    with store.read() as session:
        snapshot = load_snapshot(session)
    policy = snapshot.policy("privacy")
    version = policy.version(1)
    settings = replace(
        settings, retention_ip_days=1, retention_user_agent_days=1, retention_context_days=1
    )

    def event(user: str) -> NewEvent:
        return NewEvent(
            user_id=user,
            kind="accepted",
            method="api",
            api_key_id=None,
            ip="192.0.2.7",
            user_agent="Firefox/140.0",
            context={"page": "/signup"},
        )

    def accepting(user: str) -> Callable[[Session], object]:
        return partial(
            record, snapshot=snapshot, policy=policy, version=version, new=event(user), now=T0
        )

    victims = [f"victim{i}" for i in range(6)]
    for user in victims:
        store.write(accepting(user))
    writers, each = 6, 30
    stores = [Store.open(settings) for _ in range(3)]
    later = T0 + timedelta(days=30)
    erased: list[str] = []

    def write(w: int) -> None:
        target = stores[w % len(stores)]
        for i in range(each):
            user = victims[i % len(victims)] if i % 5 == 0 else f"w{w}-u{i}"
            target.write(accepting(user))

    def rewrite() -> None:
        for user in victims:
            audit.purge(stores[0], settings, later)
            erased.append(audit.erase(stores[1], user, later)["pseudonym"])

    try:
        with ThreadPoolExecutor(writers + 1) as pool:
            done = [pool.submit(write, w) for w in range(writers)] + [pool.submit(rewrite)]
            for future in done:
                future.result(timeout=120)
        for s in stores:
            flush(s.engine)
    finally:
        for s in stores:
            s.dispose()
    audit.seal(store)  # anything a disposed engine's sealer left
    with store.read() as session:
        events = list(session.scalars(select(EventRow.chain_seq)))
        entries = list(session.scalars(select(AuditRecordRow.seq)))
    # Events and the purge and erasure entries share one sequence, without gaps.
    # Every write made an event (a victim's repeated acceptance of the version they
    # accepted is not one), and every event is sealed.
    assert len(events) >= writers * (each - each // 5) + len(victims)
    assert sorted(_sealed(events) + entries) == list(range(1, len(events) + len(entries) + 1))
    assert len(erased) == len(victims)
    report = audit.verify(store, settings)
    assert report.ok, report.message


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("rewrite", ["erase", "purge"])
def test_a_rewrite_of_event_rows_takes_the_head_before_it_touches_them(
    api: object, store: Store, settings: Settings, rewrite: str
) -> None:
    """A sealing pass holds the head while it updates events, so a purge or erasure that
    locked event rows and then waited for the head would deadlock with it. While another
    transaction holds the head, a started rewrite must not have locked a single row."""
    publish(api)
    with store.read() as session:
        snapshot = load_snapshot(session)
    policy = snapshot.policy("privacy")
    new = NewEvent(
        user_id="victim",
        kind="accepted",
        method="api",
        api_key_id=None,
        ip="192.0.2.7",
        user_agent="Firefox/140.0",
    )
    store.write(lambda s: record(s, snapshot, policy, policy.version(1), new, T0))
    flush(store.engine)
    settings = replace(settings, retention_ip_days=1, retention_user_agent_days=1)
    later = T0 + timedelta(days=30)
    failures: list[BaseException] = []

    def run() -> None:
        try:
            if rewrite == "erase":
                audit.erase(store, "victim", later)
            else:
                assert audit.purge(store, settings, later).ip == 1
        except BaseException as exc:  # reported by the test below
            failures.append(exc)

    with store.engine.connect() as holder, store.engine.connect() as probe:
        holder.begin()
        holder.execute(LOCK_HEAD)
        holder_pid = holder.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        worker = threading.Thread(target=run)
        worker.start()
        deadline = time.monotonic() + 20
        while not probe.execute(
            text("SELECT count(*) FROM pg_stat_activity WHERE :p = ANY(pg_blocking_pids(pid))"),
            {"p": holder_pid},
        ).scalar_one():
            assert time.monotonic() < deadline, "the rewrite never waited for the head"
            probe.rollback()
            time.sleep(0.02)
        probe.rollback()
        with probe.begin():  # raises LockNotAvailable if the rewrite holds event rows
            probe.execute(select(EventRow.id).with_for_update(nowait=True)).all()
        holder.rollback()
        worker.join(timeout=60)
    assert not failures, failures
    report = audit.verify(store, settings)
    assert report.ok, report.message


def test_a_rolled_back_write_and_another_process_leave_no_gap(
    api: object, store: Store, settings: Settings
) -> None:
    """On SQLite a connection keeps the head it last wrote; a write rolled back after it
    was chained, and writes from another process (a second store on the same database),
    make that head stale, and the next event must still follow the stored one."""
    publish(api)
    with store.read() as session:
        snapshot = load_snapshot(session)
    policy = snapshot.policy("privacy")
    version = policy.version(1)

    def event(user: str) -> NewEvent:
        return NewEvent(user_id=user, kind="accepted", method="api", api_key_id=None)

    def accepting(user: str) -> Callable[[Session], object]:
        return partial(
            record, snapshot=snapshot, policy=policy, version=version, new=event(user), now=T0
        )

    def chained_then_failed(session: Any) -> None:
        record(session, snapshot, policy, version, event("rolled-back"), T0)
        raise RuntimeError("the unit fails after its event was chained")

    other = Store.open(settings)
    try:
        for i in range(4):
            store.write(accepting(f"a{i}"))
            with pytest.raises(RuntimeError, match="after its event was chained"):
                store.write(chained_then_failed)
            other.write(accepting(f"b{i}"))
        flush(other.engine)
    finally:
        other.dispose()
    flush(store.engine)
    with store.read() as session:
        seqs = _sealed(session.scalars(select(EventRow.chain_seq)))
        users = set(session.scalars(select(EventRow.user_id)))
    assert seqs == list(range(1, 9))
    assert "rolled-back" not in users
    report = audit.verify(store, settings)
    assert report.ok and report.last_seq == 8, report.message


def test_a_row_written_without_the_chain_is_never_pending(
    api: object, store: Store, settings: Settings
) -> None:
    """Its commitments are JSON null, not SQL NULL: it is no event to seal, and passes
    must go on sealing the others rather than fail on it (the benchmark's baseline writes
    such rows beside chained ones)."""
    publish(api)
    with store.read() as session:
        snapshot = load_snapshot(session)
    policy = snapshot.policy("privacy")
    version = policy.version(1)

    def write(user: str) -> None:
        new = NewEvent(user_id=user, kind="accepted", method="api", api_key_id=None)
        store.write(lambda s: record(s, snapshot, policy, version, new, T0))

    with chain_disabled():
        write("unchained")
    write("chained")
    flush(store.engine)
    with store.read() as session:
        rows = {u: s for u, s in session.execute(select(EventRow.user_id, EventRow.chain_seq))}
    assert rows == {"unchained": None, "chained": 1}
    assert audit.seal(store) == 0
