"""Notices, webhook endpoints and the transactional outbox: tables and set-based writes.

A *notice* tells one user that a minor or major version affects them. Fan-out is one
``INSERT … SELECT`` from ``consents`` per earlier version the users accepted (a handful of
statements, never a loop over users), in the transaction that stores the version.

The *outbox* holds one row per webhook message (``outbox_messages``) and one per message and
endpoint (``webhook_deliveries``), written in the same transaction as the event they announce.
Message bodies are rendered when they are sent, from rows that never change, so every retry
of a message carries the same ``webhook-id`` and the same body. ``notice.created`` messages
name a range of notice ids of one (version, from-version) pair holding at most 1,000 users.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    bindparam,
    case,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from tracker.errors import NotFound
from tracker.store.chain import chain_notice_ack
from tracker.store.models import (
    USER_ID_MAX,
    Base,
    BigId,
    ConsentRow,
    PolicyRow,
    UTCDateTime,
    VersionRow,
)

if TYPE_CHECKING:  # catalog imports publish, which imports this module
    from tracker.store.catalog import Snapshot

EVENT_TYPES = ("policy.version_published", "acceptance.recorded", "notice.created")
#: Most user ids one ``notice.created`` message names.
NOTICE_BATCH = 1000


class NoticeRow(Base):
    """One user told of one version (covering every version since the one they accepted)."""

    __tablename__ = "notices"
    __table_args__ = (
        # Idempotent fan-out, stats per version, superseding earlier versions' notices.
        UniqueConstraint("to_version_id", "user_id"),
        # A user's notices (list, status answer, closing on acceptance).
        Index("ix_notices_user_id_policy_id", "user_id", "policy_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(String(USER_ID_MAX))
    policy_id: Mapped[int] = mapped_column(ForeignKey("policies.id", ondelete="RESTRICT"))
    from_version_id: Mapped[int] = mapped_column(ForeignKey("versions.id", ondelete="RESTRICT"))
    to_version_id: Mapped[int] = mapped_column(ForeignKey("versions.id", ondelete="RESTRICT"))
    #: The largest significance of the versions after ``from`` up to ``to``.
    significance: Mapped[str] = mapped_column(String(10))
    acceptance_required: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    acknowledged_by: Mapped[int | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="RESTRICT"), nullable=True
    )
    #: ``superseded`` (a later version's notice covers it) or ``accepted`` (the user
    #: accepted this version or a later one).
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_reason: Mapped[str | None] = mapped_column(String(16), nullable=True)


class EndpointRow(Base):
    """A subscribed app's webhook URL and its signing secret(s)."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(String(500), default="")
    event_types: Mapped[str] = mapped_column(String(200))  # comma-separated, sorted
    # The secret must be usable to sign, so it cannot be stored as a hash.
    secret: Mapped[str] = mapped_column(String(100))
    previous_secret: Mapped[str | None] = mapped_column(String(100), nullable=True)
    previous_secret_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class MessageRow(Base):
    """One webhook message; ``data`` is what its body is rendered from."""

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    webhook_id: Mapped[str] = mapped_column(String(64), unique=True)
    event_type: Mapped[str] = mapped_column(String(64))
    #: The version a ``notice.created`` or ``policy.version_published`` message is about.
    version_id: Mapped[int | None] = mapped_column(
        ForeignKey("versions.id", ondelete="RESTRICT"), nullable=True
    )
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DeliveryRow(Base):
    """One message to one endpoint. ``pending`` rows are due at ``next_attempt_at``; a claim
    moves that time to the end of its lease and sets ``lease_token``, which fences writes."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_state_next_attempt_at", "state", "next_attempt_at"),
        Index("ix_webhook_deliveries_endpoint_id_state", "endpoint_id", "state"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    message_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("outbox_messages.id", ondelete="CASCADE")
    )
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(16))  # pending, delivered, dead, cancelled
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_token: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class AttemptRow(Base):
    """The log of every attempt that finished within its lease."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (Index("ix_webhook_attempts_delivery_id", "delivery_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    delivery_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("webhook_deliveries.id", ondelete="CASCADE")
    )
    attempt: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_ms: Mapped[int] = mapped_column(Integer)
    status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    worker: Mapped[str] = mapped_column(String(100), default="")


# ---------------------------------------------------------------------------
# The outbox


