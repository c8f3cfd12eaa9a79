"""The console's figures: a version's counts and daily adoption (read from the counts the
database keeps, ``tracker.store.counts``), who must still accept it, webhook deliveries and
attempts, the audit chain's state; each a set-based query.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, get_args

from sqlalchemy import CTE, Select, and_, case, func, not_, or_, select
from sqlalchemy.orm import Session

from tracker.contract.responses import DeliveryState
from tracker.store import counts
from tracker.store.audit_models import AuditHeadRow, CheckpointRow
from tracker.store.catalog import PolicyInfo, VersionInfo
from tracker.store.models import USER_ID_MAX, ConsentRow
from tracker.store.notices.tables import AttemptRow, DeliveryRow, EndpointRow, NoticeRow

PAGE_SIZE = 50
SEARCH_MAX = 255
CURSOR_MAX = USER_ID_MAX  # a cursor is a user id


def adoption(session: Session, version_id: int) -> list[tuple[date, int]]:
    """(day, users who first accepted the version that day), oldest first."""
    return counts.adoption_days(session, version_id)


def version_figures(session: Session, policy: PolicyInfo, version: VersionInfo) -> dict[str, Any]:
    """What ``version_stats`` answers, from the counts the database keeps (``counts``): the
    consents of the policy by (accepted version, last version, last decision), and the users
    who ever accepted the version by the day they first did."""
    numbers = {v.id: v.number for v in policy.versions}
    floor = _floor(policy, version)
    users = current = declined = up_to_date = 0
    for accepted, last, kind, n in counts.consent_groups(session, policy.id):
        users += n
        if kind == "accepted" and accepted == version.id:
            current += n
        if kind == "declined" and last == version.id:
            declined += n
        if kind == "accepted" and accepted is not None and numbers.get(accepted, 0) >= floor:
            up_to_date += n
    ever = sum(n for _, n in adoption(session, version.id))
    return {
        "policy": policy.slug,
        "version": version.number,
        "users": users,
        "accepted": ever,
        "accepted_current": current,
        "declined": declined,
        "needs_acceptance": (users - up_to_date) if policy.acceptance_required else 0,
    }


# ---------------------------------------------------------------------------
# Who must still accept


def _floor(policy: PolicyInfo, version: VersionInfo) -> int:
    """The lowest version number an acceptance must be of to be up to date with ``version``:
    its latest major version at or before it (as ``version_stats`` counts)."""
    return max(
        (v.number for v in policy.versions[: version.number] if v.significance == "major"),
        default=1,
    )


@dataclass(frozen=True)
class Pending:
    user_id: str
    last_kind: str | None
    accepted_version: int | None
    notice: str  # none, pending, acknowledged, closed


def _must_accept(policy: PolicyInfo, version: VersionInfo, search: str) -> list[Any]:
    """The users of the policy not up to date with ``version``, on the consents alone (an
    accepted version is up to date when it is one of the ids at or after the floor)."""
    floor = _floor(policy, version)
    current = [v.id for v in policy.versions if v.number >= floor]
    up_to_date = and_(
        ConsentRow.last_kind == "accepted", ConsentRow.accepted_version_id.in_(current)
    )
    where = [
        ConsentRow.policy_id == policy.id,
        or_(ConsentRow.accepted_version_id.is_(None), not_(up_to_date)),
    ]
    if search:
        escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where.append(ConsentRow.user_id.like(escaped + "%", escape="\\"))
    return where


@dataclass(frozen=True)
class Slice:
    """Which of the users who must accept: those whose id sorts after ``after``, or the last
    ``limit`` before ``before`` (a seek), or ``limit`` from ``offset``; whose id starts with
    ``search``."""

    search: str = ""
    after: str | None = None
    before: str | None = None
    offset: int = 0
    limit: int = PAGE_SIZE

    def __post_init__(self) -> None:
        if self.after is not None and self.before is not None:
            raise ValueError("seek after a user id or before one, not both")


def must_accept_query(
    policy: PolicyInfo, version: VersionInfo, part: Slice
) -> Select[str, str | None, int | None]:
    """The consents ``must_accept`` reads: a seek reads the primary key's index (user_id,
    policy_id) from the cursor on, in user id order (backwards for ``before``)."""
    where = _must_accept(policy, version, part.search)
    if part.after is not None:
        where.append(ConsentRow.user_id > part.after)
    if part.before is not None:
        where.append(ConsentRow.user_id < part.before)
    return (
        select(ConsentRow.user_id, ConsentRow.last_kind, ConsentRow.accepted_version_id)
        .where(*where)
        .order_by(ConsentRow.user_id.desc() if part.before is not None else ConsentRow.user_id)
        .offset(part.offset or None)
        .limit(part.limit)
    )


def told_query(version: VersionInfo, users: list[str]) -> Select[str, str]:
    """The state of the notices of ``version`` to ``users`` (a page, in user id order): the
    range of the index on (to_version_id, user_id) from the page's first user to its last,
    so that a walk of every page reads each notice once. Not a join: PostgreSQL would merge
    it with the version's notices from the first user on, or hash them all, and every page
    would read the notices of every page before it; nor the ids alone: for a CSV chunk
    (5,000 ids) PostgreSQL reads every notice of the version rather than probe for each."""
    state = case(
        (NoticeRow.acknowledged_at.is_not(None), "acknowledged"),
        (NoticeRow.closed_at.is_not(None), "closed"),
        else_="pending",
    )
    return select(NoticeRow.user_id, state).where(
        NoticeRow.to_version_id == version.id,
        NoticeRow.user_id >= users[0],
        NoticeRow.user_id <= users[-1],
        NoticeRow.user_id.in_(users),
    )


def must_accept(
    session: Session,
    policy: PolicyInfo,
    version: VersionInfo,
    *,
    search: str = "",
    after: str | None = None,
    before: str | None = None,
    offset: int = 0,
    limit: int = PAGE_SIZE,
) -> list[Pending]:
    """Up to ``limit`` users of the policy not up to date with ``version``, in user id order,
    with their last decision and whether they were told (their notice of this version).

    ``after`` / ``before`` seek: the users whose id sorts after ``after``, or the last
    ``limit`` before ``before``. A seek starts in the index where the cursor is, so a deep
    page costs what the first does and a walk of every page reads each row once; ``offset``
    re-reads every row it skips (kept for a page number asked for by hand)."""
    part = Slice(search, after, before, offset, limit)
    rows = list(session.execute(must_accept_query(policy, version, part)))
    if before is not None:
        rows.reverse()
    if not rows:
        return []
    told = {
        user: state for user, state in session.execute(told_query(version, [r[0] for r in rows]))
    }
    numbers = {v.id: v.number for v in policy.versions}
    return [
        Pending(user, kind, numbers.get(accepted) if accepted else None, told.get(user, "none"))
        for user, kind, accepted in rows
    ]


def must_accept_count(
    session: Session, policy: PolicyInfo, version: VersionInfo, search: str = ""
) -> int:
    query = (
        select(func.count()).select_from(ConsentRow).where(*_must_accept(policy, version, search))
    )
    return int(session.scalar(query) or 0)


# ---------------------------------------------------------------------------
# Webhooks and the audit chain


def deliveries_since(session: Session, since: datetime) -> dict[str, int]:
    """Deliveries created since ``since``, by state. Every state is named so that each is one
    range of the index on (state, created_at), not a scan of every delivery ever made."""
    rows = session.execute(
        select(DeliveryRow.state, func.count())
        .where(DeliveryRow.state.in_(get_args(DeliveryState)), DeliveryRow.created_at >= since)
        .group_by(DeliveryRow.state)
    ).all()
    return {str(state): int(n) for state, n in rows}


@dataclass(frozen=True)
class EndpointFigures:
    attempts: int
    succeeded: int
    p50_ms: int | None
    p95_ms: int | None
    dead: int
    pending: int

    @property
    def success_rate(self) -> float | None:
        return self.succeeded / self.attempts if self.attempts else None


def endpoint_figures(session: Session, since: datetime) -> dict[int, EndpointFigures]:
    """Per endpoint: attempts since ``since``, those answered 2xx, their latency (median and
    95th percentile), and deliveries dead or pending now."""
    day = _attempts_since(since)
    ok = and_(day.c.status >= 200, day.c.status < 300)
    rows = session.execute(
        select(DeliveryRow.endpoint_id, func.count(), func.sum(case((ok, 1), else_=0)))
        .select_from(day)
        .join(DeliveryRow, DeliveryRow.id == day.c.delivery_id)
        .group_by(DeliveryRow.endpoint_id)
    ).all()
    durations: dict[int, list[int]] = {}
    for endpoint, ms in session.execute(
        select(DeliveryRow.endpoint_id, day.c.duration_ms)
        .select_from(day)
        .join(DeliveryRow, DeliveryRow.id == day.c.delivery_id)
        .order_by(day.c.id.desc())
        .limit(20_000)
    ):
        durations.setdefault(int(endpoint), []).append(int(ms))
    # From the endpoints, so that each (endpoint, state) is one range of
    # ix_webhook_deliveries_endpoint_id_state: alone, SQLite's planner reads all of that index
    # (every delivery ever made), the state being its second column.
    states: dict[int, dict[str, int]] = {}
    for endpoint, state, n in session.execute(
        select(EndpointRow.id, DeliveryRow.state, func.count())
        .join(DeliveryRow, DeliveryRow.endpoint_id == EndpointRow.id)
        .where(DeliveryRow.state.in_(("dead", "pending")))
        .group_by(EndpointRow.id, DeliveryRow.state)
    ):
        states.setdefault(int(endpoint), {})[str(state)] = int(n)
    out: dict[int, EndpointFigures] = {}
    counted = {int(e): (int(n), int(s or 0)) for e, n, s in rows}
    for endpoint in set(counted) | set(states):
        n, s = counted.get(endpoint, (0, 0))
        latencies = sorted(durations.get(endpoint, []))
        out[endpoint] = EndpointFigures(
            n,
            s,
            _percentile(latencies, 0.5),
            _percentile(latencies, 0.95),
            states.get(endpoint, {}).get("dead", 0),
            states.get(endpoint, {}).get("pending", 0),
        )
    return out


def _attempts_since(since: datetime) -> CTE:
    """The attempts started since ``since``, read through ix_webhook_attempts_started_at.

    SQLite's planner, given the join, drives it from webhook_deliveries (in GROUP BY order) or
    from webhook_attempts in id order (for ORDER BY id DESC LIMIT), reading every row ever
    made; a materialized CTE is one range of the index, joined to its deliveries by key.
    PostgreSQL plans the inlined CTE from the index already."""
    return (
        select(AttemptRow.id, AttemptRow.delivery_id, AttemptRow.duration_ms, AttemptRow.status)
        .where(AttemptRow.started_at >= since)
        .cte("recent_attempts")
        .prefix_with("MATERIALIZED", dialect="sqlite")
    )


def _percentile(sorted_ms: list[int], q: float) -> int | None:
    if not sorted_ms:
        return None
    return sorted_ms[min(len(sorted_ms) - 1, int(q * len(sorted_ms)))]


@dataclass(frozen=True)
class ChainState:
    head: int
    checkpoint_sequence: int | None
    checkpoint_time: datetime | None


def chain_state(session: Session) -> ChainState:
    head = session.scalar(select(AuditHeadRow.seq).where(AuditHeadRow.id == 1))
    last = session.execute(
        select(CheckpointRow.sequence, CheckpointRow.time).order_by(CheckpointRow.id.desc())
    ).first()
    return ChainState(
        int(head or 0),
        int(last.sequence) if last else None,
        last.time if last else None,
    )


def since_hours(now: datetime, hours: int) -> datetime:
    return now - timedelta(hours=hours)
