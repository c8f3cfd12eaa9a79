"""The chain in the store: appending records in the writer's transaction, reading them back.

``chain_event`` is called by ``tracker.store.events.record`` with the values of the event
row it is about to insert: it commits to the personal fields and either seals the event at
once (SQLite) or leaves it to be sealed right after the commit (``tracker.store.sealer``).
``chain_record`` appends a notice acknowledgement or an audit entry inline. Whoever seals
takes the next sequence number from the single ``audit_head`` row, locked for the rest of its
transaction, so the chain never forks, and a rolled-back transaction gives its number back
(no gaps). A row inserted by hand with a number past the head does not stop writes: the
chain goes on after it (``renumber_event``, ``sealer.past_stray_rows``), and ``verify``
reports it.
"""

from __future__ import annotations

import heapq
from collections.abc import Generator, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from tracker.chain.canonical import PERSONAL, commitments, digest, rfc3339
from tracker.chain.checkpoint import Checkpoint
from tracker.chain.events import event_bytes, event_data, event_record
from tracker.chain.records import ChainRecord, link, make, seal
from tracker.store import sql_sqlite
from tracker.store.audit_models import AuditHeadRow, AuditRecordRow, CheckpointRow
from tracker.store.models import EventRow, VersionRow
from tracker.store.sealer import (
    HASHED_COLUMNS,
    LOCK_HEAD,
    MOVE_HEAD,
    mark_unsealed,
    past_stray_rows,
)

_enabled = True
EVENT_PERSONAL = PERSONAL["event"]


@contextmanager
def chain_disabled() -> Iterator[None]:
    """Record events without the chain (only for the benchmark's baseline)."""
    global _enabled
    _enabled = False
    try:
        yield
    finally:
        _enabled = True


# Prebuilt statements (``tracker.store.sealer``) run on the session's connection: an event is
# chained on every write, where building and ORM-executing statements cost more than running
# them.


def _advance(session: Session) -> tuple[int, str]:
    """The next sequence number (after any row inserted past the head by hand) and the
    previous hash; locks the head until commit."""
    connection = session.connection()
    seq, hash_ = connection.execute(LOCK_HEAD).one()
    return past_stray_rows(connection, int(seq)) + 1, str(hash_)


def hold_head(session: Session) -> None:
    """Lock the chain head until commit, before rewriting event rows (purge, erasure).

    A sealing pass holds the head while it updates events; taking it first means such a
    rewrite and a pass never wait on each other's rows.
    """
    session.connection().execute(LOCK_HEAD)


def _move_head(session: Session, seq: int, hash_: str) -> None:
    session.connection().execute(MOVE_HEAD, {"b_seq": seq, "b_hash": hash_})


def chain_event(session: Session, values: dict[str, Any], sha256: str | None) -> None:
    """Give a new event (the column values of its row, not yet inserted) its commitments,
    and its place in the chain; ``sha256`` is its version's.

    On SQLite (one writer at a time) the event is sealed here. Elsewhere it is inserted
    unsealed and sealed right after the commit (``tracker.store.sealer``), so that writers
    do not hold the chain head while they commit. With the chain disabled (the benchmark's
    baseline) the chain columns are still set, to ``None``, so that the insert is the same.
    """
    if not commit_event(values):
        return
    if session.get_bind().dialect.name != "sqlite":
        mark_unsealed(session)
        return
    # Straight to the driver, as ``record`` does on SQLite (the head is locked by BEGIN
    # IMMEDIATE): this runs for every event while the write lock is held, where each
    # statement also hands the GIL to other threads. So the head this connection last
    # wrote is kept, and moved with one compare-and-set; when it is not the stored head
    # (another process wrote since, or a savepoint was rolled back), it is read again.
    connection = session.connection()
    driver: Any = connection.connection.driver_connection
    data = event_data(values, sha256)
    known = connection.info.get(_SQLITE_KNOWN_HEAD)
    for _ in range(2):
        last, prev = known if known else driver.execute(sql_sqlite.CHAIN_HEAD).fetchone()
        seq = int(last) + 1
        hash_ = link(prev, digest(event_bytes(seq, data, values["commitments"])))
        if driver.execute(sql_sqlite.MOVE_CHAIN_HEAD, (seq, hash_, last, prev)).rowcount == 1:
            break
        known = None
    else:
        raise AssertionError("the audit head moved while the write lock was held")
    values.update(chain_seq=seq, chain_prev=prev, chain_hash=hash_)
    connection.info[_SQLITE_KNOWN_HEAD] = (seq, hash_)


def commit_event(values: dict[str, Any]) -> bool:
    """Give a new event's values their commitments and salts, unsealed (``chain_seq``,
    ``chain_prev`` and ``chain_hash`` None); whether the chain is on (off: every chain
    column None, the benchmark's baseline)."""
    if not _enabled:
        values.update(dict.fromkeys(_CHAIN_COLUMNS))
        return False
    commits, salts = commitments("event", {k: values[k] for k in EVENT_PERSONAL})
    values["commitments"] = commits
    values["user_id_salt"] = salts.get("user_id")
    values["ip_salt"] = salts.get("ip")
    values["user_agent_salt"] = salts.get("user_agent")
    values["context_salt"] = salts.get("context")
    values.update(chain_seq=None, chain_prev=None, chain_hash=None)
    return True


