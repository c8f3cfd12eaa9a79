"""Hosted acceptance links: the app settings of an API key, the links, the server secret.

A link is stored server-side under a random id; the URL carries only that id and an HMAC
of it (``tracker.service.hosted.tokens``), so the user id is neither readable nor forgeable.
A link is single-use: ``consume`` marks it used in the transaction that records the events,
and only if it is still unused and unexpired.

``api_key_apps`` holds what the hosted page needs of the app behind a key (one row per key,
absent for keys that never send users to the page): its display name, brand colour and the
``return_url`` allow-list.
"""

from __future__ import annotations

import ipaddress
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import SplitResult, unquote, urlsplit, urlunsplit

from sqlalchemy import JSON, ForeignKey, Index, String, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from tracker.errors import Conflict, InvalidInput
from tracker.inputs import has_control
from tracker.store.keys import KeyInfo, get_key
from tracker.store.models import USER_ID_MAX, ApiKeyRow, Base, UTCDateTime

RETURN_URL_MAX = 2048
RETURN_URLS_MAX = 100
APP_NAME_MAX = 200
#: Links expired longer ago than this are deleted when new links are made.
KEEP_EXPIRED = timedelta(days=1)
_COLOR = re.compile(r"#[0-9a-fA-F]{6}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_LOOPBACK_NAMES = {"localhost"}


class KeyAppRow(Base):
    """The app behind an API key, as the hosted page shows it."""

    __tablename__ = "api_key_apps"

    api_key_id: Mapped[int] = mapped_column(
        ForeignKey("api_keys.id", ondelete="CASCADE"), primary_key=True
    )
    app_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    brand_color: Mapped[str | None] = mapped_column(String(7), nullable=True)
    return_urls: Mapped[list[str]] = mapped_column(JSON, default=list)


class AcceptanceLinkRow(Base):
    __tablename__ = "acceptance_links"
    __table_args__ = (Index("ix_acceptance_links_expires_at", "expires_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(USER_ID_MAX))
    policies: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    return_url: Mapped[str] = mapped_column(String(RETURN_URL_MAX))
    locale: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)


class ServiceSecretRow(Base):
    """Secrets the service generates once and shares between its processes."""

    __tablename__ = "service_secrets"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


# ---------------------------------------------------------------------------
# The app behind a key


@dataclass(frozen=True)
class KeyApp:
    key_id: int
    key_name: str
    app_name: str | None
    brand_color: str | None
    return_urls: tuple[str, ...]
    revoked: bool

    @property
    def display_name(self) -> str:
        return self.app_name or self.key_name


@dataclass(frozen=True)
class AppSettings:
    """A key's app settings as stored (checked and normalised)."""

    name: str | None
    color: str | None
    return_urls: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "color": self.color, "return_urls": list(self.return_urls)}


class BadSetting(InvalidInput):
    """An invalid app setting; ``detail`` says why without naming the setting, so that the
    API can name its own field (``return_urls[2]``) and the CLI its option."""

    def __init__(self, setting: str, detail: str):
        super().__init__(f"{setting}: {detail}")
        self.detail = detail


def check_color(value: str) -> str:
    if not _COLOR.fullmatch(value):
        raise BadSetting("color", f"{value!r} is not a colour like #1a73e8")
    return value.lower()


def check_app_name(value: str) -> str:
    # Shown in the page's header and title: a control character there is never intended.
    name = value.strip()
    if not 1 <= len(name) <= APP_NAME_MAX or has_control(name):
        raise BadSetting(
            "app name", f"{value!r}: give 1 to {APP_NAME_MAX} characters, no control characters"
        )
    return name


def check_return_url_entry(value: str) -> str:
    """An allow-list entry: an absolute http(s) URL with no query, fragment or user info."""
    parts = _split(value)
    if parts is None or parts.query or parts.fragment or value.endswith(("?", "#")):
        raise BadSetting(
            "return URL",
            f"{value!r}: give an absolute http(s) URL such as https://app.example.com/ "
            "(no query, fragment or user info)",
        )
    return value


def check_return_urls(values: Sequence[str]) -> tuple[str, ...]:
    """The allow-list, each entry checked, duplicates dropped (first one kept)."""
    if len(values) > RETURN_URLS_MAX:
        raise BadSetting("return URLs", f"give at most {RETURN_URLS_MAX}")
    return tuple(dict.fromkeys(check_return_url_entry(u) for u in values))


def set_key_app(
    session: Session,
    key_id: int,
    *,
    app_name: str | None = None,
    brand_color: str | None = None,
    return_urls: Sequence[str] = (),
) -> AppSettings | None:
    """Set (replace) the app settings of a key; a setting left out is cleared, and a key
    left with none has no app (None)."""
    settings = AppSettings(
        check_app_name(app_name) if app_name is not None else None,
        check_color(brand_color) if brand_color is not None else None,
        check_return_urls(return_urls),
    )
    if settings == AppSettings(None, None, ()):
        session.execute(delete(KeyAppRow).where(KeyAppRow.api_key_id == key_id))
        return None
    values: dict[str, Any] = {
        "api_key_id": key_id,
        "app_name": settings.name,
        "brand_color": settings.color,
        "return_urls": list(settings.return_urls),
    }
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(KeyAppRow).values(values)
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["api_key_id"],
            set_={k: stmt.excluded[k] for k in ("app_name", "brand_color", "return_urls")},
        )
    )
    return settings


