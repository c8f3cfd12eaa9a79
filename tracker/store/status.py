"""Status reads: set-based reads of ``consents`` (and, in the same statement on the fast
paths, of the pending notices), returned as rows. ``tracker.answers.status`` turns them into
the status answer."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, overload

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from tracker.store import sql_postgresql, sql_sqlite
from tracker.store.models import ConsentRow

# SQLite allows 32,766 bound parameters; stay well below on every database.
_CHUNK = 5000


@dataclass(frozen=True)
class Consent:
    """What the store knows of one user and one policy."""

    last_kind: str | None
    last_version_id: int | None
    accepted_version_id: int | None
    accepted_at: datetime | None


NO_CONSENT = Consent(None, None, None, None)


ConsentQuery = Select[str, int, str | None, int | None, int | None, datetime | None]

_COLUMNS = (
    ConsentRow.user_id,
    ConsentRow.policy_id,
    ConsentRow.last_kind,
    ConsentRow.last_version_id,
    ConsentRow.accepted_version_id,
    ConsentRow.accepted_at,
)
# Built once: the hot path only binds values (SQLAlchemy caches the compiled form).
_ONE = select(*_COLUMNS).where(ConsentRow.user_id == bindparam("uid"))
_MANY = select(*_COLUMNS).where(ConsentRow.user_id.in_(bindparam("uids", expanding=True)))
_STATEMENTS = {
    (False, False): _ONE,
    (True, False): _MANY,
    (False, True): _ONE.where(ConsentRow.policy_id == bindparam("pid")),
    (True, True): _MANY.where(ConsentRow.policy_id == bindparam("pid")),
}


def _statement(
    user_ids: Sequence[str], policy_id: int | None
) -> tuple[ConsentQuery, dict[str, Any]]:
    many = len(user_ids) > 1
    params: dict[str, Any] = {"uids": list(user_ids)} if many else {"uid": user_ids[0]}
    if policy_id is not None:
        params["pid"] = policy_id
    return _STATEMENTS[(many, policy_id is not None)], params


def status_query(user_ids: Sequence[str], policy_id: int | None = None) -> ConsentQuery:
    """The status lookup with its values bound: a primary-key lookup per user."""
    statement, params = _statement(user_ids, policy_id)
    return statement.params(**params)


def consents_sql(dialect: str, count: int, with_policy: bool) -> str:
    """The status lookup as the driver runs it: a primary-key lookup per user."""
    if dialect == "sqlite":
        return sql_sqlite.consents(count, with_policy)
    return sql_postgresql.consents(count, with_policy)


def consents_for(
    session: Session, user_ids: Sequence[str], policy_id: int | None = None
) -> dict[tuple[str, int], Consent]:
    """Consent rows of many users in one indexed query per chunk (primary key lookups)."""
    with driver_cursor(session) as (cursor, dialect):
        rows = consent_rows(cursor, dialect, user_ids, policy_id)
    return {
        key: Consent(kind, last_v, acc_v, utc(acc_at))
        for key, (kind, last_v, acc_v, acc_at) in rows.items()
    }


@contextmanager
def driver_cursor(session: Session) -> Iterator[tuple[Any, str]]:
    """A DB-API cursor inside the session's transaction, and the dialect's name.

    The hottest queries of the service go straight to the driver: SQLAlchemy's statement
    and result machinery costs several times the query itself there.
    """
    connection = session.connection()
    cursor: Any = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        yield cursor, connection.dialect.name
    finally:
        cursor.close()


ConsentTuple = tuple[str | None, int | None, int | None, Any]


def consent_rows(
    cursor: Any, dialect: str, user_ids: Sequence[str], policy_id: int | None = None
) -> dict[tuple[str, int], ConsentTuple]:
    """``(last_kind, last_version_id, accepted_version_id, accepted_at)`` by (user, policy),
    as the driver gives them (``accepted_at``: naive UTC text on SQLite), read with a
    DB-API ``cursor`` (``driver_cursor``). ``consents_sql`` is what the query-plan tests
    check.
    """
    out: dict[tuple[str, int], ConsentTuple] = {}
    unique = list(dict.fromkeys(user_ids))
    for start in range(0, len(unique), _CHUNK):
        chunk = unique[start : start + _CHUNK]
        params: list[Any] = [*chunk, policy_id] if policy_id is not None else chunk
        cursor.execute(consents_sql(dialect, len(chunk), policy_id is not None), params)
        for uid, pid, *rest in cursor.fetchall():
            out[(uid, pid)] = tuple(rest)
    return out


@overload
def utc(value: datetime | str) -> datetime: ...
@overload
def utc(value: datetime | str | None) -> datetime | None: ...
def utc(value: datetime | str | None) -> datetime | None:
    """A time as the driver gives it (SQLite: naive UTC text) → aware UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


