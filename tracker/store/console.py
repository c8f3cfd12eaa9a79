"""The console's sign-in links and sessions.

A sign-in link (``policy-tracker console-link``) and a session are each a random token held
by the person; the store keeps only its SHA-256, so a copy of the database signs no one in.
A link is single-use: ``sign_in`` marks it used and opens the session in one transaction,
and only while it is unused and unexpired. A session ends after ``idle`` without a request
or ``absolute`` after it began, whichever comes first, or when its holder signs out.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Index, String, delete, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from tracker.errors import InvalidInput
from tracker.inputs import has_control
from tracker.store.links import use_once
from tracker.store.models import Base, UTCDateTime

ROLES = ("viewer", "admin")
NAME_MAX = 200
#: Links and sessions ended longer ago than this are deleted when new ones are made.
KEEP_ENDED = timedelta(days=1)
#: A session's ``last_seen_at`` is written at most this often (a page view is a read).
TOUCH_EVERY = timedelta(seconds=30)


class ConsoleLinkRow(Base):
    __tablename__ = "console_links"
    __table_args__ = (Index("ix_console_links_expires_at", "expires_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of the token
    role: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ConsoleSessionRow(Base):
    __tablename__ = "console_sessions"
    __table_args__ = (Index("ix_console_sessions_expires_at", "expires_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of the token
    link_id: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: The absolute end: ``created_at`` plus the session's longest life.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


@dataclass(frozen=True)
class ConsoleSession:
    id: str
    role: str
    name: str
    created_at: datetime

    @property
    def admin(self) -> bool:
        return self.role == "admin"

    @property
    def who(self) -> str:
        """How the audit chain names the person: their name, role and session."""
        return f"{self.name} ({self.role}, console session {self.id[:12]})"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def check_role(role: str) -> str:
    if role not in ROLES:
        raise InvalidInput(f"role: must be one of {', '.join(ROLES)}, not {role!r}")
    return role


def check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > NAME_MAX or has_control(name):
        raise InvalidInput(f"name: must be 1 to {NAME_MAX} characters without control characters")
    return name


def create_link(session: Session, role: str, name: str, now: datetime, ttl: timedelta) -> str:
    """A new sign-in link's token (shown once; only its SHA-256 is stored)."""
    role, name = check_role(role), check_name(name)
    session.execute(delete(ConsoleLinkRow).where(ConsoleLinkRow.expires_at < now - KEEP_ENDED))
    token = secrets.token_urlsafe(32)
    session.add(
        ConsoleLinkRow(id=digest(token), role=role, name=name, created_at=now, expires_at=now + ttl)
    )
    session.flush()
    return token


def link_state(session: Session, token: str, now: datetime) -> str:
    """``usable``, ``used``, ``expired`` or ``invalid`` (unknown or malformed)."""
    if not 20 <= len(token) <= 100:
        return "invalid"
    row = session.get(ConsoleLinkRow, digest(token))
    if row is None:
        return "invalid"
    if row.used_at is not None:
        return "used"
    return "expired" if now >= row.expires_at else "usable"


def sign_in(
    session: Session, token: str, now: datetime, absolute: timedelta
) -> tuple[str, ConsoleSession] | str:
    """Use the link up and open a session: (the session's token, the session), or why not
    (``used``, ``expired``, ``invalid``)."""
    state = link_state(session, token, now)
    if state != "usable":
        return state
    link_id = digest(token)
    if not use_once(session, ConsoleLinkRow, link_id, now):
        return "used"  # another request used it in between
    link = session.get(ConsoleLinkRow, link_id)
    assert link is not None
    session.execute(
        delete(ConsoleSessionRow).where(ConsoleSessionRow.expires_at < now - KEEP_ENDED)
    )
    session_token = secrets.token_urlsafe(32)
    row = ConsoleSessionRow(
        id=digest(session_token),
        link_id=link_id,
        role=link.role,
        name=link.name,
        created_at=now,
        last_seen_at=now,
        expires_at=now + absolute,
    )
    session.add(row)
    session.flush()
    return session_token, ConsoleSession(row.id, row.role, row.name, row.created_at)


def find_session(
    session: Session, token: str | None, now: datetime, idle: timedelta
) -> tuple[ConsoleSession, bool] | None:
    """The open session of a cookie's token, and whether its ``last_seen_at`` is due a
    write (``touch``); None when unknown, ended, idle too long or past its end."""
    if token is None or not 20 <= len(token) <= 100:
        return None
    row = session.get(ConsoleSessionRow, digest(token))
    if row is None or row.ended_at is not None:
        return None
    if now >= row.expires_at or now >= row.last_seen_at + idle:
        return None
    found = ConsoleSession(row.id, row.role, row.name, row.created_at)
    return found, now - row.last_seen_at >= TOUCH_EVERY


def touch(session: Session, session_id: str, now: datetime) -> None:
    session.execute(
        update(ConsoleSessionRow)
        .where(ConsoleSessionRow.id == session_id, ConsoleSessionRow.ended_at.is_(None))
        .values(last_seen_at=now)
    )


def end_session(session: Session, session_id: str, now: datetime) -> bool:
    ended = session.execute(
        update(ConsoleSessionRow)
        .where(ConsoleSessionRow.id == session_id, ConsoleSessionRow.ended_at.is_(None))
        .values(ended_at=now)
    )
    return bool(getattr(ended, "rowcount", 0) == 1)
