"""Recording acceptances, declines and withdrawals (append-only), and reading them back."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from sqlalchemy import ColumnElement, Connection, func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from tracker.errors import NotFound, StaleCatalog
from tracker.store import notices, sql_postgresql, sql_sqlite
from tracker.store.catalog import PolicyInfo, Snapshot, VersionInfo
from tracker.store.chain import chain_event, renumber_event
from tracker.store.models import ConsentRow, EventRow, VersionRow
from tracker.store.standing import keeps_standing
from tracker.store.status import Consent, utc
from tracker.store.translations import (
    TranslationInfo,
    bound,
    translation_by_id,
    translation_of,
)


@dataclass(frozen=True)
class NewEvent:
    user_id: str
    kind: str
    method: str
    api_key_id: int | None
    ip: str | None = None
    user_agent: str | None = None
    locale: str | None = None
    context: dict[str, Any] | None = None
    #: When the user acted, when not now: an acceptance imported from another system.
    at: datetime | None = None
    #: The text in the user's language they were shown (the hosted page knows it); else the
    #: one ``locale`` names for the version at that time (``translations.translation_of``).
    shown: TranslationInfo | None = None

    def row(
        self,
        policy_id: int,
        version_id: int | None,
        when: datetime,
        shown: TranslationInfo | None = None,
    ) -> dict[str, Any]:
        """The event row's columns but its id and the chain's; ``shown``: the text in the
        user's language it is bound to (``translations.translation_of``), if any."""
        return {
            "user_id": self.user_id,
            "policy_id": policy_id,
            "version_id": version_id,
            "kind": self.kind,
            "method": self.method,
            "api_key_id": self.api_key_id,
            "ip": self.ip,
            "user_agent": self.user_agent,
            "locale": self.locale,
            "context": self.context,
            "created_at": when,
            "translation_version_id": shown.id if shown else None,
            "translation_sha256": shown.sha256 if shown else None,
        }


def event_dict(row: EventRow, snapshot: Snapshot) -> dict[str, Any]:
    policy = snapshot.policy_by_id(row.policy_id)
    version = snapshot.version_by_id(row.version_id) if row.version_id is not None else None
    shown = translation_by_id(snapshot.translations, policy.id, row.translation_version_id)
    return event_answer(row.id, row, policy, version, row.created_at, shown)


def event_answer(
    event_id: int,
    event: EventRow | NewEvent,
    policy: PolicyInfo,
    version: VersionInfo | None,
    at: datetime,
    shown: TranslationInfo | None = None,
) -> dict[str, Any]:
    """An event as the API answers it and the ``acceptance.recorded`` message carries it."""
    return {
        "id": event_id,
        "type": event.kind,
        "user_id": event.user_id,
        "policy": policy.slug,
        "version": version.number if version else None,
        "sha256": version.sha256 if version else None,
        "method": event.method,
        "api_key_id": event.api_key_id,
        "ip": event.ip,
        "user_agent": event.user_agent,
        "locale": event.locale,
        "translation": bound(shown),
        "context": event.context,
        "recorded_at": at.isoformat(),
    }


_EVENTS = EventRow.__table__
_CONSENTS = ConsentRow.__table__


@dataclass
class LockedConsent:
    last_event_id: int | None
    last_kind: str | None
    last_version_id: int | None
    accepted_version_id: int | None
    accepted_at: datetime | None
    #: No row yet (SQLite only): saving it inserts one.
    new: bool = False
    #: PostgreSQL: the catalog's revision, and the id the new event will take.
    revision: int | None = None
    next_id: int | None = None


# On SQLite the statements of a recording go straight to the driver, inside the session's
# transaction (as the status lookup does): SQLAlchemy's execution machinery costs several
# times the statements themselves, and it runs while the write lock is held. The statements
# are ``tracker.store.sql_sqlite``'s; values are bound by their columns' SQLAlchemy types
# (``sql_sqlite.bind``), so they are stored as the ORM stores them.


