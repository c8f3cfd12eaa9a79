"""Reading notices (a user's, the pending ones of many users, a version's counts) and
acknowledging one."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    and_,
    case,
    func,
    select,
)
from sqlalchemy.orm import Session

from tracker.errors import NotFound
from tracker.store import sql_postgresql, sql_sqlite
from tracker.store.chain import chain_notice_ack
from tracker.store.notices.tables import NoticeRow

_PENDING = (NoticeRow.acknowledged_at.is_(None), NoticeRow.closed_at.is_(None))
# SQLite allows 32,766 bound parameters; stay well below on every database.
_CHUNK = 5000


def pending_sql(dialect: str, count: int, with_policy: bool) -> str:
    """The pending-notices lookup as the driver runs it (``ix_notices_user_id_policy_id``)."""
    if dialect == "sqlite":
        return sql_sqlite.pending_notices(count, with_policy)
    return sql_postgresql.pending_notices(count, with_policy)


def pending_notices(
    cursor: Any, dialect: str, user_ids: Sequence[str], policy_id: int | None = None
) -> dict[tuple[str, int], list[Sequence[Any]]]:
    """Pending notices of many users by (user, policy), as rows of ``pending_sql``'s
    columns (``tracker.answers.notices.pending_dict`` formats one): one indexed query per
    chunk.

    Part of every status answer, so it is read with a DB-API ``cursor`` inside the
    caller's transaction (``tracker.store.status.driver_cursor``): loading ORM objects
    cost half of a status request.
    """
    out: dict[tuple[str, int], list[Sequence[Any]]] = {}
    unique = list(dict.fromkeys(user_ids))
    for start in range(0, len(unique), _CHUNK):
        chunk = unique[start : start + _CHUNK]
        params: list[Any] = [*chunk, policy_id] if policy_id is not None else chunk
        cursor.execute(pending_sql(dialect, len(chunk), policy_id is not None), params)
        for row in cursor.fetchall():
            out.setdefault((row[1], row[2]), []).append(row)
    return out


NOTICE_STATES = ("pending", "acknowledged", "superseded", "accepted", "all")


def user_notices(
    session: Session, user_id: str, *, state: str = "pending", policy_id: int | None = None
) -> list[NoticeRow]:
    """A user's notices, oldest first: pending ones, those in another state, or all."""
    query = select(NoticeRow).where(NoticeRow.user_id == user_id)
    if policy_id is not None:
        query = query.where(NoticeRow.policy_id == policy_id)
    if state == "pending":
        query = query.where(*_PENDING)
    elif state == "acknowledged":
        query = query.where(NoticeRow.acknowledged_at.is_not(None))
    elif state in ("superseded", "accepted"):
        query = query.where(NoticeRow.acknowledged_at.is_(None), NoticeRow.closed_reason == state)
    return list(session.scalars(query.order_by(NoticeRow.id)))


def acknowledge(
    session: Session, notice_id: int, api_key_id: int | None, now: datetime
) -> tuple[NoticeRow, bool]:
    """Record that an app showed the notice; the first acknowledgement is kept."""
    row = session.get(NoticeRow, notice_id, with_for_update=True) if notice_id < 2**63 else None
    if row is None:
        raise NotFound(f"no notice {notice_id}", code="notice_not_found")
    if row.acknowledged_at is not None:
        return row, False
    row.acknowledged_at = now
    row.acknowledged_by = api_key_id
    chain_notice_ack(session, row, api_key_id, now)
    session.flush()
    return row, True


def notice_stats(session: Session, version_id: int) -> dict[str, int]:
    """Notices created for a version, and how many are acknowledged, pending or closed."""
    rows = session.execute(
        select(
            func.count(),
            func.count(NoticeRow.acknowledged_at),
            func.sum(case((and_(*_PENDING), 1), else_=0)),
            func.sum(case((NoticeRow.closed_reason == "superseded", 1), else_=0)),
            func.sum(case((NoticeRow.closed_reason == "accepted", 1), else_=0)),
        ).where(NoticeRow.to_version_id == version_id)
    ).one()
    created, acked, pending, superseded, accepted = (int(x or 0) for x in rows)
    return {
        "created": created,
        "acknowledged": acked,
        "pending": pending,
        "superseded": superseded,
        "accepted": accepted,
    }
