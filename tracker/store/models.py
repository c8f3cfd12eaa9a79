"""The tracker's tables as typed SQLAlchemy 2 models.

Constraint and index names come from the naming convention on ``Base.metadata`` so that
migrations can refer to them on every database.

``events`` is append-only: an acceptance, decline or withdrawal is never updated or
deleted by the service. ``events.id`` is the store-wide order of events (later work adds a
hash chain over it). ``consents`` is derived from ``events`` in the same transaction: one
row per (user, policy) holding the latest event and the latest acceptance, which is what
the status lookup and notice fan-out read.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

USER_ID_MAX = 255
# SQLite only has 64-bit INTEGER PRIMARY KEY rowids when the type is exactly INTEGER.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every database (SQLite stores it naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class EventKind(StrEnum):
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


class Method(StrEnum):
    CLICKWRAP = "clickwrap"
    CONTINUED_USE = "continued_use"
    API = "api"
    IMPORT = "import"


class PolicyRow(Base):
    __tablename__ = "policies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    title: Mapped[str] = mapped_column(String(500))
    path: Mapped[str] = mapped_column(String(500), default="")
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    acceptance_required: Mapped[bool] = mapped_column(Boolean, default=True)
    notice_days: Mapped[int] = mapped_column(Integer, default=0)
    withdrawn: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: The BCP 47 tag of the source text's language (translations are in others).
    language: Mapped[str] = mapped_column(String(35), default="en", server_default="en")


class VersionRow(Base):
    __tablename__ = "versions"
    __table_args__ = (UniqueConstraint("policy_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("policies.id", ondelete="RESTRICT"))
    number: Mapped[int] = mapped_column(Integer)
    commit: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)
    effective_on: Mapped[date] = mapped_column(Date)
    significance: Mapped[str] = mapped_column(String(10))
    significance_source: Mapped[str] = mapped_column(String(20), default="declared")
    summary: Mapped[str] = mapped_column(Text, default="")
    title: Mapped[str] = mapped_column(String(500))
    author: Mapped[str] = mapped_column(String(500), default="")
    path: Mapped[str] = mapped_column(String(500), default="")
    text: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class EventRow(Base):
    __tablename__ = "events"
    __table_args__ = (
        # A user's history in order (events endpoint, cursor pagination).
        Index("ix_events_user_id_id", "user_id", "id"),
        # Version stats, and a version's acceptances of a day (the console's adoption curve).
        Index("ix_events_version_id_kind_created_at", "version_id", "kind", "created_at"),
        # The audit chain in order (verify, export); unique: the chain never forks.
        Index("ix_events_chain_seq", "chain_seq", unique=True),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(String(USER_ID_MAX))
    policy_id: Mapped[int] = mapped_column(ForeignKey("policies.id", ondelete="RESTRICT"))
    version_id: Mapped[int | None] = mapped_column(
        ForeignKey("versions.id", ondelete="RESTRICT"), nullable=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    method: Mapped[str] = mapped_column(String(32))
    api_key_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="RESTRICT"), nullable=True
    )
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    user_agent: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    locale: Mapped[str | None] = mapped_column(String(64), nullable=True)
    context: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The audit chain (tracker.audit): the event's place in it, its links, and salted
    # commitments to its personal fields. A salt is removed with the value it protects
    # (retention, erasure), which leaves the chain verifiable.
    chain_seq: Mapped[int | None] = mapped_column(BigId, nullable=True)
    chain_prev: Mapped[str | None] = mapped_column(String(64), nullable=True)
    chain_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    commitments: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    user_id_salt: Mapped[str | None] = mapped_column(String(32), nullable=True)
    ip_salt: Mapped[str | None] = mapped_column(String(32), nullable=True)
    user_agent_salt: Mapped[str | None] = mapped_column(String(32), nullable=True)
    context_salt: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # The text in the user's language the event is bound to, when it names a locale with a
    # text for its version (tracker.store.translations): which version of that translation
    # and its SHA-256, both hashed into the chain. Not a foreign key (migration 0007 adds
    # the column without rebuilding the table): ``verify`` checks each one.
    translation_version_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    translation_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)


class ConsentRow(Base):
    """The latest event and latest acceptance of one user for one policy (derived state)."""

    __tablename__ = "consents"
    __table_args__ = (
        # Fan-out and stats: every user of a policy by accepted version; the console's
        # counts read all four columns from the index alone.
        Index(
            "ix_consents_policy_accepted_last",
            "policy_id",
            "accepted_version_id",
            "last_version_id",
            "last_kind",
        ),
    )

    user_id: Mapped[str] = mapped_column(String(USER_ID_MAX), primary_key=True)
    policy_id: Mapped[int] = mapped_column(
        ForeignKey("policies.id", ondelete="RESTRICT"), primary_key=True
    )
    last_event_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("events.id", ondelete="RESTRICT"), nullable=True
    )
    last_kind: Mapped[str | None] = mapped_column(String(16), nullable=True)
    last_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("versions.id", ondelete="RESTRICT"), nullable=True
    )
    accepted_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("versions.id", ondelete="RESTRICT"), nullable=True
    )
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ApiKeyRow(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(32), unique=True)
    hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[str] = mapped_column(String(100))  # comma-separated, sorted
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class IdempotencyRow(Base):
    """A stored response for an ``Idempotency-Key``, per API key."""

    __tablename__ = "idempotency_keys"

    api_key_id: Mapped[int] = mapped_column(
        ForeignKey("api_keys.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class MetaRow(Base):
    """Store-wide counters; ``catalog_revision`` changes whenever policies or versions do."""

    __tablename__ = "store_meta"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(BigId)