def _insert_sqlite(
    connection: Connection, columns: tuple[str, ...], values: dict[str, Any], sha256: str | None
) -> Any:
    """Insert a sealed event on SQLite, its id; numbered again after a row inserted past the
    chain head by hand that took its number (``chain.renumber_event``)."""
    params = sql_sqlite.bind(connection.dialect, _EVENTS, columns, values.values())
    try:
        return _driver(connection).execute(sql_sqlite.insert_event(columns), params).fetchone()[0]
    except sqlite3.IntegrityError as exc:
        if "events.chain_seq" not in str(exc) or values.get("chain_seq") is None:
            raise
    renumber_event(connection, values, sha256)
    params = sql_sqlite.bind(connection.dialect, _EVENTS, columns, values.values())
    return _driver(connection).execute(sql_sqlite.insert_event(columns), params).fetchone()[0]


def _driver(connection: Connection) -> Any:
    return connection.connection.driver_connection


def _lock_consent(connection: Connection, user_id: str, policy_id: int) -> LockedConsent:
    """The user's consent for the policy, locked for this transaction.

    On PostgreSQL the row is created if needed and ``FOR UPDATE`` serialises concurrent
    writers for the same user and policy. SQLite writers are already serialised by
    ``BEGIN IMMEDIATE``, so there a missing row is simply inserted when it is saved.
    """
    if connection.dialect.name == "sqlite":
        row = _driver(connection).execute(sql_sqlite.READ_CONSENT, (user_id, policy_id)).fetchone()
        if row is None:
            return LockedConsent(None, None, None, None, None, new=True)
        event_id, kind, version_id, accepted_version_id, accepted_at = row
        return LockedConsent(event_id, kind, version_id, accepted_version_id, utc(accepted_at))
    key = {"uid": user_id, "pid": policy_id}
    (cursor,) = run_driver(connection, [(sql_postgresql.LOCK_CONSENT, key)])
    event_id, kind, version_id, accepted_version_id, accepted_at, revision, next_id = (
        cursor.fetchone()
    )
    return LockedConsent(
        event_id,
        kind,
        version_id,
        accepted_version_id,
        utc(accepted_at),
        revision=int(revision or 0),
        next_id=int(next_id),
    )


def run_driver(
    connection: Connection, statements: Sequence[tuple[str, dict[str, Any]]]
) -> list[Any]:
    """PostgreSQL: run ``statements`` one after the other on the connection's driver, each
    prepared; their cursors, to fetch from. A driver error comes out as SQLAlchemy's (a
    conflict is retried by ``Store.write``; a lost connection is invalidated).

    Not in a pipeline: psycopg's pipeline mode saves the round trips but costs more CPU in
    this process than they do (the same five statements, 8 threads: 0.49 ms of CPU a
    transaction without a pipeline, 0.71 ms with; 710 transactions/s against 494)."""
    driver: Any = connection.connection.driver_connection
    try:
        return [driver.execute(sql, params, prepare=True) for sql, params in statements]
    except psycopg.Error as exc:
        dbapi = connection.connection.dbapi_connection
        error: Any = exc
        lost = connection.dialect.is_disconnect(error, dbapi, None)
        if lost:
            connection.invalidate(exc)
        raise DBAPIError.instance(
            statements[0][0], None, exc, psycopg.Error, connection_invalidated=lost
        ) from exc


