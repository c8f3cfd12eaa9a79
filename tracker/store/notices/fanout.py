"""Fan-out when versions are stored: notices to the users who accepted an earlier version,
and the webhook messages that announce them.

Fan-out is one ``INSERT … SELECT`` from ``consents`` per earlier version the users accepted
(a handful of statements, never a loop over users), in the transaction that stores the
version. ``notice.created`` messages name a range of notice ids of one (version,
from-version) pair holding at most 1,000 users.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    and_,
    bindparam,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.orm import Session

from tracker.chain.canonical import PSEUDONYM_PREFIX
from tracker.store.models import (
    ConsentRow,
    PolicyRow,
    UTCDateTime,
    VersionRow,
)
from tracker.store.notices.outbox import deliveries_for, enqueue, subscribers
from tracker.store.notices.tables import NOTICE_BATCH, SIGNIFICANT, MessageRow, NoticeRow


def on_versions_created(
    session: Session, policy: PolicyRow, created: Sequence[VersionRow], now: datetime
) -> int:
    """Notices and webhook messages for versions just stored for one policy.

    Called by ``publish`` in the transaction that stores them. Only the newest minor or
    major version gets notices: one per user whose latest event is an acceptance of an
    earlier version, covering every version since (its significance is the largest among
    them). Their unacknowledged notices of earlier versions are superseded. Returns the
    number of notices created.
    """
    if not created:
        return 0
    versions = list(
        session.execute(
            select(VersionRow.id, VersionRow.number, VersionRow.significance)
            .where(VersionRow.policy_id == policy.id)
            .order_by(VersionRow.number)
        )
    )
    significant = [v for v in created if v.significance in SIGNIFICANT]
    made = 0
    target = max(significant, key=lambda v: v.number) if significant else None
    if target is not None:
        lock_fan_out(session, policy.id)
        made = _fan_out(session, policy, target, versions, now)
    endpoints = subscribers(session, "policy.version_published")
    for v in sorted(created, key=lambda v: v.number) if endpoints else ():
        data = {"policy_id": policy.id, "version_id": v.id}
        data["notices_created"] = made if v is target else 0
        enqueue(
            session, "policy.version_published", data, now, version_id=v.id, endpoints=endpoints
        )
    return made


def not_erased(user_id: Any) -> Any:
    """A SQL condition: ``user_id`` is no erased user's pseudonym. An erased user is gone
    for the future too: no notice, webhook or re-acceptance request names a pseudonym."""
    return user_id.not_like(PSEUDONYM_PREFIX + "%")  # "erased:": no LIKE wildcard in it


def _fan_out(
    session: Session, policy: PolicyRow, target: VersionRow, versions: Sequence[Any], now: datetime
) -> int:
    earlier = [v for v in versions if v.number < target.number]
    made = 0
    ranges: list[tuple[int, int, int]] = []  # (from-version id, first id, last id)
    for start in earlier:
        covered = [v for v in versions if start.number < v.number <= target.number]
        significance = "major" if any(v.significance == "major" for v in covered) else "minor"
        required = significance == "major" and policy.acceptance_required
        # One statement per earlier version keeps each version's notice ids contiguous,
        # so ``notice.created`` batches come out (nearly) full. It runs once per version:
        # only a newly stored version gets here (and notices are unique per user and version).
        select_users = select(
            ConsentRow.user_id,
            literal(policy.id),
            literal(start.id),
            literal(target.id),
            literal(significance),
            literal(required),
            bindparam("created", now, type_=UTCDateTime),
        ).where(
            ConsentRow.policy_id == policy.id,
            ConsentRow.accepted_version_id == start.id,
            ConsentRow.last_kind == "accepted",
            not_erased(ConsentRow.user_id),
        )
        first = _max_notice_id(session)
        done = session.execute(
            insert(NoticeRow)
            .from_select(
                [
                    "user_id",
                    "policy_id",
                    "from_version_id",
                    "to_version_id",
                    "significance",
                    "acceptance_required",
                    "created_at",
                ],
                select_users,
            )
            .execution_options(preserve_rowcount=True)
        )
        count = max(int(getattr(done, "rowcount", 0) or 0), 0)
        if count:
            ranges.append((start.id, first + 1, _max_notice_id(session)))
        made += count
    if not made:
        return 0
    # Driven by the (few) pending notices of earlier versions; the users just told are those
    # ``consents`` names (a primary-key probe each).
    told = (
        select(ConsentRow.user_id)
        .where(
            ConsentRow.user_id == NoticeRow.user_id,
            ConsentRow.policy_id == policy.id,
            ConsentRow.accepted_version_id.in_([v.id for v in earlier]),
            ConsentRow.last_kind == "accepted",
        )
        .exists()
    )
    session.execute(
        update(NoticeRow)
        .where(
            NoticeRow.to_version_id.in_([v.id for v in earlier]),
            NoticeRow.acknowledged_at.is_(None),
            NoticeRow.closed_at.is_(None),
            told,
        )
        .values(closed_at=now, closed_reason="superseded")
        .execution_options(synchronize_session=False)
    )
    endpoints = subscribers(session, "notice.created")
    if endpoints:
        notice_messages(session, target, ranges, endpoints, now)
    return made


def _max_notice_id(session: Session) -> int:
    return int(session.scalar(select(func.coalesce(func.max(NoticeRow.id), 0))) or 0)


def notice_messages(
    session: Session,
    target: VersionRow,
    ranges: Sequence[tuple[int, int, int]],
    endpoints: Sequence[int],
    now: datetime,
) -> None:
    """``notice.created`` messages: each names a range of at most 1,000 consecutive notice
    ids of one from-version (each fan-out statement's ids are consecutive unless another
    transaction inserted notices meanwhile; rendering filters by version, so a range may hold
    fewer users, never more). One row per 1,000 users: the loop is over batches."""
    before = session.scalar(select(func.coalesce(func.max(MessageRow.id), 0)))
    rows = [
        {
            "webhook_id": f"msg_{secrets.token_hex(16)}",
            "event_type": "notice.created",
            "version_id": target.id,
            "data": {
                "policy_id": target.policy_id,
                "version_id": target.id,
                "from_version_id": from_id,
                "first_notice_id": lo,
                "last_notice_id": min(lo + NOTICE_BATCH - 1, last),
            },
            "created_at": now,
        }
        for from_id, first, last in ranges
        for lo in range(first, last + 1, NOTICE_BATCH)
    ]
    session.execute(insert(MessageRow), rows)
    deliveries_for(
        session,
        endpoints,
        and_(
            MessageRow.id > before,
            MessageRow.event_type == "notice.created",
            MessageRow.version_id == target.id,
        ),
        now,
    )


def lock_fan_out(session: Session, policy_id: int) -> None:
    """PostgreSQL: lock the policy's versions before the fan-out reads who accepted them.

    An acceptance's event INSERT checks its foreign key to the accepted version with
    ``FOR KEY SHARE``, which waits for this ``FOR UPDATE`` (and the other way round). So an
    acceptance either commits before the fan-out reads ``consents`` (and is counted), or
    its later statements run after the publication committed (and see the new version):
    no acceptance falls between the two. SQLite writers take turns anyway.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            select(VersionRow.id).where(VersionRow.policy_id == policy_id).with_for_update()
        ).all()
