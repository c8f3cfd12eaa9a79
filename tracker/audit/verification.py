"""Verifying the stored chain (``verify``): every record recomputed, against stored and
external checkpoints.

Events are read raw and checked on a fast path (``tracker.audit.scan``); the other records,
the checkpoints and the head come from ``tracker.store.chain``.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence
from dataclasses import replace
from operator import itemgetter
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from tracker.audit import integrity, scan
from tracker.audit.checkpoints import trusted_key
from tracker.chain.canonical import PSEUDONYM_PREFIX
from tracker.chain.checkpoint import Checkpoint, CheckpointError, parse
from tracker.chain.records import ChainRecord, Problem, Report, Verifier
from tracker.policy import sha256_text
from tracker.settings import Settings
from tracker.store import Store
from tracker.store.audit_models import AuditRecordRow
from tracker.store.chain import head, other_records, stored_checkpoints, version_hashes
from tracker.store.models import EventRow, VersionRow
from tracker.store.sealer import COMMITTED, flush


def verify(
    store: Store,
    settings: Settings,
    external: Sequence[Checkpoint] = (),
    trusted: Ed25519PublicKey | None = None,
) -> Report:
    """Verify the chain as stored (read only: events still unsealed are reported pending).

    Checkpoints are checked against ``trusted``, or else the configured signing key; with
    neither, none of them anchors the chain.
    """
    flush(store.engine)
    with store.read() as session:
        key = trusted if trusted is not None else trusted_key(settings)
        return verify_session(session, external, key)


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
    # sealing pass is due; see tracker.store.sealer) or outside the chain, whatever its
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
    for reason in integrity.translation_problems(session):
        return Report(0, 0, "", None, Problem(0, reason))
    for reason in integrity.version_numbers(session):
        return Report(0, 0, "", None, Problem(0, reason))
    beyond = integrity.past_head(session)
    if beyond is not None:
        return Report(0, 0, "", None, Problem(0, beyond))
    # Records committed after this point are not this verification's business.
    last, last_hash = head(session)
    others = other_records(session, [AuditRecordRow.seq <= last])
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
        for found in (
            integrity.blanked_problem(session, last),
            integrity.consents_problem(session),
        ):
            if found is not None:
                problem = Problem(0, found)
                return Report(report.records, report.last_seq, report.head_hash, None, problem)
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
    for data in integrity.audit_actions(session, last, "erasure"):
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
    for vid, text, sha in session.execute(
        select(VersionRow.id, VersionRow.text, VersionRow.sha256)
    ):
        if sha256_text(text) != sha:
            yield f"version id {vid}: its text no longer hashes to its SHA-256 {sha}"