#: ``(last_kind, last_version_id, accepted_version_id, accepted_at as a JSON string)``.
IsoConsent = tuple[str | None, int | None, int | None, str | None]


#: A pending notice: ``(id, user_id, policy_id, from_version_id, to_version_id,
#: significance, acceptance_required, created_at)``, the columns of ``pending_sql``.
PendingRow = Sequence[Any]


def one_user_rows_sqlite(
    cursor: Any, user_id: str, policy_id: int | None = None
) -> tuple[dict[tuple[str, int], ConsentTuple], dict[tuple[str, int], list[PendingRow]]]:
    """One user's consents and pending notices (in id order) by (user, policy) on SQLite,
    in a single statement outside any transaction (an autocommit ``cursor``).

    Consent rows have 0 where notices have their id (``sql_sqlite.ONE_USER_STATUS``)."""
    if policy_id is None:
        cursor.execute(sql_sqlite.ONE_USER_STATUS[False], (user_id,))
    else:
        cursor.execute(sql_sqlite.ONE_USER_STATUS[True], (user_id, policy_id))
    consents: dict[tuple[str, int], ConsentTuple] = {}
    pending: dict[tuple[str, int], list[PendingRow]] = {}
    for row in cursor.fetchall():
        if row[0] == 0:
            consents[(row[1], row[2])] = row[3:7]
        else:
            pending.setdefault((row[1], row[2]), []).append(row)
    for notices in pending.values():
        if len(notices) > 1:
            notices.sort(key=_by_id)
    return consents, pending


def _by_id(row: PendingRow) -> int:
    return int(row[0])


@dataclass
class PostgresRead:
    """What one ``sql_postgresql.STATUS_READ`` statement found, by user and policy."""

    #: The catalog's revision in the store (0 before anything was published).
    revision: int
    #: Whether the API key's row is there and not revoked.
    key_live: bool
    consents: dict[str, dict[int, IsoConsent]]
    #: Pending notices (``PendingRow``) in id order.
    pending: dict[str, dict[int, list[PendingRow]]]


def read_postgres_rows(rows: Sequence[Sequence[Any]]) -> PostgresRead:
    """The rows of ``sql_postgresql.STATUS_READ``, sorted out."""
    revision = 0
    key_live = False
    consents: dict[str, dict[int, IsoConsent]] = {}
    pending: dict[str, dict[int, list[PendingRow]]] = {}
    for row in rows:
        tag = row[0]
        if tag == 0:
            mine = consents.get(row[1])
            if mine is None:
                mine = consents[row[1]] = {}
            mine[row[2]] = (row[3], row[4], row[5], row[6])
        elif tag > 0:
            notice = (tag, row[1], row[2], row[4], row[5], row[3], row[7], row[6])
            by_policy = pending.setdefault(row[1], {})
            by_policy.setdefault(row[2], []).append(notice)
        elif tag == -1:
            revision = int(row[4] or 0)
        else:
            key_live = row[6] is None
    for by_policy in pending.values():
        for notices in by_policy.values():
            if len(notices) > 1:
                notices.sort(key=_by_id)
    return PostgresRead(revision, key_live, consents, pending)
