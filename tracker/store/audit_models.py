"""The audit tables: the chain head, chained records other than events, and checkpoints.

Events carry their chain columns themselves (``tracker.store.models.EventRow``). Notice
acknowledgements (an update of a notice row) and the tracker's own audit entries (erasure,
forced re-acceptance, purge) are chained as rows of ``audit_records``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tracker.store.models import USER_ID_MAX, Base, BigId, UTCDateTime


class AuditHeadRow(Base):
    """The one row holding the chain's last sequence number and hash.

    Writers lock it (``FOR UPDATE`` on PostgreSQL; SQLite writers are serialised by
    ``BEGIN IMMEDIATE``) in the transaction that appends, so the chain never forks or gaps.
    """

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigId)
    hash: Mapped[str] = mapped_column(String(64))


class AuditRecordRow(Base):
    """A chained record that is not an event: a notice acknowledgement or an audit entry."""

    __tablename__ = "audit_records"
    __table_args__ = (Index("ix_audit_records_user_id", "user_id"),)

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    type: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str | None] = mapped_column(String(USER_ID_MAX), nullable=True)
    user_id_salt: Mapped[str | None] = mapped_column(String(32), nullable=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    commitments: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CheckpointRow(Base):
    """A signed checkpoint, as issued (also exported to a file to keep elsewhere)."""

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sequence: Mapped[int] = mapped_column(BigId)
    head_hash: Mapped[str] = mapped_column(String(64))
    time: Mapped[datetime] = mapped_column(UTCDateTime)
    public_key: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(128))
