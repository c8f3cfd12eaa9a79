"""Status: must this user (re-)accept? Set-based reads of ``consents`` plus pure rules."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import orjson
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from tracker.store import sql_postgresql, sql_sqlite
from tracker.store.catalog import PolicyInfo, Snapshot
from tracker.store.models import ConsentRow
from tracker.store.notices import pending_dict, pending_notices

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


def policy_status(
    policy: PolicyInfo, consent: Consent, today: date, snapshot: Snapshot
) -> dict[str, Any]:
    """The status answer for one policy (see docs/api.md for the rules)."""
    line = policy.timeline(today)
    current = policy.versions[line.current - 1] if line.current is not None else None
    # The next version to take effect (of several due the same day, the one that governs;
    # never one a later version overtakes: it never takes effect).
    upcoming = policy.versions[line.next_up - 1] if line.next_up is not None else None
    accepted = (
        snapshot.version_by_id(consent.accepted_version_id)
        if consent.accepted_version_id is not None
        else None
    )
    accepted_number = accepted.number if accepted is not None else None
    needs: bool
    accept_by: date | None = None
    if consent.last_kind in ("declined", "withdrawn"):
        state, needs = consent.last_kind, True
    elif accepted_number is None:
        state, needs = "never_accepted", True
    else:
        majors = [
            v for v in policy.versions if v.number > accepted_number and v.significance == "major"
        ]
        # A major change comes into force with its version or with a later one that
        # overtakes it; the first such day, whichever major version sets it, is the deadline.
        if majors:
            accept_by = min(line.takes_effect(v.number) for v in majors)
        if accept_by is not None and accept_by <= today:
            state, needs = "major_change", True
        else:
            state, needs = "accepted", False
    if current is None or not policy.acceptance_required or policy.withdrawn:
        needs = False
    return {
        "policy": policy.slug,
        "title": policy.title,
        "acceptance_required": policy.acceptance_required,
        "current_version": current.number if current else None,
        "accepted_version": accepted_number,
        "accepted_at": consent.accepted_at.isoformat() if consent.accepted_at else None,
        "state": state,
        "needs_acceptance": needs,
        "accept_by": accept_by.isoformat() if accept_by else None,
        "upcoming": (
            {
                "version": upcoming.number,
                "significance": upcoming.significance,
                "effective": upcoming.effective_on.isoformat(),
                "summary": upcoming.summary,
            }
            if upcoming
            else None
        ),
    }


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
        key: Consent(kind, last_v, acc_v, _utc(acc_at))
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


def _utc(value: datetime | str | None) -> datetime | None:
    """``accepted_at`` as the driver gives it (SQLite: naive UTC text) → aware UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def iso_utc(value: datetime | str | None) -> str | None:
    """``accepted_at`` as the driver gives it → ``datetime.isoformat()`` of it in UTC.

    SQLite's text (SQLAlchemy's storage format, naive UTC, microseconds always written) is
    rewritten without a ``datetime``: a batch formats tens of thousands of them.
    """
    if isinstance(value, str) and len(value) == 26 and value[10] == " " and value[19] == ".":
        fraction = "" if value.endswith("000000") else value[19:]
        return f"{value[:10]}T{value[11:19]}{fraction}+00:00"
    at = _utc(value)
    return at.isoformat() if at is not None else None


_Parts = tuple[bytes, bytes]


