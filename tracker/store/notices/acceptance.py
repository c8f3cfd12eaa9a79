"""On acceptance: closing the notices it answers, telling of versions published since,
and announcing it to subscribed apps."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    bindparam,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Session

from tracker.store import sql_postgresql, sql_sqlite
from tracker.store.models import VersionRow
from tracker.store.notices.fanout import notice_messages
from tracker.store.notices.outbox import announce, announcement, subscribers
from tracker.store.notices.tables import SIGNIFICANT, NoticeRow

# Built once: they run on every acceptance.
_NOTICES = NoticeRow.__table__
_CLOSED_AT = ("closed_at",)
_CLOSE_ANSWERED = (
    update(NoticeRow)
    .where(
        NoticeRow.user_id == bindparam("b_uid"),
        NoticeRow.policy_id == bindparam("b_pid"),
        NoticeRow.closed_at.is_(None),
        NoticeRow.to_version_id.in_(bindparam("b_answered", expanding=True)),
    )
    .values(closed_at=bindparam("b_now"), closed_reason="accepted")
)


_PG_CLOSE_AND_LATER = (
    select(VersionRow.id, VersionRow.number, VersionRow.significance)
    .where(VersionRow.policy_id == bindparam("b_pid"), VersionRow.number > bindparam("b_number"))
    .order_by(VersionRow.number)
    .add_cte(_CLOSE_ANSWERED.returning(NoticeRow.id).cte("closed"))
)


def on_acceptance(
    session: Session,
    user_id: str,
    policy_id: int,
    answered: Sequence[int],
    event: dict[str, Any],
    now: datetime,
    *,
    accepted: tuple[int, int] | None = None,
    acceptance_required: bool = True,
) -> None:
    """Close the user's notices of the versions this acceptance answers (``answered``: the
    accepted version and every earlier one); announce the acceptance to subscribed apps.

    ``accepted`` (the version's id and number): when a newer minor or major version exists,
    the user gets the notice the fan-out makes for everyone who accepted an earlier version
    (an app recorded a stale acceptance, or it raced the publication).
    """
    connection = session.connection()
    later: Sequence[Any] | None = None
    if accepted is not None and connection.dialect.name == "postgresql":
        # One round trip: close the answered notices and read the versions published after
        # the accepted one. It runs after the event's INSERT, whose foreign-key check waited
        # for any publication of this policy in flight (see ``lock_fan_out``).
        later = connection.execute(
            _PG_CLOSE_AND_LATER,
            {
                "b_uid": user_id,
                "b_pid": policy_id,
                "b_answered": list(answered),
                "b_now": now,
                "b_number": accepted[1],
            },
        ).all()
    elif answered and connection.dialect.name == "sqlite":
        # Straight to the driver, as ``tracker.store.events.record`` does on SQLite (closed_at
        # bound as its column's type binds it).
        driver: Any = connection.connection.driver_connection
        (closed_at,) = sql_sqlite.binders(connection.dialect, _NOTICES, _CLOSED_AT)
        driver.execute(
            sql_sqlite.close_answered(len(answered)),
            (closed_at(now), user_id, policy_id, *answered),
        )
    elif answered:
        connection.execute(
            _CLOSE_ANSWERED,
            {"b_uid": user_id, "b_pid": policy_id, "b_answered": list(answered), "b_now": now},
        )
    if accepted is not None:
        if later is None:  # SQLite: the write lock is held, nothing is in flight
            driver = connection.connection.driver_connection
            later = driver.execute(sql_sqlite.LATER_VERSIONS, (policy_id, accepted[1])).fetchall()
        after_acceptance(session, user_id, policy_id, accepted, acceptance_required, now, later)
    announce(session, ANNOUNCED, announced(event), now)


#: The outbox message an acceptance writes, and what of the event it carries.
ANNOUNCED = "acceptance.recorded"
_KEEP = ("id", "user_id", "policy", "version", "sha256", "method", "api_key_id", "recorded_at")


def announced(event: dict[str, Any]) -> dict[str, Any]:
    return {k: event.get(k) for k in _KEEP}


def acceptance_values(session: Session, event: dict[str, Any], now: datetime) -> dict[str, Any]:
    """PostgreSQL: the values of the ``acceptance.recorded`` message for the statement that
    writes the event (``sql_postgresql.RECORD_ACCEPTANCE``)."""
    return announcement(session.get_bind().dialect, ANNOUNCED, announced(event), now)


def close_answered(
    user_id: str, policy_id: int, answered: Sequence[int], now: datetime, accepted_number: int
) -> tuple[str, dict[str, Any]]:
    """PostgreSQL: the statement that closes the notices an acceptance answers and reads
    the versions after the accepted one (its rows go to ``after_acceptance``), run after
    the event's."""
    values = {
        "uid": user_id,
        "pid": policy_id,
        "answered": list(answered),
        "now": now,
        "number": accepted_number,
    }
    return sql_postgresql.CLOSE_ANSWERED_AND_LATER, values


def after_acceptance(
    session: Session,
    user_id: str,
    policy_id: int,
    accepted: tuple[int, int],
    acceptance_required: bool,
    now: datetime,
    later: Sequence[Any],
) -> None:
    """The rest of ``on_acceptance`` once the later versions are read (on PostgreSQL
    ``close_answered`` read them): a notice of the latest one that matters, if any.
    ``later``: (id, number, significance) of the versions after the accepted one."""
    accepted_id, _ = accepted
    significant = [v for v in later if v[2] in SIGNIFICANT]
    if not significant:
        return
    target_id, target_number, _ = significant[-1]
    covered = [v for v in later if v[1] <= target_number]
    significance = "major" if any(v[2] == "major" for v in covered) else "minor"
    told = select(NoticeRow.id).where(
        NoticeRow.to_version_id == target_id, NoticeRow.user_id == user_id
    )
    if session.scalar(told) is not None:
        return
    notice_id = session.execute(
        insert(NoticeRow)
        .values(
            user_id=user_id,
            policy_id=policy_id,
            from_version_id=accepted_id,
            to_version_id=target_id,
            significance=significance,
            acceptance_required=significance == "major" and acceptance_required,
            created_at=now,
        )
        .returning(NoticeRow.id)
    ).scalar_one()
    session.execute(
        update(NoticeRow)
        .where(
            NoticeRow.user_id == user_id,
            NoticeRow.policy_id == policy_id,
            NoticeRow.id != notice_id,
            NoticeRow.acknowledged_at.is_(None),
            NoticeRow.closed_at.is_(None),
        )
        .values(closed_at=now, closed_reason="superseded")
        .execution_options(synchronize_session=False)
    )
    endpoints = subscribers(session, "notice.created")
    if endpoints:
        target = session.get_one(VersionRow, target_id)
        notice_messages(session, target, [(accepted_id, notice_id, notice_id)], endpoints, now)