def renumber_event(connection: Connection, values: dict[str, Any], sha256: str | None) -> None:
    """Number an event that ``chain_event`` sealed (SQLite) after every stored row, when its
    number is taken by a row inserted past the head by hand: the write goes on, the head
    moves past that row, and ``verify`` keeps reporting it (it no longer links to the head).
    """
    taken, prev, old = values["chain_seq"], values["chain_prev"], values["chain_hash"]
    seq = past_stray_rows(connection, int(taken)) + 1
    data = event_data(values, sha256)
    hash_ = link(prev, digest(event_bytes(seq, data, values["commitments"])))
    driver: Any = connection.connection.driver_connection
    moved = driver.execute(sql_sqlite.MOVE_CHAIN_HEAD, (seq, hash_, taken, old)).rowcount
    assert moved == 1, "the audit head moved while the write lock was held"
    values.update(chain_seq=seq, chain_hash=hash_)
    connection.info[_SQLITE_KNOWN_HEAD] = (seq, hash_)


_SQLITE_KNOWN_HEAD = "tracker_audit_head"


_CHAIN_COLUMNS = (
    "commitments",
    "user_id_salt",
    "ip_salt",
    "user_agent_salt",
    "context_salt",
    "chain_seq",
    "chain_prev",
    "chain_hash",
)


def chain_record(
    session: Session, kind: str, data: dict[str, Any], now: datetime, user_id: str | None = None
) -> ChainRecord:
    """Append a notice acknowledgement (``notice_ack``) or an audit entry (``audit``)."""
    seq, prev = _advance(session)
    personal = {"user_id": user_id} if "user_id" in PERSONAL[kind] else {}
    record = seal(make(seq, kind, data, personal), prev)
    session.add(
        AuditRecordRow(
            seq=seq,
            type=kind,
            user_id=user_id,
            user_id_salt=record.salts.get("user_id"),
            data=data,
            commitments=dict(record.commitments),
            prev_hash=prev,
            hash=record.hash,
            created_at=now,
        )
    )
    _move_head(session, seq, record.hash)
    return record


def chain_notice_ack(session: Session, notice: Any, api_key_id: int | None, now: datetime) -> None:
    """Chain the acknowledgement of a notice (``tracker.store.notices.NoticeRow``)."""
    data = {
        "notice_id": notice.id,
        "policy_id": notice.policy_id,
        "from_version_id": notice.from_version_id,
        "to_version_id": notice.to_version_id,
        "api_key_id": api_key_id,
        "acknowledged_at": rfc3339(now),
    }
    chain_record(session, "notice_ack", data, now, user_id=notice.user_id)


# ---------------------------------------------------------------------------
# Reading the chain back

EVENT_COLUMNS = (
    EventRow.chain_seq,
    EventRow.chain_prev,
    EventRow.chain_hash,
    *HASHED_COLUMNS,  # 3 to 10
    EventRow.user_id,
    EventRow.ip,
    EventRow.user_agent,
    EventRow.context,
    EventRow.user_id_salt,
    EventRow.ip_salt,
    EventRow.user_agent_salt,
    EventRow.context_salt,
    EventRow.translation_version_id,  # 19
    EventRow.translation_sha256,  # 20
)
BATCH = 5000


def version_hashes(session: Session) -> dict[int, str]:
    return {int(i): str(s) for i, s in session.execute(select(VersionRow.id, VersionRow.sha256))}


def audit_record(row: AuditRecordRow) -> ChainRecord:
    personal = {"user_id": row.user_id} if "user_id" in PERSONAL.get(row.type, ()) else {}
    salts = {"user_id": row.user_id_salt} if row.user_id_salt else {}
    return ChainRecord(
        row.seq, row.type, row.data, row.commitments, row.prev_hash, row.hash, personal, salts
    )


def event_records(
    session: Session, shas: dict[int, str], where: Sequence[Any] = ()
) -> Generator[ChainRecord, None, None]:
    query = (
        select(*EVENT_COLUMNS)
        .where(EventRow.chain_seq.is_not(None), *where)
        .order_by(EventRow.chain_seq)
        .execution_options(yield_per=BATCH)
    )
    result = session.execute(query)
    try:
        for r in result:
            yield event_record(r, shas)
    finally:
        result.close()  # a server-side cursor when the caller stops early


def other_records(
    session: Session, where: Sequence[Any] = ()
) -> Generator[ChainRecord, None, None]:
    query = (
        select(AuditRecordRow)
        .where(*where)
        .order_by(AuditRecordRow.seq)
        .execution_options(yield_per=BATCH)
    )
    result = session.scalars(query)
    try:
        for row in result:
            yield audit_record(row)
    finally:
        result.close()


def records(session: Session) -> Iterator[ChainRecord]:
    """Every chained record in sequence order, streamed (two ordered index scans, merged)."""
    shas = version_hashes(session)
    return heapq.merge(event_records(session, shas), other_records(session), key=lambda r: r.seq)


def stored_checkpoints(session: Session) -> list[Checkpoint]:
    rows = session.scalars(select(CheckpointRow).order_by(CheckpointRow.id))
    return [Checkpoint(r.sequence, r.head_hash, r.time, r.public_key, r.signature) for r in rows]


def head(session: Session) -> tuple[int, str]:
    row = session.execute(
        select(AuditHeadRow.seq, AuditHeadRow.hash).where(AuditHeadRow.id == 1)
    ).one()
    return int(row.seq), str(row.hash)