class StatusEncoder:
    """Status answers as JSON (what the API sends), for one catalog snapshot and day.

    Users in the same situation share one answer but for ``accepted_at`` and ``notices``,
    so each (policy, situation) is encoded once, as the bytes before and after
    ``accepted_at``; an answer costs a few byte-string joins per user and policy. Only the
    catalog is memoised here: consents and notices are read for every answer.
    """

    def __init__(self, snapshot: Snapshot, today: date, site_url: str = ""):
        self.snapshot = snapshot
        self.today = today
        self.site_url = site_url
        self.seen: dict[tuple[int, str | None, int | None, int | None], _Parts] = {}
        #: The policies a status answer lists: those with at least one version.
        self.listed = [p for p in snapshot.policies if p.versions]

    def parts(
        self, policy: PolicyInfo, kind: str | None, last: int | None, acc: int | None
    ) -> _Parts:
        key = (policy.id, kind, last, acc)
        found = self.seen.get(key)
        if found is None:
            answer = policy_status(
                policy, Consent(kind, last, acc, None), self.today, self.snapshot
            )
            keys = list(answer)
            cut = keys.index("accepted_at")
            head = orjson.dumps({k: answer[k] for k in keys[:cut]})
            tail = orjson.dumps({k: answer[k] for k in keys[cut + 1 :]})
            found = (head[:-1] + b',"accepted_at":', b"," + tail[1:-1] + b',"notices":')
            self.seen[key] = found
        return found

    def user(
        self,
        user_id: str,
        policies: Sequence[PolicyInfo],
        consents: dict[tuple[str, int], ConsentTuple],
        pending: dict[tuple[str, int], list[dict[str, Any]]],
    ) -> bytes:
        """``{"user_id": …, "policies": [status, …]}`` of one user."""
        out = [b'{"user_id":', orjson.dumps(user_id), b',"policies":[']
        seen = self.seen
        sep = b""
        for p in policies:
            key = (user_id, p.id)
            row = consents.get(key)
            if row is None:
                kind = last = acc = accepted_at = None
            else:
                kind, last, acc, accepted_at = row
            parts = seen.get((p.id, kind, last, acc)) or self.parts(p, kind, last, acc)
            text = iso_utc(accepted_at) if accepted_at is not None else None
            at = b"null" if text is None else f'"{text}"'.encode()
            notices = pending.get(key) if pending else None
            end = orjson.dumps(notices) + b"}" if notices else b"[]}"
            out += (sep, parts[0], at, parts[1], end)
            sep = b","
        out.append(b"]}")
        return b"".join(out)

    def users(
        self,
        user_ids: Sequence[str],
        policies: Sequence[PolicyInfo],
        consents: dict[str, dict[int, IsoConsent]],
        pending: dict[str, dict[int, list[dict[str, Any]]]],
    ) -> list[bytes]:
        """``user`` of many users, from consents grouped by user whose ``accepted_at`` is
        already its JSON string (as ``sql_postgresql.STATUS_READ`` gives it): a batch's hot
        loop, where a policy the user has no row and no notice for is one constant piece."""
        seen = self.seen
        blank: list[tuple[PolicyInfo, bytes]] = []
        for p in policies:
            head, tail = self.parts(p, None, None, None)
            blank.append((p, head + b"null" + tail + b"[]}"))
        nobody = b",".join(piece for _, piece in blank) + b"]}"
        dumps = orjson.dumps
        out: list[bytes] = []
        for uid in user_ids:
            start = b'{"user_id":' + dumps(uid) + b',"policies":['
            rows = consents.get(uid)
            notes = pending.get(uid)
            if rows is None and notes is None:
                out.append(start + nobody)
                continue
            pieces = []
            for p, empty in blank:
                row = rows.get(p.id) if rows is not None else None
                notices = notes.get(p.id) if notes is not None else None
                if row is None:
                    if not notices:
                        pieces.append(empty)
                        continue
                    kind = last = acc = at = None
                else:
                    kind, last, acc, at = row
                head, tail = seen.get((p.id, kind, last, acc)) or self.parts(p, kind, last, acc)
                end = dumps(notices) + b"}" if notices else b"[]}"
                pieces.append(head + (b"null" if at is None else at.encode()) + tail + end)
            out.append(start + b",".join(pieces) + b"]}")
        return out


_encoder: StatusEncoder | None = None


def encoder_for(snapshot: Snapshot, today: date, site_url: str = "") -> StatusEncoder:
    """The encoder of this snapshot and day, kept until either changes."""
    global _encoder
    found = _encoder
    if (
        found is None
        or found.snapshot is not snapshot
        or found.today != today
        or found.site_url != site_url
    ):
        found = _encoder = StatusEncoder(snapshot, today, site_url)
    return found


