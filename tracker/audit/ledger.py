"""The chain in the store: appending records in the writer's transaction, reading them back.

``chain_event`` is called by ``tracker.store.events.record`` with the values of the event
row it is about to insert: it commits to the personal fields and either seals the event at
once (SQLite) or leaves it to be sealed right after the commit (``tracker.audit.sealer``).
``chain_record`` appends a notice acknowledgement or an audit entry inline. Whoever seals
takes the next sequence number from the single ``audit_head`` row, locked for the rest of its
transaction, so the chain never forks, and a rolled-back transaction gives its number back
(no gaps).
"""

from __future__ import annotations

import bisect
import heapq
import json
from collections.abc import Generator, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from tracker.audit import scan
from tracker.audit.canonical import (
    PERSONAL,
    PSEUDONYM_PREFIX,
    body,
    commitments,
    digest,
    event_body,
    rfc3339,
)
from tracker.audit.chain import ChainRecord, Problem, Report, Verifier, link, make, seal
from tracker.audit.checkpoint import Checkpoint, CheckpointError, parse
from tracker.audit.models import AuditHeadRow, AuditRecordRow, CheckpointRow
from tracker.audit.sealer import (
    _LOCK_HEAD,
    _MOVE_HEAD,
    COMMITTED,
    HASHED_COLUMNS,
    mark_unsealed,
)
from tracker.store.models import EventRow, VersionRow

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


# Prebuilt statements (``tracker.audit.sealer``) run on the session's connection: an event is
# chained on every write, where building and ORM-executing statements cost more than running
# them.


def _advance(session: Session) -> tuple[int, str]:
    """The next sequence number and the previous hash; locks the head until commit."""
    seq, hash_ = session.connection().execute(_LOCK_HEAD).one()
    return int(seq) + 1, str(hash_)


def hold_head(session: Session) -> None:
    """Lock the chain head until commit, before rewriting event rows (purge, erasure).

    A sealing pass holds the head while it updates events; taking it first means such a
    rewrite and a pass never wait on each other's rows.
    """
    session.connection().execute(_LOCK_HEAD)


def _move_head(session: Session, seq: int, hash_: str) -> None:
    session.connection().execute(_MOVE_HEAD, {"b_seq": seq, "b_hash": hash_})


def event_data(values: Mapping[Any, Any], sha256: str | None) -> dict[str, Any]:
    """What of an event (its row's columns by name) is hashed in clear (personal fields are
    committed to instead)."""
    return {
        "kind": values["kind"],
        "policy_id": values["policy_id"],
        "version_id": values["version_id"],
        "version_sha256": sha256,
        "method": values["method"],
        "api_key_id": values["api_key_id"],
        "locale": values["locale"],
        "recorded_at": rfc3339(values["created_at"]),
    }


def event_bytes(seq: int, data: dict[str, Any], commits: Mapping[str, Any]) -> bytes:
    """The canonical body of an event record (``canonical.body``), formatted directly when
    its values have the usual types (always, for rows the tracker wrote)."""
    try:
        return event_body(seq, commits, **data)
    except TypeError:
        return body(seq, "event", data, commits)


def chain_event(session: Session, values: dict[str, Any], sha256: str | None) -> None:
    """Give a new event (the column values of its row, not yet inserted) its commitments,
    and its place in the chain; ``sha256`` is its version's.

    On SQLite (one writer at a time) the event is sealed here. Elsewhere it is inserted
    unsealed and sealed right after the commit (``tracker.audit.sealer``), so that writers
    do not hold the chain head while they commit. With the chain disabled (the benchmark's
    baseline) the chain columns are still set, to ``None``, so that the insert is the same.
    """
    if not _enabled:
        values.update(dict.fromkeys(_CHAIN_COLUMNS))
        return
    commits, salts = commitments("event", {k: values[k] for k in EVENT_PERSONAL})
    values["commitments"] = commits
    values["user_id_salt"] = salts.get("user_id")
    values["ip_salt"] = salts.get("ip")
    values["user_agent_salt"] = salts.get("user_agent")
    values["context_salt"] = salts.get("context")
    if session.get_bind().dialect.name != "sqlite":
        values.update(chain_seq=None, chain_prev=None, chain_hash=None)
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
        last, prev = known if known else driver.execute(_SQLITE_HEAD).fetchone()
        seq = int(last) + 1
        hash_ = link(prev, digest(event_bytes(seq, data, commits)))
        if driver.execute(_SQLITE_MOVE_HEAD, (seq, hash_, last, prev)).rowcount == 1:
            break
        known = None
    else:
        raise AssertionError("the audit head moved while the write lock was held")
    values.update(chain_seq=seq, chain_prev=prev, chain_hash=hash_)
    connection.info[_SQLITE_KNOWN_HEAD] = (seq, hash_)


