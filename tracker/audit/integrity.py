"""What ``verify`` checks beyond the chain's hashes: the rows that status and evidence read
but the chain does not cover by itself.

* No event or audit record is numbered past the chain head (a row there is outside the
  chain, and would take the number the next write needs).
* ``consents``, from which status answers, is what the chained events say: for each user
  and policy the latest event (its id, kind and version) and the acceptance the user stands
  by (its version and time), by the store's rule (``tracker.store.standing``): an older
  version accepted after a newer one does not lower the user's state.
* A personal field blanked with its salt (its commitment still there) is accounted for by
  chained ``purge`` entries, or belongs to an erased user (checked against the erasure).
* Each policy's versions are numbered 1, 2, 3… in the order they were stored: numbers
  swapped between two versions would relabel what users accepted.
* Each translation version's text hashes to its SHA-256, and an event bound to a text in
  the user's language (``translation_version_id`` and ``translation_sha256``, both chained)
  names a stored translation of its own version with that SHA-256.

Each check is one statement, so it reads one snapshot on PostgreSQL too.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from tracker.chain.canonical import PSEUDONYM_PREFIX
from tracker.policy import sha256_text
from tracker.store.audit_models import AuditHeadRow, AuditRecordRow
from tracker.store.models import ConsentRow, EventRow, VersionRow
from tracker.store.standing import expected_consents
from tracker.store.translations import TranslationVersionRow

BLANKABLE = (
    ("ip", EventRow.ip, EventRow.ip_salt),
    ("user_agent", EventRow.user_agent, EventRow.user_agent_salt),
    ("context", EventRow.context, EventRow.context_salt),
)


def past_head(session: Session) -> str | None:
    """Why rows numbered after the head are there, or None."""
    head = select(AuditHeadRow.seq).where(AuditHeadRow.id == 1).scalar_subquery()
    events = select(func.count()).where(EventRow.chain_seq > head).scalar_subquery()
    records = select(func.count()).where(AuditRecordRow.seq > head).scalar_subquery()
    first_event = select(func.min(EventRow.chain_seq)).where(EventRow.chain_seq > head)
    first_record = select(func.min(AuditRecordRow.seq)).where(AuditRecordRow.seq > head)
    n_events, n_records, at_head, e, r = session.execute(
        select(
            events,
            records,
            head,
            first_event.scalar_subquery(),
            first_record.scalar_subquery(),
        )
    ).one()
    if not n_events and not n_records:
        return None
    first = min(x for x in (e, r) if x is not None)
    return (
        f"{n_events} event(s) and {n_records} record(s) are numbered after the chain head "
        f"(sequence {at_head}), the first at {first}: inserted outside the chain"
    )


def consents_problem(session: Session) -> str | None:
    """Why ``consents`` differs from what the events say, or None (first difference)."""
    expected = expected_consents()
    c = ConsentRow
    differs = or_(
        c.user_id.is_(None),
        expected.c.user_id.is_(None),
        c.last_event_id.is_distinct_from(expected.c.last_id),
        c.last_kind.is_distinct_from(expected.c.kind),
        c.last_version_id.is_distinct_from(expected.c.version_id),
        c.accepted_version_id.is_distinct_from(expected.c.acc_version),
        c.accepted_at.is_distinct_from(expected.c.acc_at),
    )
    row = session.execute(
        select(
            func.coalesce(c.user_id, expected.c.user_id),
            func.coalesce(c.policy_id, expected.c.policy_id),
            c.user_id.is_(None),
            expected.c.user_id.is_(None),
        )
        .select_from(
            expected.join(
                c,
                (c.user_id == expected.c.user_id) & (c.policy_id == expected.c.policy_id),
                full=True,
            )
        )
        .where(differs)
        .limit(1)
    ).first()
    if row is None:
        return None
    user, policy_id, missing, extra = row
    who = f"user {user!r}, policy id {policy_id}"
    if missing:
        return f"consents has no row for {who}, which has events (deleted by hand?)"
    if extra:
        return f"consents has a row for {who}, which has no events (inserted by hand?)"
    return (
        f"consents for {who} is not what its events say (latest event, kind, version or "
        "accepted version altered by hand): status would answer from it"
    )


def audit_actions(session: Session, last: int, action: str) -> Iterator[dict[str, Any]]:
    """The data of the chained audit records up to ``last`` that did ``action`` (``purge``,
    ``erasure``…), oldest first."""
    for (data,) in session.execute(
        select(AuditRecordRow.data)
        .where(AuditRecordRow.type == "audit", AuditRecordRow.seq <= last)
        .order_by(AuditRecordRow.seq)
    ):
        if isinstance(data, str):
            data = json.loads(data)
        if isinstance(data, dict) and data.get("action") == action:
            yield data


def blanked_problem(session: Session, last: int) -> str | None:
    """Why more personal fields are blanked (value and salt gone, commitment kept) than the
    chained purges blanked, or None. Erased users' rows are the erasure's business."""
    purged = {name: 0 for name, _, _ in BLANKABLE}
    for data in audit_actions(session, last, "purge"):
        for name in purged:
            purged[name] += int(data.get(name) or 0)
    counts = [
        func.count().filter(
            value.is_(None), salt.is_(None), EventRow.commitments[name].as_string().is_not(None)
        )
        for name, value, salt in BLANKABLE
    ]
    found = session.execute(
        select(*counts).where(
            ~EventRow.user_id.startswith(PSEUDONYM_PREFIX, autoescape=True),
            EventRow.chain_seq <= last,
        )
    ).one()
    for (name, _, _), blanked in zip(BLANKABLE, found, strict=True):
        if int(blanked) > purged[name]:
            return (
                f"{blanked} event(s) have their {name} and its salt blanked but the chained "
                f"purges account for {purged[name]}: blanked by hand, with no purge record"
            )
    return None


def version_numbers(session: Session) -> Iterator[str]:
    """Each policy's versions, in the order stored, are numbered 1, 2, 3…"""
    position = func.row_number().over(partition_by=VersionRow.policy_id, order_by=VersionRow.id)
    rows = select(VersionRow.id, VersionRow.policy_id, VersionRow.number, position.label("n"))
    found = rows.subquery()
    bad = session.execute(
        select(found.c.id, found.c.policy_id, found.c.number, found.c.n)
        .where(found.c.number != found.c.n)
        .order_by(found.c.policy_id, found.c.id)
        .limit(1)
    ).first()
    if bad is not None:
        vid, pid, number, n = bad
        yield (
            f"version id {vid} of policy id {pid} is numbered {number} but was stored as "
            f"version {n}: version numbers were changed by hand"
        )