def user_statuses(
    session: Session,
    snapshot: Snapshot,
    user_ids: Sequence[str],
    today: date,
    policy: PolicyInfo | None = None,
    site_url: str = "",
) -> list[bytes]:
    """``{user_id, policies: [status, …]}`` for each user, in the order given, as JSON.

    Each policy's status carries the user's pending ``notices`` (``tracker.store.notices``).
    Both are read in the session's transaction, so they agree with each other.
    """
    if not user_ids:
        return []
    policy_id = policy.id if policy else None
    with driver_cursor(session) as (cursor, dialect):
        consents = consent_rows(cursor, dialect, user_ids, policy_id)
        pending = pending_notices(cursor, dialect, snapshot, user_ids, policy_id, site_url)
    policies = [policy] if policy else [p for p in snapshot.policies if p.versions]
    encoder = encoder_for(snapshot, today, site_url)
    return [encoder.user(uid, policies, consents, pending) for uid in user_ids]


def one_user_status_sqlite(
    cursor: Any,
    snapshot: Snapshot,
    user_id: str,
    today: date,
    policy: PolicyInfo | None = None,
    site_url: str = "",
) -> bytes:
    """``user_statuses`` of one user on SQLite, in a single statement outside any
    transaction (an autocommit ``cursor``): the same answer in fewer round trips.

    Consent rows have 0 where notices have their id (``sql_sqlite.ONE_USER_STATUS``); a
    user's pending notices of one policy are put in id order here."""
    if policy is None:
        cursor.execute(sql_sqlite.ONE_USER_STATUS[False], (user_id,))
    else:
        cursor.execute(sql_sqlite.ONE_USER_STATUS[True], (user_id, policy.id))
    consents: dict[tuple[str, int], ConsentTuple] = {}
    pending: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for row in cursor.fetchall():
        if row[0] == 0:
            consents[(row[1], row[2])] = row[3:7]
        else:
            pending.setdefault((row[1], row[2]), []).append(pending_dict(snapshot, site_url, row))
    for notices in pending.values():
        if len(notices) > 1:
            notices.sort(key=_by_id)
    encoder = encoder_for(snapshot, today, site_url)
    return encoder.user(user_id, [policy] if policy else encoder.listed, consents, pending)


def _by_id(notice: dict[str, Any]) -> int:
    return int(notice["id"])


#: ``(last_kind, last_version_id, accepted_version_id, accepted_at as a JSON string)``.
IsoConsent = tuple[str | None, int | None, int | None, str | None]


@dataclass
class PostgresRead:
    """What one ``sql_postgresql.STATUS_READ`` statement found, by user and policy."""

    #: The catalog's revision in the store (0 before anything was published).
    revision: int
    #: Whether the API key's row is there and not revoked.
    key_live: bool
    consents: dict[str, dict[int, IsoConsent]]
    pending: dict[str, dict[int, list[dict[str, Any]]]]


def read_postgres_rows(
    rows: Sequence[Sequence[Any]], snapshot: Snapshot, site_url: str
) -> PostgresRead:
    """The rows of ``sql_postgresql.STATUS_READ``, sorted out. A notice naming a version the
    snapshot does not know raises ``StaleCatalog`` (as on the routed path)."""
    revision = 0
    key_live = False
    consents: dict[str, dict[int, IsoConsent]] = {}
    pending: dict[str, dict[int, list[dict[str, Any]]]] = {}
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
            by_policy.setdefault(row[2], []).append(pending_dict(snapshot, site_url, notice))
        elif tag == -1:
            revision = int(row[4] or 0)
        else:
            key_live = row[6] is None
    for by_policy in pending.values():
        for notices in by_policy.values():
            if len(notices) > 1:
                notices.sort(key=_by_id)
    return PostgresRead(revision, key_live, consents, pending)
