"""Reading a django-termsandconditions database: its ``TermsAndConditions`` versions and its
``UserTermsAndConditions`` acceptances, checked before anything is written.

The database is read, never written, with plain SQL on the app's two tables; Django is not
needed. Whatever would make the import wrong is refused here, in one line: a database that
cannot be opened or is not the app's, a version never made active (no ``date_active``), two
acceptances of one version by one user, an acceptance dated in the future or of a version
that is not there.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from tracker.errors import InvalidInput, TrackerError

TERMS = "termsandconditions_termsandconditions"
ACCEPTANCES = "termsandconditions_usertermsandconditions"
_TERMS_COLUMNS = "id, slug, name, version_number, text, info, date_active"
_ACCEPTANCE_COLUMNS = "id, user_id, terms_id, ip_address, date_accepted"


class PeerError(TrackerError):
    """The django-termsandconditions database cannot be imported as it is."""

    code = "bad_import_source"


@dataclass(frozen=True)
class Terms:
    """One ``TermsAndConditions`` row: a version of the policy ``slug``."""

    id: int
    slug: str
    name: str
    version_number: Decimal
    text: str
    info: str
    date_active: datetime

    @property
    def number(self) -> str:
        """The version number as the app shows it (``1.50``)."""
        return f"{self.version_number:.2f}"

    @property
    def label(self) -> str:
        return f"{self.slug} {self.number} (id {self.id})"


@dataclass(frozen=True)
class Acceptance:
    """One ``UserTermsAndConditions`` row."""

    id: int
    user_id: str
    terms_id: int
    ip: str | None
    accepted_at: datetime


@dataclass(frozen=True)
class Peer:
    terms: tuple[Terms, ...]
    acceptances: tuple[Acceptance, ...]


def source_url(url: str) -> str:
    """A Django-style database URL as SQLAlchemy reads it: ``postgres://`` and
    ``postgresql://`` go through psycopg 3; a SQLite file is opened read-only."""
    url = re.sub(r"^postgres(ql)?://", "postgresql+psycopg://", url)
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise PeerError(
            f"--from {url!r} is not a database URL (sqlite:///path/db.sqlite3 or "
            "postgresql://user@host/db)"
        ) from None
    if parsed.get_backend_name() == "sqlite":
        name = parsed.database or ""
        if not name or name == ":memory:":
            raise PeerError(f"--from {url!r} names no SQLite file")
        path = Path(name)
        if not path.is_file():
            raise PeerError(f"cannot read {path}: no such file")
        return f"sqlite:///file:{path.resolve()}?mode=ro&uri=true"
    if parsed.get_backend_name() != "postgresql":
        raise PeerError(f"--from {url!r}: only SQLite and PostgreSQL databases are read")
    return url


@contextmanager
def _connect(url: str) -> Iterator[Connection]:
    engine = create_engine(source_url(url), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            yield conn
    except DBAPIError as exc:
        first = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        raise PeerError(f"cannot read the django-termsandconditions database: {first}") from None
    except SQLAlchemyError as exc:
        raise PeerError(f"cannot read the django-termsandconditions database: {exc}") from None
    finally:
        engine.dispose()


def _aware(value: Any) -> datetime:
    """A time as the driver gives it (SQLite: text, naive in UTC as Django stores it with
    ``USE_TZ``) → aware UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        raise PeerError(f"{value!r} is not a date and time")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def read_peer(url: str, now: datetime) -> Peer:
    """Every version and acceptance of the database at ``url``, checked (``PeerError``)."""
    with _connect(url) as conn:
        tables = set(inspect(conn).get_table_names())
        missing = [t for t in (TERMS, ACCEPTANCES) if t not in tables]
        if missing:
            raise PeerError(
                f"the database has no table {missing[0]}: it is not a django-termsandconditions "
                "database (give the Django app's DATABASE_URL, after its migrations)"
            )
        terms_rows = conn.execute(text(f"SELECT {_TERMS_COLUMNS} FROM {TERMS} ORDER BY id"))
        terms = [_terms(r) for r in terms_rows]
        rows = conn.execute(
            text(f"SELECT {_ACCEPTANCE_COLUMNS} FROM {ACCEPTANCES} ORDER BY date_accepted, id")
        )
        acceptances = [
            Acceptance(int(r[0]), str(r[1]), int(r[2]), _ip(r[0], r[3]), _aware(r[4])) for r in rows
        ]
    return check(terms, acceptances, now)


def _ip(id_: Any, value: Any) -> str | None:
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(str(value)))
    except ValueError:
        raise PeerError(f"acceptance id {id_} has ip_address {value!r}, not an address") from None


def _terms(row: Any) -> Terms:
    id_, slug, name, number, body, info, active = row
    label = f"{slug} {Decimal(str(number)):.2f} (id {id_})"
    if active is None:
        raise PeerError(
            f"version {label} has no date_active: django-termsandconditions never made it "
            "active; give it a date_active or delete it, then import again"
        )
    return Terms(
        int(id_),
        str(slug),
        " ".join(str(name).split()),
        Decimal(str(number)),
        str(body or ""),
        str(info or ""),
        _aware(active),
    )


def check(terms: list[Terms], acceptances: list[Acceptance], now: datetime) -> Peer:
    """The rules the data must follow before anything is written."""
    if not terms:
        raise PeerError("the database has no TermsAndConditions: nothing to import")
    by_id = {t.id: t for t in terms}
    seen: dict[tuple[str, int], int] = {}
    for a in acceptances:
        if a.terms_id not in by_id:
            raise PeerError(f"acceptance id {a.id} names terms id {a.terms_id}, which is not there")
        earlier = seen.setdefault((a.user_id, a.terms_id), a.id)
        if earlier != a.id:
            raise PeerError(
                f"duplicate acceptances: ids {earlier} and {a.id} both record user {a.user_id} "
                f"accepting {by_id[a.terms_id].label}; delete one, then import again"
            )
        if a.accepted_at > now:
            raise InvalidInput(
                f"acceptance id {a.id} (user {a.user_id}, {by_id[a.terms_id].label}) is dated "
                f"{a.accepted_at.isoformat()}, in the future; correct its date_accepted"
            )
    ordered = sorted(terms, key=lambda t: (t.date_active, t.version_number, t.id))
    return Peer(tuple(ordered), tuple(acceptances))


__all__ = ["Acceptance", "Peer", "PeerError", "Terms", "read_peer", "source_url"]
