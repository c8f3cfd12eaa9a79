"""Status: must this user (re-)accept? Set-based reads of ``consents`` plus pure rules."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from tracker.store.catalog import PolicyInfo, Snapshot
from tracker.store.models import ConsentRow
from tracker.store.notices import pending_notices

# SQLite allows 32,766 bound parameters; stay well below on every database.
_CHUNK = 5000


@dataclass(frozen=True)
class Consent:
    """What the store knows of one user and one policy."""

    last_kind: str | None
    last_version_id: int | None
    accepted_version_id: int | None
    accepted_at: datetime | None

    def _replace_at(self, at: datetime | None) -> Consent:
        return Consent(self.last_kind, self.last_version_id, self.accepted_version_id, at)


NO_CONSENT = Consent(None, None, None, None)


def policy_status(
    policy: PolicyInfo, consent: Consent, today: date, snapshot: Snapshot
) -> dict[str, Any]:
    """The status answer for one policy (see docs/api.md for the rules)."""
    current = policy.current(today)
    upcoming = None
    for v in policy.versions:
        if v.effective_on > today and (current is None or v.number > current.number):
            upcoming = v
    accepted = snapshot.versions.get(consent.accepted_version_id or -1)
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
        if majors:
            accept_by = majors[0].effective_on
        if any(v.effective_on <= today for v in majors):
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


class StatusMemo:
    """``policy_status`` for many users: users in the same situation share one answer
    (only ``accepted_at`` differs), so a batch costs a dict copy per user and policy."""

    def __init__(self, today: date, snapshot: Snapshot):
        self.today = today
        self.snapshot = snapshot
        self.seen: dict[tuple[int, str | None, int | None, int | None], dict[str, Any]] = {}

    def __call__(self, policy: PolicyInfo, consent: Consent) -> dict[str, Any]:
        key = (policy.id, consent.last_kind, consent.last_version_id, consent.accepted_version_id)
        base = self.seen.get(key)
        if base is None:
            base = policy_status(policy, consent._replace_at(None), self.today, self.snapshot)
            self.seen[key] = base
        if consent.accepted_at is None:
            return base
        return {**base, "accepted_at": consent.accepted_at.isoformat()}


_SQL = (
    "SELECT user_id, policy_id, last_kind, last_version_id, accepted_version_id, accepted_at "
    "FROM consents WHERE user_id IN ({marks})"
)


def consents_sql(dialect: str, count: int, with_policy: bool) -> str:
    """The status lookup as the driver runs it: a primary-key lookup per user."""
    mark = "?" if dialect == "sqlite" else "%s"
    sql = _SQL.format(marks=", ".join([mark] * count))
    return sql + f" AND policy_id = {mark}" if with_policy else sql


def consents_for(
    session: Session, user_ids: Sequence[str], policy_id: int | None = None
) -> dict[tuple[str, int], Consent]:
    """Consent rows of many users in one indexed query per chunk (primary key lookups).

    The hottest query of the service goes straight to the driver, inside the session's
    transaction: SQLAlchemy's statement and result machinery costs several times the
    query itself here. ``consents_sql`` is what the query-plan tests check.
    """
    out: dict[tuple[str, int], Consent] = {}
    unique = list(dict.fromkeys(user_ids))
    connection = session.connection()
    dialect = connection.dialect.name
    cursor: Any = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        for start in range(0, len(unique), _CHUNK):
            chunk = unique[start : start + _CHUNK]
            params: list[Any] = [*chunk, policy_id] if policy_id is not None else chunk
            cursor.execute(consents_sql(dialect, len(chunk), policy_id is not None), params)
            for uid, pid, kind, last_v, acc_v, acc_at in cursor.fetchall():
                out[(uid, pid)] = Consent(kind, last_v, acc_v, _utc(acc_at))
    finally:
        cursor.close()
    return out


def _utc(value: datetime | str | None) -> datetime | None:
    """``accepted_at`` as the driver gives it (SQLite: naive UTC text) → aware UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def user_statuses(
    session: Session,
    snapshot: Snapshot,
    user_ids: Sequence[str],
    today: date,
    policy: PolicyInfo | None = None,
    site_url: str = "",
) -> list[dict[str, Any]]:
    """``[{user_id, policies: [status, …]}]`` for each user, in the order given.

    Each policy's status carries the user's pending ``notices`` (``tracker.store.notices``).
    """
    if not user_ids:
        return []
    consents = consents_for(session, user_ids, policy.id if policy else None)
    pending = pending_notices(session, snapshot, user_ids, policy.id if policy else None, site_url)
    policies = [policy] if policy else [p for p in snapshot.policies if p.versions]
    memo = StatusMemo(today, snapshot)
    return [
        {
            "user_id": uid,
            "policies": [
                {
                    **memo(p, consents.get((uid, p.id), NO_CONSENT)),
                    "notices": pending.get((uid, p.id), []),
                }
                for p in policies
            ],
        }
        for uid in user_ids
    ]
