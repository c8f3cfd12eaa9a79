"""Sealing: giving committed events their sequence number and hash, in batches.

On PostgreSQL a writer inserts its event *unsealed* (commitments and salts set, no
sequence) and commits without touching the chain head, so concurrent writers never queue on
one row while they commit. Its commit wakes the process's sealer thread, which runs
*passes*: lock the head, seal every committed unsealed event in id order (the events
committed during one pass share the next), move the head, commit. Passes of different
processes queue on the head row and each seals whatever is pending then, so the chain
never forks or gaps. A 2xx is durable once the event row is committed; its event is sealed
milliseconds later, or, if the process died first, by the next pass of anyone (a write,
``checkpoint``, ``export``, or the service's periodic task). ``verify`` reports unsealed
events as pending; it waits for this process's sealer first.

SQLite allows one writer at a time anyway, so there a writer seals its event inline
(``tracker.store.chain.chain_event``); a pass finds nothing to do.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Text,
    and_,
    bindparam,
    cast,
    event,
    func,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tracker.chain.canonical import digest as hash_body
from tracker.chain.events import event_bytes, event_data
from tracker.chain.records import link
from tracker.store import sql_postgresql
from tracker.store.audit_models import AuditHeadRow, AuditRecordRow
from tracker.store.models import EventRow, VersionRow

log = logging.getLogger(__name__)

#: ``session.info`` key: the transaction inserted unsealed events.
UNSEALED = "tracker_audit_unsealed"
#: Most events one pass seals in one transaction (a pass loops while more are pending).
PASS_SIZE = 2000
#: Longest ``flush`` waits for the sealer.
WAIT_SECONDS = 10.0
#: Seconds the sealer thread waits for work before it ends.
IDLE_SECONDS = 1.0
#: Least time between the starts of two passes while writers keep committing: the commits
#: of that time share one pass (one head lock, statement and commit) instead of each having
#: its own. Skipped when someone waits for the sealer (``flush``).
GATHER_SECONDS = 0.05

#: The event row has commitments. One whose commitments are SQL NULL or JSON ``null`` was
#: not written through the chain (by hand, or with the chain off as the benchmark's baseline).
COMMITTED = and_(EventRow.commitments.is_not(None), cast(EventRow.commitments, Text) != "null")
#: Committed by the tracker and not sealed yet: commitments made, no sequence. Any other
#: event row without a sequence is outside the chain, and ``verify`` says so.
PENDING = (EventRow.chain_seq.is_(None), COMMITTED)
LOCK_HEAD = (
    select(AuditHeadRow.seq, AuditHeadRow.hash).where(AuditHeadRow.id == 1).with_for_update()
)
_SEAL_EVENT = (
    update(EventRow)
    .where(EventRow.id == bindparam("b_id"))
    .values(
        chain_seq=bindparam("b_seq"), chain_prev=bindparam("b_prev"), chain_hash=bindparam("b_hash")
    )
)
MOVE_HEAD = (
    update(AuditHeadRow)
    .where(AuditHeadRow.id == 1)
    .values(seq=bindparam("b_seq"), hash=bindparam("b_hash"))
)
_HIGHEST = select(
    select(func.max(EventRow.chain_seq)).scalar_subquery(),
    select(func.max(AuditRecordRow.seq)).scalar_subquery(),
)


def past_stray_rows(conn: Connection, seq: int) -> int:
    """``seq`` (the head's), or the highest number an event or record holds after it.

    A row numbered after the head was inserted outside the chain (``verify`` reports it):
    the chain goes on after it rather than fail every write on the number it took. Its
    link to the head is wrong, so ``verify`` keeps reporting it once it is inside the chain.
    """
    events, records = conn.execute(_HIGHEST).one()
    return max(seq, events or 0, records or 0)


#: What an event's hash covers: its commitments and ``tracker.chain.events.event_data``'s columns.
HASHED_COLUMNS = (
    EventRow.commitments,
    EventRow.kind,
    EventRow.policy_id,
    EventRow.version_id,
    EventRow.method,
    EventRow.api_key_id,
    EventRow.locale,
    EventRow.created_at,
)
#: With the text in the user's language an event is bound to (hashed when it has one).
_PENDING_COLUMNS = (
    EventRow.id,
    *HASHED_COLUMNS,
    EventRow.translation_version_id,
    EventRow.translation_sha256,
)


def seal_pending(
    conn: Connection, shas: dict[int, str], limit: int = PASS_SIZE, stray: bool = False
) -> int:
    """One pass in the caller's transaction: seal up to ``limit`` pending events in id order
    (after any rows numbered past the head by hand, with ``stray``).

    The events are not locked row by row: the only other writers of event rows, purge and
    erasure, take the head before they touch them (``chain.hold_head``), so a pass and
    they never overlap, and passes queue on the head.
    """
    head = conn.execute(LOCK_HEAD).one()
    seq, prev = int(head.seq), str(head.hash)
    if stray:
        seq = past_stray_rows(conn, seq)
    rows = conn.execute(
        select(*_PENDING_COLUMNS).where(*PENDING).order_by(EventRow.id).limit(limit)
    ).all()
    if not rows:
        return 0
    missing = {r.version_id for r in rows if r.version_id is not None} - shas.keys()
    if missing:
        shas.update(
            (int(i), str(s))
            for i, s in conn.execute(
                select(VersionRow.id, VersionRow.sha256).where(VersionRow.id.in_(missing))
            )
        )
    ids, seqs, prevs, hashes = [], [], [], []
    for r in rows:
        seq += 1
        sha = None if r.version_id is None else shas.get(r.version_id)
        data = event_data(r._mapping, sha)
        digest = link(prev, hash_body(event_bytes(seq, data, r.commitments)))
        ids.append(r.id)
        seqs.append(seq)
        prevs.append(prev)
        hashes.append(digest)
        prev = digest
    if conn.dialect.name == "postgresql":
        conn.execute(
            sql_postgresql.SEAL,
            {"ids": ids, "seqs": seqs, "prevs": prevs, "hashes": hashes, "seq": seq, "hash": prev},
        )
    else:
        conn.execute(
            _SEAL_EVENT,
            [
                {"b_id": i, "b_seq": q, "b_prev": p, "b_hash": h}
                for i, q, p, h in zip(ids, seqs, prevs, hashes, strict=True)
            ],
        )
        conn.execute(MOVE_HEAD, {"b_seq": seq, "b_hash": prev})
    return len(ids)


def seal_all(conn: Connection, shas: dict[int, str] | None = None) -> int:
    """Seal every pending event, one transaction per pass; how many were sealed."""
    shas = {} if shas is None else shas
    total = 0
    stray = False
    while True:
        try:
            with conn.begin():
                n = seal_pending(conn, shas, stray=stray)
        except IntegrityError:
            if stray:
                raise
            stray = True  # a row inserted by hand holds a number: the pass goes after it
            continue
        stray = False
        total += n
        if n < PASS_SIZE:
            return total


class _Group:
    """The sealer thread of one process and engine: it runs passes while writers commit.

    Started by the first commit that needs it and gone after a second without work, so
    nothing runs at import and a disposed engine is not kept alive; disposing the engine
    waits for a pass under way and closes its connection.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # Weak: the groups are found by pool, and a disposed engine's pool must be freed.
        self.pool = weakref.ref(engine.pool)
        self.cond = threading.Condition()
        self.requested = 0
        self.done = 0
        self.running = False
        self.sealing = False
        self.flushing = 0
        self.gathering = False
        self.last_pass = 0.0
        self.shas: dict[int, str] = {}
        event.listen(engine, "engine_disposed", self._disposed)

    def request(self) -> None:
        with self.cond:
            self.requested += 1
            if not self.running:
                self.running = True
                threading.Thread(target=self._run, name="audit-sealer", daemon=True).start()
            if not self.gathering:  # a gathering pass starts on time without being woken
                self.cond.notify_all()

    def _live(self) -> bool:
        return self.engine.pool is self.pool()

    def _run(self) -> None:
        while True:
            with self.cond:
                while self.done >= self.requested or not self._live():
                    if not self._live() or (
                        not self.cond.wait(IDLE_SECONDS) and self.done >= self.requested
                    ):
                        self.running = False
                        self.cond.notify_all()
                        return
                self.gathering = True
                while not self.flushing and self._live():
                    remaining = self.last_pass + GATHER_SECONDS - time.monotonic()
                    if remaining <= 0:
                        break
                    self.cond.wait(remaining)
                self.gathering = False
                if not self._live():
                    continue  # disposed while gathering: the loop above ends the thread
                upto = self.requested  # every commit announced before this pass
                self.sealing = True
                self.last_pass = time.monotonic()
            try:
                with self.engine.connect() as conn:
                    try:
                        seal_all(conn, self.shas)
                    finally:
                        if not self._live():
                            conn.invalidate()  # disposed meanwhile: close, don't pool
            except Exception:  # the events are committed; a later pass seals them
                log.warning("sealing audit events failed; a later pass will", exc_info=True)
            with self.cond:
                self.sealing = False
                self.done = max(self.done, upto)
                self.cond.notify_all()

    def flush(self, timeout: float) -> None:
        """Wait until every commit announced so far has had its pass."""
        deadline = time.monotonic() + timeout
        with self.cond:
            target = self.requested
            self.flushing += 1
            self.cond.notify_all()  # a pass gathering commits starts now
            try:
                while (self.done < target and self.running) or self.sealing:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return
                    self.cond.wait(remaining)
            finally:
                self.flushing -= 1

    def _disposed(self, engine: Engine) -> None:
        with self.cond:
            self.cond.notify_all()  # an idle thread sees the engine is gone and ends
        self.flush(WAIT_SECONDS)
        pool = self.pool()
        if pool is not None:
            pool.dispose()  # a connection the last pass gave back late


_groups: weakref.WeakKeyDictionary[Any, _Group] = weakref.WeakKeyDictionary()
_groups_lock = threading.Lock()
_listening = False


def _base(engine: Engine) -> Engine:
    """The engine itself, not a copy with other execution options (sessions use those)."""
    proxied = getattr(engine, "_proxied", None)
    return proxied if isinstance(proxied, Engine) else engine


def _group(engine: Engine) -> _Group:
    engine = _base(engine)
    with _groups_lock:
        group = _groups.get(engine.pool)
        if group is None:
            group = _groups[engine.pool] = _Group(engine)
        return group


def _after_commit(session: Session) -> None:
    if not session.info.pop(UNSEALED, False):
        return
    bind = session.get_bind()
    if isinstance(bind, Engine):
        _group(bind).request()


def flush(engine: Engine, timeout: float = WAIT_SECONDS) -> None:
    """Wait for this process's sealer to seal what its writers committed so far."""
    with _groups_lock:
        group = _groups.get(_base(engine).pool)
    if group is not None:
        group.flush(timeout)


def committed(engine: Engine) -> None:
    """Events were committed unsealed outside a session (the acceptance fast path on the
    event loop): seal them as ``_after_commit`` does a session's."""
    _group(engine).request()


def _after_rollback(session: Session) -> None:
    session.info.pop(UNSEALED, None)


def mark_unsealed(session: Session) -> None:
    """Seal the session's new events right after it commits (see the module docstring)."""
    global _listening
    if not _listening:
        with _groups_lock:
            if not _listening:
                # Registered on first use, not at import; the hooks cost a dict lookup.
                event.listen(Session, "after_commit", _after_commit)
                event.listen(Session, "after_rollback", _after_rollback)
                _listening = True
    session.info[UNSEALED] = True