def replace_key_app(
    session: Session,
    ident: str,
    *,
    app_name: str | None = None,
    brand_color: str | None = None,
    return_urls: Sequence[str] = (),
) -> tuple[KeyInfo, AppSettings | None]:
    """Replace the app settings of the live key with id or prefix ``ident``.

    A revoked key is a conflict (409) rather than unknown: it is still listed, but no
    request can use it, so settings for it would never take effect.
    """
    info = get_key(session, ident)
    if info.revoked_at is not None:
        raise Conflict(
            f"API key {info.id} ({info.name}) is revoked; create a new key instead",
            code="key_revoked",
        )
    app = set_key_app(
        session, info.id, app_name=app_name, brand_color=brand_color, return_urls=return_urls
    )
    return info, app


def app_settings(session: Session, key_id: int | None = None) -> dict[int, AppSettings]:
    """The app settings of every key that has them (or of ``key_id``), by key id."""
    query = select(
        KeyAppRow.api_key_id, KeyAppRow.app_name, KeyAppRow.brand_color, KeyAppRow.return_urls
    )
    if key_id is not None:
        query = query.where(KeyAppRow.api_key_id == key_id)
    rows = session.execute(query)
    return {
        r.api_key_id: AppSettings(r.app_name, r.brand_color, tuple(r.return_urls or ()))
        for r in rows
    }


def key_app(session: Session, key_id: int) -> KeyApp | None:
    row = session.execute(
        select(
            ApiKeyRow.id,
            ApiKeyRow.name,
            ApiKeyRow.revoked_at,
            KeyAppRow.app_name,
            KeyAppRow.brand_color,
            KeyAppRow.return_urls,
        )
        .outerjoin(KeyAppRow, KeyAppRow.api_key_id == ApiKeyRow.id)
        .where(ApiKeyRow.id == key_id)
    ).one_or_none()
    if row is None:
        return None
    return KeyApp(
        row.id,
        row.name,
        row.app_name,
        row.brand_color,
        tuple(row.return_urls or ()),
        row.revoked_at is not None,
    )


# ---------------------------------------------------------------------------
# Return URLs


def _split(url: str) -> SplitResult | None:
    """The parts of an absolute http(s) URL, or None for anything browsers might read
    differently from us (whitespace, backslashes, control characters, user info)."""
    if not url or len(url) > RETURN_URL_MAX or not url.isascii():
        return None
    if any(c in url for c in "\\ \t\r\n") or any(ord(c) < 32 or ord(c) == 127 for c in url):
        return None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        return None
    return parts


def _is_loopback(host: str) -> bool:
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _port(parts: SplitResult) -> int:
    return parts.port or (443 if parts.scheme == "https" else 80)


_DOT = re.compile(r"%2e", re.IGNORECASE)


def _remove_dots(path: str) -> str:
    """RFC 3986 §5.2.4 on ``path``, with ``%2e`` read as ``.`` as browsers read it."""
    out: list[str] = []
    segments = path.split("/")
    for i, segment in enumerate(segments):
        dots = _DOT.sub(".", segment)
        last = i == len(segments) - 1
        if dots == "..":
            if len(out) > 1:
                out.pop()
            if last:
                out.append("")
        elif dots == ".":
            if last:
                out.append("")
        else:
            out.append(segment)
    joined = "/".join(out)
    return joined if joined.startswith("/") else "/" + joined