_SQLITE_KNOWN_HEAD = "tracker_audit_head"
_SQLITE_HEAD = "SELECT seq, hash FROM audit_head WHERE id = 1"
_SQLITE_MOVE_HEAD = "UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1 AND seq = ? AND hash = ?"


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

_EVENT_COLUMNS = (
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
)
BATCH = 5000


def version_hashes(session: Session) -> dict[int, str]:
    return {int(i): str(s) for i, s in session.execute(select(VersionRow.id, VersionRow.sha256))}


def event_record(r: Any, shas: dict[int, str]) -> ChainRecord:
    """A chain record from a row of ``_EVENT_COLUMNS``."""
    salts = {}
    for name, salt in (
        ("user_id", r[15]),
        ("ip", r[16]),
        ("user_agent", r[17]),
        ("context", r[18]),
    ):
        if salt is not None:
            salts[name] = salt
    return ChainRecord(
        seq=r[0],
        type="event",
        data={
            "kind": r[4],
            "policy_id": r[5],
            "version_id": r[6],
            "version_sha256": shas.get(r[6]) if r[6] is not None else None,
            "method": r[7],
            "api_key_id": r[8],
            "locale": r[9],
            "recorded_at": rfc3339(r[10]),
        },
        commitments=r[3] or {},
        prev_hash=r[1],
        hash=r[2],
        personal={"user_id": r[11], "ip": r[12], "user_agent": r[13], "context": r[14]},
        salts=salts,
    )


def audit_record(row: AuditRecordRow) -> ChainRecord:
    personal = {"user_id": row.user_id} if "user_id" in PERSONAL.get(row.type, ()) else {}
    salts = {"user_id": row.user_id_salt} if row.user_id_salt else {}
    return ChainRecord(
        row.seq, row.type, row.data, row.commitments, row.prev_hash, row.hash, personal, salts
    )


