"""The notice and outbox tables, and the names their rows use."""

from __future__ import annotations

from datetime import datetime
from typing import Any, get_args

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from tracker.contract.requests import WebhookEvent
from tracker.store.models import (
    USER_ID_MAX,
    Base,
    BigId,
    UTCDateTime,
)

#: The webhook event types, as the API contract names them.
EVENT_TYPES: tuple[str, ...] = get_args(WebhookEvent)
#: Most user ids one ``notice.created`` message names.
NOTICE_BATCH = 1000
#: The significances a notice is about.
SIGNIFICANT = ("minor", "major")


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
        # the console's deliveries of the last 24 hours, by state (a range a state)
        Index("ix_webhook_deliveries_state_created_at", "state", "created_at"),
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
    __table_args__ = (
        Index("ix_webhook_attempts_delivery_id", "delivery_id"),
        # the console's attempts of the last 24 hours
        Index("ix_webhook_attempts_started_at", "started_at"),
    )

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