def normalise_return_url(url: str) -> str | None:
    """``url`` with dot segments removed (the address a browser goes to), or None when it
    is not an absolute http(s) URL we read the same way browsers do."""
    parts = _split(url)
    if parts is None:
        return None
    return urlunsplit(parts._replace(path=_remove_dots(parts.path or "/")))


def _compared_path(parts: SplitResult) -> str:
    """The path as the allow-list compares it: percent-decoded once (an encoded ``/`` or
    ``\\`` a server may decode counts as a separator), then without dot segments."""
    return _remove_dots(unquote(parts.path or "/").replace("\\", "/"))


def return_url_allowed(url: str, allowed: Sequence[str]) -> bool:
    """Whether ``url`` is within one of the ``allowed`` entries.

    An entry matches URLs with the same scheme, host and port whose path is the entry's
    path or below it (``/app`` covers ``/app``, ``/app/x`` and ``/app?q``, not ``/apple``),
    after both paths are percent-decoded once and their dot segments removed
    (``/app/../admin`` is ``/admin``). As for OAuth native apps (RFC 8252 §7.3), a loopback
    entry without a port allows any port.
    """
    parts = _split(url)
    if parts is None:
        return False
    host = (parts.hostname or "").lower()
    path = _compared_path(parts)
    for entry in allowed:
        want = _split(entry)
        if want is None or want.scheme != parts.scheme or (want.hostname or "").lower() != host:
            continue
        if not (want.port is None and _is_loopback(host)) and _port(want) != _port(parts):
            continue
        base = _compared_path(want)
        if base.endswith("/") and path.startswith(base):
            return True
        if path == base or path.startswith(base + "/"):
            return True
    return False


# ---------------------------------------------------------------------------
# Links


@dataclass(frozen=True)
class Link:
    id: str
    api_key_id: int
    user_id: str
    policies: tuple[str, ...] | None
    return_url: str
    locale: str | None
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None
    outcome: str | None

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at


def _link(row: AcceptanceLinkRow) -> Link:
    return Link(
        row.id,
        row.api_key_id,
        row.user_id,
        tuple(row.policies) if row.policies is not None else None,
        row.return_url,
        row.locale,
        row.created_at,
        row.expires_at,
        row.used_at,
        row.outcome,
    )


def create_link(
    session: Session,
    *,
    api_key_id: int,
    user_id: str,
    policies: Sequence[str] | None,
    return_url: str,
    locale: str | None,
    now: datetime,
    ttl: timedelta,
) -> Link:
    """Store a new link under a random id (and prune links long expired)."""
    session.execute(
        delete(AcceptanceLinkRow).where(AcceptanceLinkRow.expires_at < now - KEEP_EXPIRED)
    )
    row = AcceptanceLinkRow(
        id=secrets.token_urlsafe(24),
        api_key_id=api_key_id,
        user_id=user_id,
        policies=list(policies) if policies is not None else None,
        return_url=return_url,
        locale=locale,
        created_at=now,
        expires_at=now + ttl,
    )
    session.add(row)
    session.flush()
    return _link(row)


def get_link(session: Session, link_id: str, *, lock: bool = False) -> Link | None:
    query = select(AcceptanceLinkRow).where(AcceptanceLinkRow.id == link_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    row = session.scalars(query).one_or_none()
    return _link(row) if row is not None else None


def consume(session: Session, link_id: str, outcome: str, now: datetime) -> bool:
    """Mark the link used; False when it was already used or has expired."""
    return use_once(session, AcceptanceLinkRow, link_id, now, outcome=outcome)


def use_once(session: Session, table: Any, link_id: str, now: datetime, **values: Any) -> bool:
    """Mark a single-use link (a row of ``table`` with ``id``, ``used_at`` and
    ``expires_at``: an acceptance link, a console sign-in link) used, with ``values``, in
    one statement: True only for the one request that found it unused and unexpired."""
    result = session.execute(
        update(table)
        .where(table.id == link_id, table.used_at.is_(None), table.expires_at > now)
        .values(used_at=now, **values)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


# ---------------------------------------------------------------------------
# Secrets


def service_secret(session: Session, name: str, now: datetime) -> str:
    """The named secret, generated and stored by whichever process asks first."""
    found = session.scalar(select(ServiceSecretRow.value).where(ServiceSecretRow.name == name))
    if found is not None:
        return found
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(ServiceSecretRow)
        .values(name=name, value=secrets.token_urlsafe(48), created_at=now)
        .on_conflict_do_nothing()
    )
    value = session.scalar(select(ServiceSecretRow.value).where(ServiceSecretRow.name == name))
    assert value is not None
    return value
