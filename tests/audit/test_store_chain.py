"""The chain in the database, on SQLite and PostgreSQL: events join it, tampering shows."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, text, update

from tests.audit.helpers import accept, publish
from tests.service.helpers import Clock
from tracker import audit
from tracker.audit import scan
from tracker.chain.records import GENESIS
from tracker.settings import Settings
from tracker.store import Store
from tracker.store.audit_models import AuditHeadRow
from tracker.store.chain import version_hashes
from tracker.store.models import EventRow
from tracker.store.sealer import flush

EVIDENCE = {"ip": "192.0.2.7", "user_agent": "Firefox/140", "context": {"page": "/join", "n": 2}}


@pytest.fixture
def populated(api: Any, clock: Clock, store: Store) -> None:
    publish(api, 1, 2)
    for i in range(6):
        accept(api, f"user{i}", 1, **EVIDENCE)
        clock.advance(1)
    accept(api, "user0", 2, **EVIDENCE)
    r = api.post("/v1/declines", json={"user_id": "user1", "policy": "privacy", "version": 2})
    assert r.status_code == 201
    flush(store.engine)  # PostgreSQL seals committed events on a thread, a moment later


def test_events_are_chained_and_verify(populated: None, store: Store, settings: Settings) -> None:
    with store.read() as session:
        seqs = list(session.scalars(select(EventRow.chain_seq).order_by(EventRow.id)))
    assert seqs == list(range(1, 9))
    report = audit.verify(store, settings)
    assert report.ok and not report.anchored
    assert "truncation or a full rewrite cannot be ruled out" in report.message
    cp = audit.checkpoint(store, settings, Clock().now)
    assert cp.sequence == 8
    report = audit.verify(store, settings)
    assert report.message.startswith("verified up to sequence 8, anchored by checkpoint #8")


def test_empty_log(store: Store, settings: Settings) -> None:
    assert audit.verify(store, settings).message == "the audit log is empty: nothing to verify"
    with pytest.raises(Exception, match="nothing to checkpoint"):
        audit.checkpoint(store, settings, Clock().now)


TAMPERING = {
    "ip edited": (update(EventRow).where(EventRow.chain_seq == 3).values(ip="10.9.9.9"), 3),
    "user moved": (update(EventRow).where(EventRow.chain_seq == 2).values(user_id="user5"), 2),
    "kind edited": (update(EventRow).where(EventRow.chain_seq == 4).values(kind="declined"), 4),
    "time edited": (
        update(EventRow)
        .where(EventRow.chain_seq == 5)
        .values(created_at=EventRow.created_at),  # replaced below per database
        5,
    ),
    "deleted": (None, 3),
    "hand-inserted": (None, 0),
    # JSON null, as rows written with the chain off hold: not pending, so outside the chain.
    "hand-inserted with JSON null commitments": (None, 0),
}


@pytest.mark.parametrize("name", TAMPERING)
def test_tampering_in_the_database_is_found(
    name: str, populated: None, store: Store, settings: Settings, clock: Clock
) -> None:
    statement, seq = TAMPERING[name]
    with store.engine.begin() as conn:
        if name == "deleted":
            conn.execute(text("UPDATE consents SET last_event_id = NULL"))
            conn.execute(text("DELETE FROM events WHERE chain_seq = 3"))
        elif name.startswith("hand-inserted"):
            commitments = "'null'" if "JSON null" in name else "NULL"
            conn.execute(
                text(
                    "INSERT INTO events"
                    " (user_id, policy_id, version_id, kind, method, created_at, commitments)"
                    " SELECT 'mallory', policy_id, version_id, kind, method, created_at,"
                    f" {commitments} FROM events WHERE chain_seq = 1"
                )
            )
        elif name == "time edited":
            conn.execute(
                update(EventRow)
                .where(EventRow.chain_seq == 5)
                .values(created_at=clock.now + timedelta(seconds=1))
            )
        else:
            assert statement is not None
            conn.execute(statement)
    report = audit.verify(store, settings)
    assert not report.ok, name
    assert report.problem is not None and report.problem.seq == seq, report.message
    if name.startswith("hand-inserted"):
        with store.read() as session:
            inserted = session.scalar(select(EventRow.id).where(EventRow.user_id == "mallory"))
        assert f"event id {inserted} is outside the chain" in report.message, report.message
        assert report.pending == 0


def test_pending_events_are_not_outside_the_chain(
    populated: None, store: Store, settings: Settings
) -> None:
    """An event committed by the tracker and not sealed yet (commitments, no sequence) is
    pending, not a fault; with the chain off and by hand (SQL NULL or JSON null commitments)
    it is outside the chain, named by its id, with how many others there are."""
    with store.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO events (user_id, policy_id, version_id, kind, method, created_at,"
                " commitments) SELECT 'later', policy_id, version_id, kind, method, created_at,"
                " commitments FROM events WHERE chain_seq = 8"
            )
        )
        conn.execute(  # as the tracker writes it in the event's transaction
            text(
                "INSERT INTO consents (user_id, policy_id, last_event_id, last_kind,"
                " last_version_id, accepted_version_id, accepted_at) SELECT user_id, policy_id,"
                " id, kind, version_id, CASE WHEN kind = 'accepted' THEN version_id END,"
                " CASE WHEN kind = 'accepted' THEN created_at END FROM events"
                " WHERE user_id = 'later'"
            )
        )
    report = audit.verify(store, settings)
    assert report.ok and report.pending == 1 and report.last_seq == 8, report.message
    with store.engine.begin() as conn:
        for value in ("NULL", "'null'"):
            conn.execute(
                text(
                    "INSERT INTO events (user_id, policy_id, version_id, kind, method,"
                    f" created_at, commitments) SELECT 'mallory', policy_id, version_id, kind,"
                    f" method, created_at, {value} FROM events WHERE chain_seq = 1"
                )
            )
    report = audit.verify(store, settings)
    assert not report.ok
    assert "is outside the chain" in report.message
    assert "so are 1 other event(s)" in report.message, report.message


def test_without_a_trusted_key_a_checkpoint_does_not_anchor(
    populated: None, store: Store, settings: Settings
) -> None:
    """A stored checkpoint signed by any key (anyone who can write to the database could
    have made one) does not anchor the chain unless a trusted key checks its signature."""
    audit.checkpoint(store, settings, Clock().now)
    unkeyed = replace(settings, audit_signing_key="")
    report = audit.verify(store, unkeyed)
    assert report.ok and not report.anchored and report.unchecked is not None
    assert "anchored" not in report.message and "verified" not in report.message
    assert report.message.startswith("chain intact up to sequence 8 and matches checkpoint #8")
    assert "POLICY_TRACKER_AUDIT_SIGNING_KEY or pass --public-key" in report.message
    body = report.to_json()
    assert body["anchored"] is False and body["checkpoint"] is None
    # With the key given (the setting, or --public-key) the same checkpoint anchors it.
    trusted = audit.trusted_key(settings)
    assert audit.verify(store, unkeyed, trusted=trusted).anchored
    assert audit.verify(store, settings).anchored


def test_truncation_and_rewrite_against_a_checkpoint(
    populated: None, store: Store, settings: Settings
) -> None:
    audit.checkpoint(store, settings, Clock().now)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE consents SET last_event_id = NULL"))
        conn.execute(text("DELETE FROM events WHERE chain_seq >= 7"))
        conn.execute(
            update(AuditHeadRow).values(
                seq=6, hash=text("(SELECT chain_hash FROM events WHERE chain_seq = 6)")
            )
        )
    report = audit.verify(store, settings)
    assert not report.ok and "truncated" in report.message, report.message


def test_every_sound_row_takes_the_fast_path(
    populated: None, store: Store, settings: Settings
) -> None:
    """The fast check accepts every intact stored event as it comes from the database (a
    row it refused would still verify, through the general path, only slower), also when
    the PostgreSQL session's time zone is not UTC."""
    url = settings.database_url
    if store.engine.dialect.name == "postgresql":
        url = url.replace("options=-c", "options=-ctimezone%3DAsia/Kolkata%20-c")
    reader = Store.open(replace(settings, database_url=url))
    try:
        with reader.read() as session:
            shas = version_hashes(session)
            rows = [row for batch in scan.raw_events(session, 10**9) for row in batch]
            if store.engine.dialect.name == "postgresql":
                zone = session.connection().exec_driver_sql("SHOW TimeZone").scalar_one()
                assert zone == "Asia/Kolkata"
    finally:
        reader.dispose()
    assert len(rows) == 8
    prev = GENESIS
    for expected, row in enumerate(rows, start=1):
        assert scan.check_fast(row, expected, prev, shas), row
        prev = row[2]


