"""Which acceptance a user stands by: the one rule ``consents`` keeps, in its two forms.

Recording an event (``tracker.store.events.record``) applies it one event at a time:
an acceptance of an older version than the one the user stands by, when the user's last
event was an acceptance (an app showing a stale page), is recorded but does not lower the
user's state; any other acceptance becomes the one the user stands by, with its time. A
decline or withdrawal leaves the standing acceptance as it was (status answers from the
last event's kind).

``expected_consents`` is the same rule over all the events at once, for ``verify``: for
each user and policy, among the acceptances since the user's last decline or withdrawal
that precedes an acceptance (the last unbroken run of acceptances), the highest version,
at the time of its last acceptance in that run; and the latest event's id, kind and
version. ``tests/audit/test_standing.py`` records random sequences through the API on
SQLite and PostgreSQL and checks the two forms agree.
"""

from __future__ import annotations

from sqlalchemy import Subquery, case, func, select
from sqlalchemy.orm import aliased

from tracker.store.models import EventRow, VersionRow


def keeps_standing(previous_kind: str | None, standing_number: int | None, number: int) -> bool:
    """Whether an acceptance of version ``number`` leaves the user standing by the version
    numbered ``standing_number`` (the user's standing acceptance, if any)."""
    return previous_kind == "accepted" and standing_number is not None and standing_number > number


def expected_consents() -> Subquery:
    """What ``consents`` holds by the rule, from the events: one row per user and policy
    with events (user_id, policy_id, last_id, kind, version_id, acc_version, acc_at)."""
    e = EventRow
    who = (e.user_id, e.policy_id)
    accepted = e.kind == "accepted"
    latest = (
        select(
            e.user_id,
            e.policy_id,
            func.max(e.id).label("last_id"),
            func.max(case((accepted, e.id))).label("acc"),
            func.max(case((accepted, e.version_id))).label("top"),
        )
        .group_by(*who)
        .subquery()
    )
    # Only where the latest acceptance is not of the highest version ever accepted (versions
    # are numbered in id order, which ``verify`` checks too) can an older acceptance have
    # left a newer one standing: the rule runs over those users' events alone, and
    # everywhere else the latest acceptance is the standing one.
    newest = aliased(EventRow)
    rare = (
        select(latest.c.user_id, latest.c.policy_id)
        .join(newest, newest.id == latest.c.acc)
        .where(newest.version_id != latest.c.top)
        .subquery()
    )
    # The run an event belongs to: how many declines and withdrawals came before it.
    breaks = func.count(case((e.kind != "accepted", 1))).over(partition_by=who, order_by=e.id)
    runs = (
        select(e.user_id, e.policy_id, e.id, e.kind, e.version_id, breaks.label("run"))
        .join(rare, (rare.c.user_id == e.user_id) & (rare.c.policy_id == e.policy_id))
        .subquery()
    )
    acceptances = (
        select(
            runs.c.user_id,
            runs.c.policy_id,
            runs.c.id,
            func.row_number()
            .over(
                partition_by=(runs.c.user_id, runs.c.policy_id),
                order_by=(runs.c.run.desc(), VersionRow.number.desc(), runs.c.id.desc()),
            )
            .label("rank"),
        )
        .join(VersionRow, VersionRow.id == runs.c.version_id)
        .where(runs.c.kind == "accepted")
        .subquery()
    )
    standing = (
        select(acceptances.c.user_id, acceptances.c.policy_id, acceptances.c.id)
        .where(acceptances.c.rank == 1)
        .subquery()
    )
    last = aliased(EventRow)
    acc = aliased(EventRow)
    return (
        select(
            latest.c.user_id,
            latest.c.policy_id,
            latest.c.last_id,
            last.kind.label("kind"),
            last.version_id.label("version_id"),
            acc.version_id.label("acc_version"),
            acc.created_at.label("acc_at"),
        )
        .join(last, last.id == latest.c.last_id)
        .outerjoin(
            standing,
            (standing.c.user_id == latest.c.user_id) & (standing.c.policy_id == latest.c.policy_id),
        )
        .outerjoin(acc, acc.id == func.coalesce(standing.c.id, latest.c.acc))
        .subquery()
    )
