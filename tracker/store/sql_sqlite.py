"""Every statement the store runs on SQLite straight through the driver (``sqlite3``).

These are the hot paths (a status answer, an acceptance, chaining an event, verifying the
chain) where SQLAlchemy's statement and result machinery costs more than the query. Each
has a SQLAlchemy Core twin that ``tests/service/test_raw_sql.py`` runs beside it, on the
same rows, and compares. Values are bound as the columns' SQLAlchemy types bind them
(``bind``), so a raw write stores what the ORM would.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import cache
from typing import Any

from sqlalchemy import FromClause
from sqlalchemy.engine import Dialect

# ---------------------------------------------------------------------------
# Status (``tracker.store.status``, ``tracker.store.notices.queries``)

_CONSENTS = (
    "SELECT user_id, policy_id, last_kind, last_version_id, accepted_version_id, accepted_at "
    "FROM consents WHERE user_id IN ({marks})"
)
_PENDING_NOTICES = (
    "SELECT id, user_id, policy_id, from_version_id, to_version_id, significance, "
    "acceptance_required, created_at FROM notices "
    "WHERE user_id IN ({marks}) AND acknowledged_at IS NULL AND closed_at IS NULL"
)


def consents(count: int, with_policy: bool) -> str:
    """The consents of ``count`` users (and one policy): a primary-key lookup per user."""
    sql = _CONSENTS.format(marks=", ".join("?" * count))
    return sql + " AND policy_id = ?" if with_policy else sql


def pending_notices(count: int, with_policy: bool) -> str:
    """The pending notices of ``count`` users (``ix_notices_user_id_policy_id``), by id."""
    sql = _PENDING_NOTICES.format(marks=", ".join("?" * count))
    return sql + (" AND policy_id = ?" if with_policy else "") + " ORDER BY id"


# One user's consents and pending notices in one statement (each part is two index
# lookups); a consent row starts with 0, a notice row with its id, and the rest of a notice
# row's columns are ``pending_notices``'. No ORDER BY (a sort costs more than the
# statement): the caller puts a user's notices of one policy in id order.
_ONE_USER_STATUS = (
    "SELECT 0, user_id, policy_id, last_kind, last_version_id, accepted_version_id, "
    "accepted_at, NULL FROM consents WHERE user_id = ?1{policy} "
    "UNION ALL "
    "SELECT id, user_id, policy_id, from_version_id, to_version_id, significance, "
    "acceptance_required, created_at FROM notices "
    "WHERE user_id = ?1 AND acknowledged_at IS NULL AND closed_at IS NULL{policy}"
)
ONE_USER_STATUS = {
    False: _ONE_USER_STATUS.format(policy=""),
    True: _ONE_USER_STATUS.format(policy=" AND policy_id = ?2"),
}

# ---------------------------------------------------------------------------
# Recording an event (``tracker.store.events``): BEGIN IMMEDIATE holds the write lock.

READ_CONSENT = (
    "SELECT last_event_id, last_kind, last_version_id, accepted_version_id, accepted_at "
    "FROM consents WHERE user_id = ? AND policy_id = ?"
)
#: The consent's columns in the order ``SAVE_CONSENT`` binds them.
SAVE_CONSENT_COLUMNS = (
    "last_event_id",
    "last_kind",
    "last_version_id",
    "accepted_version_id",
    "accepted_at",
    "user_id",
    "policy_id",
)
SAVE_CONSENT = {
    True: "INSERT INTO consents (last_event_id, last_kind, last_version_id, accepted_version_id, "
    "accepted_at, user_id, policy_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
    False: "UPDATE consents SET last_event_id = ?, last_kind = ?, last_version_id = ?, "
    "accepted_version_id = ?, accepted_at = ? WHERE user_id = ? AND policy_id = ?",
}


@cache
def insert_event(columns: tuple[str, ...]) -> str:
    """Insert one event with these columns, returning its id."""
    marks = ", ".join("?" * len(columns))
    return f"INSERT INTO events ({', '.join(columns)}) VALUES ({marks}) RETURNING id"


# ---------------------------------------------------------------------------
# The chain head (``tracker.store.chain``): moved with one compare-and-set per event.

CHAIN_HEAD = "SELECT seq, hash FROM audit_head WHERE id = 1"
MOVE_CHAIN_HEAD = "UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1 AND seq = ? AND hash = ?"

# ---------------------------------------------------------------------------
# Notices on acceptance (``tracker.store.notices``)

ANY_SUBSCRIBER = (
    "SELECT 1 FROM webhook_endpoints WHERE enabled AND removed_at IS NULL "
    "AND (',' || event_types || ',') LIKE ? ESCAPE '/' LIMIT 1"
)
_CLOSE_ANSWERED = (
    "UPDATE notices SET closed_at = ?, closed_reason = 'accepted' WHERE user_id = ? "
    "AND policy_id = ? AND closed_at IS NULL AND to_version_id IN ({marks})"
)
LATER_VERSIONS = (
    "SELECT id, number, significance FROM versions WHERE policy_id = ? AND number > ? "
    "ORDER BY number"
)


def close_answered(count: int) -> str:
    """Close a user's open notices of one policy that ``count`` versions answer."""
    return _CLOSE_ANSWERED.format(marks=", ".join("?" * count))


# ---------------------------------------------------------------------------
# Verifying the chain (``tracker.audit.scan``): rows as the driver gives them.

CHAIN_EVENTS = (
    "SELECT chain_seq, chain_prev, chain_hash, commitments, kind, policy_id, version_id, "
    "method, api_key_id, locale, created_at, user_id, ip, user_agent, context, user_id_salt, "
    "ip_salt, user_agent_salt, context_salt, translation_version_id, translation_sha256 "
    "FROM events WHERE chain_seq IS NOT NULL AND chain_seq <= ? ORDER BY chain_seq"
)

# ---------------------------------------------------------------------------
# Values


def bind(
    dialect: Dialect, table: FromClause, columns: Sequence[str], values: Iterable[Any]
) -> list[Any]:
    """``values`` (in the order of ``columns``) as SQLAlchemy binds them for this dialect's
    driver: a UTC datetime as SQLite's text, a JSON value as its text; the rest as they are."""
    params = list(values)
    for i, process in _conversions(dialect, table, tuple(columns)):
        params[i] = process(params[i])
    return params


def binders(
    dialect: Dialect, table: FromClause, columns: Sequence[str]
) -> tuple[Callable[[Any], Any], ...]:
    """For each column, what SQLAlchemy turns a Python value into for this dialect's driver."""
    found = dict(_conversions(dialect, table, tuple(columns)))
    return tuple(found.get(i, _same) for i in range(len(columns)))


@cache
def _conversions(
    dialect: Dialect, table: FromClause, columns: tuple[str, ...]
) -> tuple[tuple[int, Callable[[Any], Any]], ...]:
    """The columns whose type converts a value when binding it, by position."""
    found = []
    for i, name in enumerate(columns):
        process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            found.append((i, process))
    return tuple(found)


def _same(value: Any) -> Any:
    return value