def record(
    session: Session,
    snapshot: Snapshot,
    policy: PolicyInfo,
    version: VersionInfo | None,
    new: NewEvent,
    now: datetime,
) -> tuple[dict[str, Any], Consent, bool]:
    """Append an event unless it repeats the user's latest one for the policy.

    Returns (event, the user's consent afterwards, whether a new event was stored).
    Recording the same acceptance (decline, withdrawal) twice in a row stores it once.
    """
    connection = session.connection()
    consent = _lock_consent(connection, new.user_id, policy.id)
    if consent.revision is not None and consent.revision != snapshot.revision:
        # PostgreSQL reads the revision with the lock: the caller reloads the catalog.
        raise StaleCatalog(f"the catalog moved to revision {consent.revision}")
    version_id = version.id if version else None
    if new.kind == "withdrawn" and version_id is None:
        version_id = consent.accepted_version_id
    if (
        consent.last_event_id is not None
        and consent.last_kind == new.kind
        and consent.last_version_id == version_id
    ):
        existing = session.get(EventRow, consent.last_event_id)
        assert existing is not None
        return event_dict(existing, snapshot), _consent(consent), False
    stored = snapshot.versions.get(version_id) if version_id is not None else None
    when = new.at or now
    shown = new.shown
    if shown is None and new.locale and stored is not None:
        shown = translation_of(
            snapshot.translations,
            policy.id,
            stored.number,
            new.locale,
            when,
            source=policy.language,
        )
    values = new.row(policy.id, version_id, when, shown)
    chain_event(session, values, stored.sha256 if stored else None)
    previous_kind = consent.last_kind
    consent.last_kind = new.kind
    consent.last_version_id = version_id
    accepted = version
    if new.kind == "accepted":
        standing = (
            snapshot.versions.get(consent.accepted_version_id)
            if consent.accepted_version_id is not None and previous_kind == "accepted"
            else None
        )
        if (
            standing is not None
            and version is not None
            and keeps_standing(previous_kind, standing.number, version.number)
        ):
            # An acceptance of an older version than the one the user stands by (an app
            # showing a stale page) is recorded but does not lower the user's state.
            accepted = standing
        else:
            consent.accepted_version_id = version_id
            consent.accepted_at = when
    if connection.dialect.name == "sqlite":
        columns = tuple(values)
        event_id = _insert_sqlite(connection, columns, values, stored.sha256 if stored else None)
        saved = (
            event_id,
            consent.last_kind,
            consent.last_version_id,
            consent.accepted_version_id,
            consent.accepted_at,
            new.user_id,
            policy.id,
        )
        columns = sql_sqlite.SAVE_CONSENT_COLUMNS
        params = sql_sqlite.bind(connection.dialect, _CONSENTS, columns, saved)
        _driver(connection).execute(sql_sqlite.SAVE_CONSENT[consent.new], params)
    else:
        assert consent.next_id is not None
        event_id = consent.next_id
    consent.last_event_id = event_id
    event = event_answer(event_id, new, policy, stored, when, shown)
    answered = (
        [v.id for v in policy.versions if v.number <= accepted.number]
        if new.kind == "accepted" and accepted is not None
        else None
    )
    if connection.dialect.name != "sqlite":
        values["id"] = event_id
        sql, bound = _record_statement(connection, values, consent, policy.id)
        statements: list[tuple[str, dict[str, Any]]] = [(sql, bound)]
        if answered is not None and accepted is not None:
            # The message is written with the event; the notices closed after it.
            statements = [(sql_postgresql.RECORD_ACCEPTANCE, bound)]
            bound.update(notices.acceptance_values(session, event, now))
            statements.append(
                notices.close_answered(new.user_id, policy.id, answered, now, accepted.number)
            )
        cursors = run_driver(connection, statements)
        if answered is not None and accepted is not None:
            notices.after_acceptance(
                session,
                new.user_id,
                policy.id,
                (accepted.id, accepted.number),
                policy.acceptance_required,
                now,
                cursors[1].fetchall(),
            )
    elif answered is not None and accepted is not None:
        # Closes the notices it answers and writes the ``acceptance.recorded`` outbox message.
        notices.on_acceptance(
            session,
            new.user_id,
            policy.id,
            answered,
            event,
            now,
            accepted=(accepted.id, accepted.number),
            acceptance_required=policy.acceptance_required,
        )
    return event, _consent(consent), True


def _record_statement(
    connection: Connection, values: dict[str, Any], consent: LockedConsent, policy_id: int
) -> tuple[str, dict[str, Any]]:
    """``sql_postgresql.RECORD_EVENT`` and its values, bound by the columns' types."""
    columns = sql_postgresql.EVENT_COLUMNS
    bound = sql_sqlite.bind(connection.dialect, _EVENTS, columns, (values[c] for c in columns))
    params: dict[str, Any] = {f"e_{c}": v for c, v in zip(columns, bound, strict=True)}
    params.update(
        uid=values["user_id"],
        pid=policy_id,
        last_kind=consent.last_kind,
        last_version_id=consent.last_version_id,
        accepted_version_id=consent.accepted_version_id,
        accepted_at=consent.accepted_at,
    )
    return sql_postgresql.RECORD_EVENT, params