def test_a_bad_record_mid_stream_stops_the_reading(
    populated: None, store: Store, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches of three over eight events, the fifth edited: the report names it, and the
    thread that read ahead on PostgreSQL is gone with its cursor."""
    monkeypatch.setattr(scan, "FETCH_POSTGRES", 3)
    monkeypatch.setattr(scan, "FETCH", 3)
    with store.engine.begin() as conn:
        conn.execute(update(EventRow).where(EventRow.chain_seq == 5).values(kind="declined"))
    for _ in range(3):
        report = audit.verify(store, settings)
        assert not report.ok and report.problem is not None and report.problem.seq == 5
    assert not [t for t in threading.enumerate() if t.name == "audit-verify-fetch"]
    with store.engine.begin() as conn:
        conn.execute(update(EventRow).where(EventRow.chain_seq == 5).values(kind="accepted"))
    report = audit.verify(store, settings)
    assert report.ok and report.last_seq == 8, report.message


def test_a_pseudonym_without_its_erasure_is_found(
    populated: None, store: Store, settings: Settings, clock: Clock
) -> None:
    """Erasing makes user ids pseudonyms and drops their salts; doing that by hand (to
    disown an acceptance) passes every hash, so the chained erasure record must vouch."""
    erased = audit.erase(store, "user2", clock.now)
    flush(store.engine)
    assert audit.verify(store, settings).ok
    with store.engine.begin() as conn:
        conn.execute(
            update(EventRow)
            .where(EventRow.chain_seq == 4)
            .values(user_id="erased:0123456789abcdef01234567", user_id_salt=None)
        )
    report = audit.verify(store, settings)
    assert not report.ok and report.problem is not None and report.problem.seq == 4
    assert "no chained erasure names it" in report.message, report.message
    # Re-pointed to a real erasure's pseudonym instead: its counts no longer hold.
    with store.engine.begin() as conn:
        conn.execute(
            update(EventRow).where(EventRow.chain_seq == 4).values(user_id=erased["pseudonym"])
        )
    report = audit.verify(store, settings)
    assert not report.ok, report.message
    assert "its erasure counted 1 and 0" in report.message, report.message