def subscribers(session: Session, event_type: str) -> list[int]:
    """Ids of the live endpoints subscribed to ``event_type`` (a small table)."""
    rows = session.execute(
        select(EndpointRow.id, EndpointRow.event_types).where(
            EndpointRow.enabled.is_(True), EndpointRow.removed_at.is_(None)
        )
    )
    return [rid for rid, types in rows if event_type in types.split(",")]


def enqueue(
    session: Session,
    event_type: str,
    data: dict[str, Any],
    now: datetime,
    *,
    version_id: int | None = None,
    endpoints: Sequence[int] | None = None,
) -> int | None:
    """Write one message and its deliveries; None when no endpoint subscribes."""
    endpoints = subscribers(session, event_type) if endpoints is None else endpoints
    if not endpoints:
        return None
    message = MessageRow(
        webhook_id=f"msg_{secrets.token_hex(16)}",
        event_type=event_type,
        version_id=version_id,
        data=data,
        created_at=now,
    )
    session.add(message)
    session.flush()
    session.execute(
        insert(DeliveryRow),
        [
            {
                "message_id": message.id,
                "endpoint_id": e,
                "state": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for e in endpoints
        ],
    )
    return message.id


def _deliveries_for(session: Session, endpoints: Sequence[int], where: Any, now: datetime) -> None:
    """One delivery per (message matching ``where``, endpoint), set-based."""
    if not endpoints:
        return
    ep = select(EndpointRow.id.label("eid")).where(EndpointRow.id.in_(endpoints)).subquery()
    session.execute(
        insert(DeliveryRow).from_select(
            ["message_id", "endpoint_id", "state", "attempts", "next_attempt_at", "created_at"],
            select(
                MessageRow.id,
                ep.c.eid,
                literal("pending"),
                literal(0),
                bindparam("now_a", now, type_=UTCDateTime),
                bindparam("now_b", now, type_=UTCDateTime),
            )
            .select_from(MessageRow)
            .join(ep, literal(True))
            .where(where),
        )
    )


# ---------------------------------------------------------------------------
# Fan-out when versions are stored


SIGNIFICANT = ("minor", "major")


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
        _notice_messages(session, target, ranges, endpoints, now)
    return made


def _max_notice_id(session: Session) -> int:
    return int(session.scalar(select(func.coalesce(func.max(NoticeRow.id), 0))) or 0)


def _notice_messages(
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
    _deliveries_for(
        session,
        endpoints,
        and_(
            MessageRow.id > before,
            MessageRow.event_type == "notice.created",
            MessageRow.version_id == target.id,
        ),
        now,
    )


# ---------------------------------------------------------------------------
# On acceptance


# Built once: they run on every acceptance.
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
_SUBSCRIBED = (
    EndpointRow.enabled.is_(True),
    EndpointRow.removed_at.is_(None),
    (literal(",") + EndpointRow.event_types + literal(",")).like(bindparam("b_like"), escape="/"),
)
_ANNOUNCE = (
    insert(MessageRow)
    .from_select(
        ["webhook_id", "event_type", "version_id", "data", "created_at"],
        select(
            bindparam("b_webhook_id", type_=MessageRow.webhook_id.type),
            bindparam("b_event_type", type_=MessageRow.event_type.type),
            bindparam("b_version_id", type_=Integer),
            bindparam("b_data", type_=MessageRow.data.type),
            bindparam("b_now", type_=UTCDateTime),
        ).where(select(EndpointRow.id).where(*_SUBSCRIBED).exists()),
    )
    .returning(MessageRow.id)
)
_DELIVER = insert(DeliveryRow).from_select(
    ["message_id", "endpoint_id", "state", "attempts", "next_attempt_at", "created_at"],
    select(
        bindparam("b_message_id", type_=BigId),
        EndpointRow.id,
        literal("pending"),
        literal(0),
        bindparam("b_now", type_=UTCDateTime),
        bindparam("b_now", type_=UTCDateTime),
    ).where(*_SUBSCRIBED),
)


_PG_CLOSE_AND_LATER = (
    select(VersionRow.id, VersionRow.number, VersionRow.significance)
    .where(VersionRow.policy_id == bindparam("b_pid"), VersionRow.number > bindparam("b_number"))
    .order_by(VersionRow.number)
    .add_cte(_CLOSE_ANSWERED.returning(NoticeRow.id).cte("closed"))
)
_SQLITE_CLOSE_ANSWERED = (
    "UPDATE notices SET closed_at = ?, closed_reason = 'accepted' WHERE user_id = ? "
    "AND policy_id = ? AND closed_at IS NULL AND to_version_id IN ({marks})"
)
_SQLITE_ANY_SUBSCRIBER = (
    "SELECT 1 FROM webhook_endpoints WHERE enabled AND removed_at IS NULL "
    "AND (',' || event_types || ',') LIKE ? ESCAPE '/' LIMIT 1"
)


def announce(
    session: Session,
    event_type: str,
    data: dict[str, Any],
    now: datetime,
    *,
    version_id: int | None = None,
) -> int | None:
    """Write one message and its deliveries to the endpoints subscribed to ``event_type`` as
    this transaction sees them; None when none subscribes.

    Set-based (``INSERT … SELECT`` from the endpoints), so no list of subscribers is read
    or cached: an endpoint another process added is subscribed from its commit on. One
    statement when nobody subscribes, two otherwise.
    """
    escaped = event_type.replace("/", "//").replace("%", "/%").replace("_", "/_")
    params = {"b_like": f"%,{escaped},%", "b_now": now}
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        # Mostly nobody subscribes: ask the driver first (cheaper than the statement
        # machinery; writers are serialised, so the answer holds for this transaction).
        driver: Any = connection.connection.driver_connection
        if driver.execute(_SQLITE_ANY_SUBSCRIBER, (params["b_like"],)).fetchone() is None:
            return None
    message_id = connection.execute(
        _ANNOUNCE,
        {
            **params,
            "b_webhook_id": f"msg_{secrets.token_hex(16)}",
            "b_event_type": event_type,
            "b_version_id": version_id,
            "b_data": data,
        },
    ).scalar()
    if message_id is not None:
        connection.execute(_DELIVER, {**params, "b_message_id": message_id})
    return message_id


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
        # as SQLAlchemy stores it: naive UTC text with microseconds).
        driver: Any = connection.connection.driver_connection
        marks = ", ".join("?" * len(answered))
        driver.execute(
            _SQLITE_CLOSE_ANSWERED.format(marks=marks),
            (now.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f"), user_id, policy_id, *answered),
        )
    elif answered:
        connection.execute(
            _CLOSE_ANSWERED,
            {"b_uid": user_id, "b_pid": policy_id, "b_answered": list(answered), "b_now": now},
        )
    if accepted is not None:
        if later is None:  # SQLite: the write lock is held, nothing is in flight
            driver = connection.connection.driver_connection
            later = driver.execute(_SQLITE_LATER, (policy_id, accepted[1])).fetchall()
        _tell_of_later(session, user_id, policy_id, accepted, acceptance_required, now, later)
    keep = ("id", "user_id", "policy", "version", "sha256", "method", "api_key_id", "recorded_at")
    announce(session, "acceptance.recorded", {k: event.get(k) for k in keep}, now)


__all__ = [
    "EVENT_TYPES",
    "NOTICE_BATCH",
    "AttemptRow",
    "DeliveryRow",
    "EndpointRow",
    "MessageRow",
    "NoticeRow",
    "announce",
    "enqueue",
    "on_acceptance",
    "on_versions_created",
    "subscribers",
]


# ---------------------------------------------------------------------------
# Reading notices


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


_SQLITE_LATER = (
    "SELECT id, number, significance FROM versions WHERE policy_id = ? AND number > ? "
    "ORDER BY number"
)


def _tell_of_later(
    session: Session,
    user_id: str,
    policy_id: int,
    accepted: tuple[int, int],
    acceptance_required: bool,
    now: datetime,
    later: Sequence[Any],
) -> None:
    """``later``: (id, number, significance) of the versions after the accepted one."""
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
        _notice_messages(session, target, [(accepted_id, notice_id, notice_id)], endpoints, now)


def redline_url(site_url: str, slug: str, old: int, new: int) -> str:
    """The site's redline page from version ``old`` to ``new`` (root-relative without a site)."""
    return f"{site_url.rstrip('/')}/{slug}/changes/{old}-{new}/"


def notice_state(row: NoticeRow) -> str:
    if row.acknowledged_at is not None:
        return "acknowledged"
    return row.closed_reason or "pending"


def notice_dict(row: NoticeRow, snapshot: Snapshot, site_url: str = "") -> dict[str, Any]:
    return _notice_dict(
        snapshot,
        site_url,
        (row.id, row.user_id, row.policy_id, row.from_version_id, row.to_version_id),
        row.significance,
        row.acceptance_required,
        notice_state(row),
        row.created_at,
        row.acknowledged_at,
        row.acknowledged_by,
    )


def _notice_dict(
    snapshot: Snapshot,
    site_url: str,
    ids: tuple[int, str, int, int, int],
    significance: str,
    acceptance_required: bool,
    state: str,
    created_at: datetime,
    acknowledged_at: datetime | None = None,
    acknowledged_by: int | None = None,
) -> dict[str, Any]:
    notice_id, user_id, policy_id, from_version_id, to_version_id = ids
    policy = snapshot.policy_by_id(policy_id)
    old = snapshot.version_by_id(from_version_id)
    new = snapshot.version_by_id(to_version_id)
    covered = [
        v
        for v in policy.versions
        if old.number < v.number <= new.number and v.significance in SIGNIFICANT and v.summary
    ]
    return {
        "id": notice_id,
        "user_id": user_id,
        "policy": policy.slug,
        "title": policy.title,
        "from_version": old.number,
        "to_version": new.number,
        "significance": significance,
        "summary": "; ".join(v.summary for v in covered),
        "effective": new.effective_on.isoformat(),
        "acceptance_required": acceptance_required,
        "redline_url": redline_url(site_url, policy.slug, old.number, new.number),
        "state": state,
        "created_at": created_at.isoformat(),
        "acknowledged_at": acknowledged_at.isoformat() if acknowledged_at else None,
        "acknowledged_by": acknowledged_by,
    }


_PENDING = (NoticeRow.acknowledged_at.is_(None), NoticeRow.closed_at.is_(None))
# SQLite allows 32,766 bound parameters; stay well below on every database.
_CHUNK = 5000
_PENDING_SQL = (
    "SELECT id, user_id, policy_id, from_version_id, to_version_id, significance, "
    "acceptance_required, created_at FROM notices "
    "WHERE user_id IN ({marks}) AND acknowledged_at IS NULL AND closed_at IS NULL"
)


def pending_sql(dialect: str, count: int, with_policy: bool) -> str:
    """The pending-notices lookup as the driver runs it (``ix_notices_user_id_policy_id``)."""
    mark = "?" if dialect == "sqlite" else "%s"
    sql = _PENDING_SQL.format(marks=", ".join([mark] * count))
    return sql + (f" AND policy_id = {mark}" if with_policy else "") + " ORDER BY id"


def pending_notices(
    cursor: Any,
    dialect: str,
    snapshot: Snapshot,
    user_ids: Sequence[str],
    policy_id: int | None = None,
    site_url: str = "",
) -> dict[tuple[str, int], list[dict[str, Any]]]:
    """Pending notices of many users by (user, policy): one indexed query per chunk.

    Part of every status answer, so it is read with a DB-API ``cursor`` inside the
    caller's transaction (``tracker.store.status.driver_cursor``): loading ORM objects
    cost half of a status request.
    """
    out: dict[tuple[str, int], list[dict[str, Any]]] = {}
    unique = list(dict.fromkeys(user_ids))
    for start in range(0, len(unique), _CHUNK):
        chunk = unique[start : start + _CHUNK]
        params: list[Any] = [*chunk, policy_id] if policy_id is not None else chunk
        cursor.execute(pending_sql(dialect, len(chunk), policy_id is not None), params)
        for row in cursor.fetchall():
            out.setdefault((row[1], row[2]), []).append(pending_dict(snapshot, site_url, row))
    return out


def pending_dict(snapshot: Snapshot, site_url: str, row: Sequence[Any]) -> dict[str, Any]:
    """A pending notice from a row of ``pending_sql``'s columns."""
    nid, uid, pid, from_v, to_v, sig, required, created = row
    ids = (nid, uid, pid, from_v, to_v)
    return _notice_dict(snapshot, site_url, ids, sig, bool(required), "pending", _utc(created))


def _utc(value: datetime | str) -> datetime:
    """A timestamp as the driver gives it (SQLite: naive UTC text) → aware UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


NOTICE_STATES = ("pending", "acknowledged", "superseded", "accepted", "all")


def user_notices(
    session: Session,
    snapshot: Snapshot,
    user_id: str,
    *,
    state: str = "pending",
    policy_id: int | None = None,
    site_url: str = "",
) -> list[dict[str, Any]]:
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
    rows = session.scalars(query.order_by(NoticeRow.id))
    return [notice_dict(r, snapshot, site_url) for r in rows]


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