def _consent(row: LockedConsent) -> Consent:
    return Consent(row.last_kind, row.last_version_id, row.accepted_version_id, row.accepted_at)


def imported(session: Session, user_ids: set[str]) -> set[tuple[str, int, datetime]]:
    """(user, version id, time) of the acceptances of these users imported from another
    system (method ``import``): an import run again skips them."""
    rows = session.execute(
        select(EventRow.user_id, EventRow.version_id, EventRow.created_at).where(
            EventRow.user_id.in_(sorted(user_ids)),
            EventRow.method == "import",
            EventRow.kind == "accepted",
        )
    )
    return {(u, int(v), utc(at) or at) for u, v, at in rows if v is not None}


def acceptance_locales(session: Session, user_id: str) -> dict[tuple[int, int], str]:
    """(policy id, version id) → the locale of the user's latest acceptance of that version
    that named one (the language a notice from that version speaks to them in)."""
    rows = session.execute(
        select(EventRow.policy_id, EventRow.version_id, EventRow.locale)
        .where(
            EventRow.user_id == user_id,
            EventRow.kind == "accepted",
            EventRow.locale.is_not(None),
        )
        .order_by(EventRow.id)
    )
    return {(p, v): str(locale) for p, v, locale in rows if v is not None}


def user_events(
    session: Session,
    snapshot: Snapshot,
    user_id: str,
    *,
    after: int = 0,
    limit: int = 100,
    policy: PolicyInfo | None = None,
) -> tuple[list[dict[str, Any]], int | None]:
    """A page of the user's events, oldest first, and the cursor of the next page."""
    query = (
        select(EventRow)
        .where(EventRow.user_id == user_id, EventRow.id > after)
        .order_by(EventRow.id)
        .limit(limit + 1)
    )
    if policy is not None:
        query = query.where(EventRow.policy_id == policy.id)
    rows = list(session.scalars(query))
    if not rows and after == 0:
        exists = session.scalar(select(EventRow.id).where(EventRow.user_id == user_id).limit(1))
        if exists is None:
            raise NotFound(f"no events for user {user_id!r}", code="user_not_found")
    more = len(rows) > limit
    rows = rows[:limit]
    return [event_dict(r, snapshot) for r in rows], (rows[-1].id if more else None)


def version_stats(session: Session, policy: PolicyInfo, version: VersionInfo) -> dict[str, Any]:
    """Counts of users for one version, each one indexed aggregate."""
    ever = session.scalar(
        select(func.count(func.distinct(EventRow.user_id))).where(
            EventRow.version_id == version.id, EventRow.kind == "accepted"
        )
    )
    mine = ConsentRow.policy_id == policy.id
    users = _consents(session, mine)
    current = _consents(
        session,
        mine,
        ConsentRow.accepted_version_id == version.id,
        ConsentRow.last_kind == "accepted",
    )
    declined = _consents(
        session,
        mine,
        ConsentRow.last_version_id == version.id,
        ConsentRow.last_kind == "declined",
    )
    # Up to date with this version means: an acceptance (still standing) of the latest major
    # version at or before it, or of any later version.
    floor = max(
        (v.number for v in policy.versions[: version.number] if v.significance == "major"),
        default=1,
    )
    up_to_date = session.scalar(
        select(func.count())
        .select_from(ConsentRow)
        .join(VersionRow, VersionRow.id == ConsentRow.accepted_version_id)
        .where(
            ConsentRow.policy_id == policy.id,
            ConsentRow.last_kind == "accepted",
            VersionRow.number >= floor,
        )
    )
    return {
        "policy": policy.slug,
        "version": version.number,
        "users": users,
        "accepted": int(ever or 0),
        "accepted_current": current,
        "declined": declined,
        "needs_acceptance": (users - int(up_to_date or 0)) if policy.acceptance_required else 0,
    }


def _consents(session: Session, *where: ColumnElement[bool]) -> int:
    """How many consent rows match ``where`` (one indexed aggregate)."""
    return int(session.scalar(select(func.count()).select_from(ConsentRow).where(*where)) or 0)
