"""API keys: random, recognisable by prefix, stored only as a SHA-256 hash.

A key reads ``ptk_<prefix>_<secret>``: the prefix (8 characters) finds the row, the
whole key's hash proves possession. The secret carries 256 bits of randomness, so a
plain SHA-256 (not a slow password hash) is enough.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from tracker.errors import InvalidInput, NotFound
from tracker.inputs import printable, row_id
from tracker.store.models import ApiKeyRow

SCOPES = ("read", "write", "admin")
KEY_PREFIX = "ptk_"


@dataclass(frozen=True)
class KeyInfo:
    id: int
    name: str
    prefix: str
    scopes: frozenset[str]
    created_at: datetime
    revoked_at: datetime | None

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "prefix": self.prefix,
            "scopes": sorted(self.scopes),
            "created_at": self.created_at.isoformat(),
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
        }


def _info(row: ApiKeyRow) -> KeyInfo:
    return KeyInfo(
        row.id,
        row.name,
        row.prefix,
        frozenset(s for s in row.scopes.split(",") if s),
        row.created_at,
        row.revoked_at,
    )


def parse_scopes(value: str | list[str]) -> frozenset[str]:
    items = value.split(",") if isinstance(value, str) else value
    scopes = frozenset(s.strip().lower() for s in items if s.strip())
    unknown = scopes - set(SCOPES)
    if unknown or not scopes:
        raise InvalidInput(
            f"scopes: unknown scope {', '.join(sorted(unknown))}; use read, write, admin"
            if unknown
            else "scopes: name at least one of read, write, admin"
        )
    return scopes


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_key(session: Session, name: str, scopes: frozenset[str]) -> tuple[str, KeyInfo]:
    """Store a new key; returns the key (shown once) and its record."""
    if not name.strip():
        raise InvalidInput("name: give the key a name (the app that uses it)")
    printable("name", name)
    prefix = secrets.token_hex(4)
    key = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiKeyRow(
        name=name.strip(),
        prefix=prefix,
        hash=_hash(key),
        scopes=",".join(sorted(scopes)),
        created_at=datetime.now(UTC),
    )
    session.add(row)
    session.flush()
    return key, _info(row)


def list_keys(session: Session) -> list[KeyInfo]:
    return [_info(r) for r in session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.id))]


def _row(session: Session, ident: str) -> ApiKeyRow:
    # Digits are an id; digits past the id column's range name no key (PostgreSQL would
    # refuse to compare them with an integer column).
    key_id = row_id(ident)
    if key_id is None and ident.isascii() and ident.isdigit():
        raise NotFound(f"no API key with id or prefix {ident!r}")
    where = ApiKeyRow.id == key_id if key_id is not None else ApiKeyRow.prefix == ident
    row = session.scalars(select(ApiKeyRow).where(where)).one_or_none()
    if row is None:
        raise NotFound(f"no API key with id or prefix {ident!r}")
    return row


def get_key(session: Session, ident: str) -> KeyInfo:
    """The key with id or prefix ``ident`` (revoked or not); NotFound otherwise."""
    return _info(_row(session, ident))


def revoke_key(session: Session, ident: str) -> KeyInfo:
    """Revoke by id or prefix; revoking twice is harmless."""
    row = _row(session, ident)
    if row.revoked_at is None:
        row.revoked_at = datetime.now(UTC)
        session.flush()
    return _info(row)


_BY_PREFIX = select(
    ApiKeyRow.id,
    ApiKeyRow.name,
    ApiKeyRow.hash,
    ApiKeyRow.scopes,
    ApiKeyRow.created_at,
    ApiKeyRow.revoked_at,
).where(ApiKeyRow.prefix == bindparam("prefix"))


def authenticate(session: Session, key: str) -> KeyInfo | None:
    """The live key matching ``key``, or None (unknown, malformed or revoked)."""
    if not key.startswith(KEY_PREFIX):
        return None
    prefix, _, secret = key[len(KEY_PREFIX) :].partition("_")
    if not secret or len(prefix) != 8:
        return None
    row = session.connection().execute(_BY_PREFIX, {"prefix": prefix}).one_or_none()
    if row is None or row.revoked_at is not None:
        return None
    if not hmac.compare_digest(row.hash, _hash(key)):
        return None
    return KeyInfo(
        row.id,
        row.name,
        prefix,
        frozenset(s for s in row.scopes.split(",") if s),
        row.created_at,
        None,
    )


def touch(session: Session, key_id: int) -> None:
    session.execute(
        update(ApiKeyRow).where(ApiKeyRow.id == key_id).values(last_used_at=datetime.now(UTC))
    )