def translation_problems(session: Session) -> Iterator[str]:
    """Translated texts hash to their SHA-256; each event's binding names one of them."""
    texts = select(
        TranslationVersionRow.id, TranslationVersionRow.text, TranslationVersionRow.sha256
    )
    for tid, body, sha in session.execute(texts):
        if sha256_text(body) != sha:
            yield f"translation version id {tid}: its text no longer hashes to its SHA-256 {sha}"
            return
    bound = TranslationVersionRow
    bad = session.execute(
        select(EventRow.id, EventRow.translation_version_id, EventRow.translation_sha256)
        .outerjoin(bound, bound.id == EventRow.translation_version_id)
        .where(
            or_(
                EventRow.translation_version_id.is_not(None),
                EventRow.translation_sha256.is_not(None),
            ),
            or_(
                bound.id.is_(None),
                EventRow.translation_sha256.is_(None),
                bound.sha256 != EventRow.translation_sha256,
                EventRow.version_id.is_(None),
                bound.translates_version_id != EventRow.version_id,
            ),
        )
        .order_by(EventRow.id)
        .limit(1)
    ).first()
    if bad is not None:
        yield (
            f"event id {bad[0]} is bound to translation version id {bad[1]} with SHA-256 "
            f"{bad[2]}, "
            "but no stored translation of its version has them"
        )
