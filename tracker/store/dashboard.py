"""The console's figures, each a set-based query: who must still accept a version, the
daily adoption of a version, webhook deliveries and attempts, the audit chain's state.

The adoption curve counts, per day, the users whose first acceptance of a version fell on
that day. Days before today come from ``console_adoption_days``, a roll-up made in full on
a version's first view and extended by the days since on the first view of each later day
(``refresh_adoption``); today's count is read from the events themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    Date,
    ForeignKey,
    Integer,
    and_,
    case,
    cast,
    delete,
    exists,
    func,
    insert,
    literal,
    not_,
    or_,
    select,
)
from sqlalchemy.orm import Mapped, Session, aliased, mapped_column

from tracker.store.audit_models import AuditHeadRow, CheckpointRow
from tracker.store.catalog import PolicyInfo, VersionInfo
from tracker.store.models import Base, ConsentRow, EventRow, VersionRow
from tracker.store.notices.tables import AttemptRow, DeliveryRow, NoticeRow

PAGE_SIZE = 50
SEARCH_MAX = 255


class AdoptionDayRow(Base):
    """Users whose first acceptance of a version fell on a day (days before the roll-up's)."""

    __tablename__ = "console_adoption_days"

    version_id: Mapped[int] = mapped_column(
        ForeignKey("versions.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    users: Mapped[int] = mapped_column(Integer)


class AdoptionRollupRow(Base):
    """How far a version's roll-up goes: every day before ``through`` is in it."""

    __tablename__ = "console_adoption_rollups"

    version_id: Mapped[int] = mapped_column(
        ForeignKey("versions.id", ondelete="CASCADE"), primary_key=True
    )
    through: Mapped[date] = mapped_column(Date)


def _start(day: date) -> datetime:
    return datetime.combine(day, time.min, UTC)


def _day_of(column: Any, dialect: str) -> Any:
    if dialect == "postgresql":
        return cast(func.timezone("UTC", column), Date)
    return func.date(column)


def _first_acceptances(version_id: int) -> Any:
    return (
        select(EventRow.user_id, func.min(EventRow.created_at).label("first"))
        .where(EventRow.version_id == version_id, EventRow.kind == "accepted")
        .group_by(EventRow.user_id)
        .subquery()
    )


def rollup_due(session: Session, version_id: int, today: date) -> bool:
    through = session.scalar(
        select(AdoptionRollupRow.through).where(AdoptionRollupRow.version_id == version_id)
    )
    return through is None or through < today


def refresh_adoption(session: Session, version_id: int, today: date) -> None:
    """Roll up the version's first acceptances of every day before ``today``: all of them
    the first time, then only the days since the last roll-up (a user counted before is not
    counted again)."""
    dialect = session.get_bind().dialect.name
    through = session.scalar(
        select(AdoptionRollupRow.through).where(AdoptionRollupRow.version_id == version_id)
    )
    if through is None:
        first = _first_acceptances(version_id)
        session.execute(delete(AdoptionDayRow).where(AdoptionDayRow.version_id == version_id))
    else:
        earlier = aliased(EventRow)
        first = (
            select(EventRow.user_id, func.min(EventRow.created_at).label("first"))
            .where(
                EventRow.version_id == version_id,
                EventRow.kind == "accepted",
                EventRow.created_at >= _start(through),
                not_(
                    exists().where(
                        earlier.user_id == EventRow.user_id,
                        earlier.version_id == version_id,
                        earlier.kind == "accepted",
                        earlier.created_at < _start(through),
                    )
                ),
            )
            .group_by(EventRow.user_id)
            .subquery()
        )
    day = _day_of(first.c.first, dialect)
    session.execute(
        insert(AdoptionDayRow).from_select(
            ["version_id", "day", "users"],
            select(literal(version_id, Integer), day, func.count())
            .where(first.c.first < _start(today))
            .group_by(day),
        )
    )
    session.execute(delete(AdoptionRollupRow).where(AdoptionRollupRow.version_id == version_id))
    session.add(AdoptionRollupRow(version_id=version_id, through=today))
    session.flush()


def adoption(session: Session, version_id: int, today: date) -> list[tuple[date, int]]:
    """(day, users who first accepted the version that day), oldest first, today last
    (from the roll-up, which must be fresh, and today's events)."""
    rows = session.execute(
        select(AdoptionDayRow.day, AdoptionDayRow.users)
        .where(AdoptionDayRow.version_id == version_id)
        .order_by(AdoptionDayRow.day)
    ).all()
    earlier = aliased(EventRow)
    start = _start(today)
    todays = session.scalar(
        select(func.count(func.distinct(EventRow.user_id))).where(
            EventRow.version_id == version_id,
            EventRow.kind == "accepted",
            EventRow.created_at >= start,
            not_(
                exists().where(
                    earlier.user_id == EventRow.user_id,
                    earlier.version_id == version_id,
                    earlier.kind == "accepted",
                    earlier.created_at < start,
                )
            ),
        )
    )
    days = [(_as_date(d), int(n)) for d, n in rows]
    return [*days, (today, int(todays or 0))]


def _as_date(value: date | str) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


def version_figures(
    session: Session, policy: PolicyInfo, version: VersionInfo, today: date
) -> dict[str, Any]:
    """What ``version_stats`` answers, read in two passes instead of five: the consents of
    the policy grouped by (accepted version, last version, last decision) on one covering
    index, and the users who ever accepted the version from the adoption roll-up (which
    must be fresh) and today's events."""
    groups = session.execute(
        select(
            ConsentRow.accepted_version_id,
            ConsentRow.last_version_id,
            ConsentRow.last_kind,
            func.count(),
        )
        .where(ConsentRow.policy_id == policy.id)
        .group_by(ConsentRow.accepted_version_id, ConsentRow.last_version_id, ConsentRow.last_kind)
    ).all()
    numbers = {v.id: v.number for v in policy.versions}
    floor = _floor(policy, version)
    users = current = declined = up_to_date = 0
    for accepted, last, kind, n in groups:
        users += n
        if kind == "accepted" and accepted == version.id:
            current += n
        if kind == "declined" and last == version.id:
            declined += n
        if kind == "accepted" and accepted is not None and numbers.get(accepted, 0) >= floor:
            up_to_date += n
    ever = sum(n for _, n in adoption(session, version.id, today))
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


def _must_accept(policy: PolicyInfo, version: VersionInfo, search: str) -> Any:
    floor = _floor(policy, version)
    accepted = aliased(VersionRow)
    up_to_date = and_(ConsentRow.last_kind == "accepted", accepted.number >= floor)
    where = [ConsentRow.policy_id == policy.id, or_(accepted.number.is_(None), not_(up_to_date))]
    if search:
        escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where.append(ConsentRow.user_id.like(escaped + "%", escape="\\"))
    return accepted, where


def must_accept(
    session: Session,
    policy: PolicyInfo,
    version: VersionInfo,
    *,
    search: str = "",
    offset: int = 0,
    limit: int = PAGE_SIZE,
) -> list[Pending]:
    """A page of the users of the policy not up to date with ``version`` (user id order),
    with their last decision and whether they were told (their notice of this version)."""
    accepted, where = _must_accept(policy, version, search)
    notice_state = case(
        (NoticeRow.id.is_(None), "none"),
        (NoticeRow.acknowledged_at.is_not(None), "acknowledged"),
        (NoticeRow.closed_at.is_not(None), "closed"),
        else_="pending",
    )
    query = (
        select(ConsentRow.user_id, ConsentRow.last_kind, accepted.number, notice_state)
        .outerjoin(accepted, accepted.id == ConsentRow.accepted_version_id)
        .outerjoin(
            NoticeRow,
            and_(NoticeRow.to_version_id == version.id, NoticeRow.user_id == ConsentRow.user_id),
        )
        .where(*where)
        .order_by(ConsentRow.user_id)
        .offset(offset)
        .limit(limit)
    )
    return [Pending(u, k, n, s) for u, k, n, s in session.execute(query)]


def must_accept_count(
    session: Session, policy: PolicyInfo, version: VersionInfo, search: str = ""
) -> int:
    accepted, where = _must_accept(policy, version, search)
    query = (
        select(func.count())
        .select_from(ConsentRow)
        .outerjoin(accepted, accepted.id == ConsentRow.accepted_version_id)
        .where(*where)
    )
    return int(session.scalar(query) or 0)


# ---------------------------------------------------------------------------
# Webhooks and the audit chain


def deliveries_since(session: Session, since: datetime) -> dict[str, int]:
    """Deliveries created since ``since``, by state."""
    rows = session.execute(
        select(DeliveryRow.state, func.count())
        .where(DeliveryRow.created_at >= since)
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
    ok = and_(AttemptRow.status >= 200, AttemptRow.status < 300)
    rows = session.execute(
        select(
            DeliveryRow.endpoint_id,
            func.count(),
            func.sum(case((ok, 1), else_=0)),
        )
        .join(DeliveryRow, DeliveryRow.id == AttemptRow.delivery_id)
        .where(AttemptRow.started_at >= since)
        .group_by(DeliveryRow.endpoint_id)
    ).all()
    durations: dict[int, list[int]] = {}
    for endpoint, ms in session.execute(
        select(DeliveryRow.endpoint_id, AttemptRow.duration_ms)
        .join(DeliveryRow, DeliveryRow.id == AttemptRow.delivery_id)
        .where(AttemptRow.started_at >= since)
        .order_by(AttemptRow.id.desc())
        .limit(20_000)
    ):
        durations.setdefault(int(endpoint), []).append(int(ms))
    states: dict[int, dict[str, int]] = {}
    for endpoint, state, n in session.execute(
        select(DeliveryRow.endpoint_id, DeliveryRow.state, func.count())
        .where(DeliveryRow.state.in_(("dead", "pending")))
        .group_by(DeliveryRow.endpoint_id, DeliveryRow.state)
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