def _events(
    session: Session, shas: dict[int, str], where: Sequence[Any] = ()
) -> Generator[ChainRecord, None, None]:
    query = (
        select(*_EVENT_COLUMNS)
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


def _others(session: Session, where: Sequence[Any] = ()) -> Generator[ChainRecord, None, None]:
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
    return heapq.merge(_events(session, shas), _others(session), key=lambda r: r.seq)


def stored_checkpoints(session: Session) -> list[Checkpoint]:
    rows = session.scalars(select(CheckpointRow).order_by(CheckpointRow.id))
    return [Checkpoint(r.sequence, r.head_hash, r.time, r.public_key, r.signature) for r in rows]


def verify_session(
    session: Session, external: Sequence[Checkpoint] = (), trusted: Any = None
) -> Report:
    """Recompute the chain from the database, against stored and external checkpoints.

    Without a ``trusted`` key a checkpoint's signature only shows that it was not edited,
    not who signed it, so the report does not call the chain anchored by it.
    """
    checkpoints = list(external)
    for cp in stored_checkpoints(session):
        try:
            checkpoints.append(
                parse(cp.to_json(), trusted=trusted, where=f"stored checkpoint #{cp.sequence}")
            )
        except CheckpointError as exc:
            return Report(0, 0, "", None, Problem(0, str(exc)))
    verifier = Verifier(checkpoints)
    # Every event row without a sequence is either pending (committed by the tracker, a
    # sealing pass is due; see tracker.audit.sealer) or outside the chain, whatever its
    # commitments hold: both counted in one statement, so a pass in between cannot make a
    # pending row look like an outside one.
    unsealed, pending, outside_id = session.execute(
        select(
            func.count(),
            func.count(case((COMMITTED, 1))),
            func.min(case((COMMITTED, None), else_=EventRow.id)),
        ).where(EventRow.chain_seq.is_(None))
    ).one()
    outside = int(unsealed) - int(pending)
    if outside:
        reason = (
            f"event id {outside_id} is outside the chain: it has no sequence number and is "
            "not pending sealing (inserted by hand?)"
        )
        if outside > 1:
            reason += f"; so are {outside - 1} other event(s)"
        return Report(0, 0, "", None, Problem(0, reason))
    for reason in _version_problems(session):
        return Report(0, 0, "", None, Problem(0, reason))
    # Records committed after this point are not this verification's business.
    last, last_hash = head(session)
    others = _others(session, [AuditRecordRow.seq <= last])
    try:
        _feed_all(verifier, scan.raw_events(session, last), others, version_hashes(session))
    finally:
        others.close()
    report = verifier.finish()
    if report.ok and (report.last_seq, report.head_hash) != (last, last_hash):
        reason = (
            f"the chain head is at sequence {last} but the records end at {report.last_seq}: "
            "records were removed from the end (truncated)"
            if report.last_seq != last
            else "the last record's hash differs from the chain head's"
        )
        return Report(
            report.records, report.last_seq, report.head_hash, None, Problem(last, reason)
        )
    if report.ok:
        forged = _unrecorded_pseudonyms(session, last)
        if forged is not None:
            return Report(report.records, report.last_seq, report.head_hash, None, forged)
    if trusted is None and report.anchor is not None:
        report = replace(report, anchor=None, unchecked=report.anchor)
    return replace(report, pending=int(pending))


def _unrecorded_pseudonyms(session: Session, last: int) -> Problem | None:
    """A user id may become a pseudonym (its salt gone) only through a chained erasure that
    names the pseudonym and counts its rows: anything else disowns records by hand."""
    like = PSEUDONYM_PREFIX + "%"  # "erased:": no LIKE wildcard in it
    counts: list[dict[str, int]] = []  # per table: pseudonym -> rows
    firsts: dict[str, int] = {}  # pseudonym -> first sequence of a sealed row
    for column, seq, salt in (
        (EventRow.user_id, EventRow.chain_seq, EventRow.user_id_salt),
        (AuditRecordRow.user_id, AuditRecordRow.seq, AuditRecordRow.user_id_salt),
    ):
        rows = session.execute(
            select(column, func.min(seq), func.count())
            .where(column.like(like), salt.is_(None))
            .group_by(column)
        ).all()
        counts.append({str(p): int(n) for p, _, n in rows})
        for p, first, _ in rows:
            if first is not None:  # None: only rows not sealed yet
                firsts[str(p)] = min(int(first), firsts.get(str(p), int(first)))
    names = counts[0].keys() | counts[1].keys()
    used = {p: (firsts.get(p, 0), counts[0].get(p, 0), counts[1].get(p, 0)) for p in names}
    if not used:
        return None
    erasures: dict[str, tuple[int, int]] = {}
    for (data,) in session.execute(
        select(AuditRecordRow.data).where(
            AuditRecordRow.type == "audit", AuditRecordRow.seq <= last
        )
    ):
        if isinstance(data, str):
            data = json.loads(data)
        if isinstance(data, dict) and data.get("action") == "erasure":
            erasures[str(data.get("pseudonym"))] = (
                int(data.get("events") or 0),
                int(data.get("records") or 0),
            )
    for pseudonym, (first, events, records) in sorted(used.items(), key=lambda i: i[1][0]):
        recorded = erasures.get(pseudonym)
        if recorded is None:
            return Problem(
                first,
                f"its user id was replaced by the pseudonym {pseudonym} but no chained "
                "erasure names it: the record was disowned by hand",
            )
        if recorded != (events, records):
            return Problem(
                first,
                f"the pseudonym {pseudonym} is on {events} event(s) and {records} record(s) "
                f"but its erasure counted {recorded[0]} and {recorded[1]}: rows were "
                "re-pointed to it by hand",
            )
    return None


def _feed_all(
    verifier: Verifier,
    batches: Iterator[list[tuple[Any, ...]]],
    others: Iterator[ChainRecord],
    shas: dict[int, str],
) -> None:
    """Feed raw event batches and the other records, merged by sequence, until a bad one."""
    nxt = next(others, None)
    try:
        for batch in batches:
            start = 0
            while nxt is not None and start < len(batch):
                # Events before the next other record (an event first on a tie, as stored).
                end = bisect.bisect_right(batch, nxt.seq, lo=start, key=itemgetter(0))
                if not scan.feed_events(verifier, batch[start:end], shas)[0]:
                    return
                start = end
                if end == len(batch):
                    break
                if not verifier.feed(nxt):
                    return
                nxt = next(others, None)
            if start < len(batch) and not scan.feed_events(verifier, batch[start:], shas)[0]:
                return
        while nxt is not None:
            if not verifier.feed(nxt):
                return
            nxt = next(others, None)
    finally:
        close = getattr(batches, "close", None)
        if close is not None:
            close()


def _version_problems(session: Session) -> Iterator[str]:
    from tracker.policy import sha256_text

    for vid, text, sha in session.execute(
        select(VersionRow.id, VersionRow.text, VersionRow.sha256)
    ):
        if sha256_text(text) != sha:
            yield f"version id {vid}: its text no longer hashes to its SHA-256 {sha}"


def head(session: Session) -> tuple[int, str]:
    row = session.execute(
        select(AuditHeadRow.seq, AuditHeadRow.hash).where(AuditHeadRow.id == 1)
    ).one()
    return int(row.seq), str(row.hash)
