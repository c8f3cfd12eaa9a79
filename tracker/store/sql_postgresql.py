"""Every statement the store runs on PostgreSQL as raw SQL (through the driver, ``psycopg``,
or as one ``text()`` statement where Core cannot say it).

The hot paths where SQLAlchemy's statement and result machinery costs more than the query:
a status answer, sealing a pass of events, verifying the chain. Each has a SQLAlchemy Core
twin that ``tests/service/test_raw_sql.py`` runs beside it, on the same rows, and compares.
"""

from __future__ import annotations

from sqlalchemy import text

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
    sql = _CONSENTS.format(marks=", ".join(["%s"] * count))
    return sql + " AND policy_id = %s" if with_policy else sql


def pending_notices(count: int, with_policy: bool) -> str:
    """The pending notices of ``count`` users (``ix_notices_user_id_policy_id``), by id."""
    sql = _PENDING_NOTICES.format(marks=", ".join(["%s"] * count))
    return sql + (" AND policy_id = %s" if with_policy else "") + " ORDER BY id"


# ---------------------------------------------------------------------------
# The status reads answered on the event loop (``tracker.service.fast``, ``fast_pg``; the
# rows are sorted out by ``tracker.store.status.read_postgres_rows``): one user's (or a
# batch's) consents and pending notices, the catalog's revision and the API key's row, in
# one prepared statement run outside any transaction (one round trip). Columns line up by
# type: a notice's significance where a consent has ``last_kind``, its versions where a
# consent has its versions, its time where a consent has ``accepted_at``. The first column
# tells the rows apart: 0 a consent, a notice's id, -1 the revision (in the fifth column),
# -2 the key (its ``revoked_at`` in the seventh). ``accepted_at`` as the JSON string
# ``datetime.isoformat()`` gives in UTC (microseconds only when there are some), and a
# notice's time as text ``fromisoformat`` reads, both formatted by the server whatever the
# session's time zone: turning 30,000 timestamps into ``datetime`` objects and back made
# up 40% of a 10,000-user batch.
_PG_ISO = (
    "'\"' || to_char({0} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS') || "
    "CASE WHEN mod(date_part('microseconds', {0})::bigint, 1000000) = 0 THEN '' "
    "ELSE to_char({0} AT TIME ZONE 'UTC', '.US') END || '+00:00\"'"
)
_PG_TEXT = "to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')"
_STATUS_READ = (
    "SELECT 0::bigint, user_id, policy_id, last_kind, last_version_id, accepted_version_id, "
    f"{_PG_ISO.format('accepted_at')}, NULL::boolean FROM consents "
    "WHERE user_id {users}{policy} "
    "UNION ALL "
    "SELECT id, user_id, policy_id, significance, from_version_id, to_version_id, "
    f"{_PG_TEXT.format('created_at')}, acceptance_required FROM notices "
    "WHERE user_id {users} AND acknowledged_at IS NULL AND closed_at IS NULL{policy} "
    "UNION ALL "
    "SELECT -1, NULL, NULL, NULL, value, NULL, NULL, NULL FROM store_meta "
    "WHERE name = 'catalog_revision' "
    "UNION ALL "
    "SELECT -2, NULL, id, NULL, NULL, NULL, revoked_at::text, NULL FROM api_keys "
    "WHERE id = %(key)s"
)
STATUS_READ = {
    (many, with_policy): _STATUS_READ.format(
        users="= ANY(%(users)s)" if many else "= %(users)s",
        policy=" AND policy_id = %(policy)s" if with_policy else "",
    )
    for many in (False, True)
    for with_policy in (False, True)
}


# ---------------------------------------------------------------------------
# Recording an acceptance, decline or withdrawal (``tracker.store.events.record``): four
# statements, from six (and five round trips with BEGIN and COMMIT, from seven). The
# consent row is created if missing, locked and read, with the catalog's revision (the
# write checks its cached catalog here, not in a statement of its own) and the new event's
# id from its sequence. Then the event is inserted and the consent pointed at it, and on
# an acceptance its outbox message and the message's deliveries written, in one statement.
# Then on an acceptance the notices it answers are closed and the later versions read:
# a statement of its own, so that its snapshot is taken after the event's foreign-key
# check waited for a publication in flight (``lock_fan_out``).

LOCK_CONSENT = (
    "INSERT INTO consents (user_id, policy_id) VALUES (%(uid)s, %(pid)s) "
    "ON CONFLICT (user_id, policy_id) DO UPDATE SET last_kind = consents.last_kind "
    "RETURNING last_event_id, last_kind, last_version_id, accepted_version_id, accepted_at, "
    "(SELECT value FROM store_meta WHERE name = 'catalog_revision'), nextval('events_id_seq')"
)

#: The columns of an event row, as ``RECORD_EVENT`` takes them (``e_`` + the name).
EVENT_COLUMNS = (
    "id",
    "user_id",
    "policy_id",
    "version_id",
    "kind",
    "method",
    "api_key_id",
    "ip",
    "user_agent",
    "locale",
    "context",
    "created_at",
    "commitments",
    "user_id_salt",
    "ip_salt",
    "user_agent_salt",
    "context_salt",
    "chain_seq",
    "chain_prev",
    "chain_hash",
)
_SUBSCRIBED = (
    "{t}enabled IS true AND {t}removed_at IS NULL "
    "AND (',' || {t}event_types || ',') LIKE %(like)s ESCAPE '/'"
)
# ``outbox.announce`` as two CTEs: the message, when an endpoint subscribes, and a delivery
# to each endpoint that does.
_ANNOUNCE = (
    ", message AS (INSERT INTO outbox_messages "
    "(webhook_id, event_type, version_id, data, created_at) "
    "SELECT CAST(%(webhook_id)s AS varchar), CAST(%(event_type)s AS varchar), "
    "CAST(%(version_id)s AS integer), %(data)s, %(now)s "
    "WHERE EXISTS (SELECT 1 FROM webhook_endpoints WHERE " + _SUBSCRIBED.format(t="") + ") "
    "RETURNING id), "
    "delivered AS (INSERT INTO webhook_deliveries "
    "(message_id, endpoint_id, state, attempts, next_attempt_at, created_at) "
    "SELECT message.id, e.id, 'pending', 0, %(now)s, %(now)s "
    "FROM message, webhook_endpoints AS e WHERE " + _SUBSCRIBED.format(t="e.") + ")"
)
_RECORD = (
    "WITH new_event AS (INSERT INTO events (" + ", ".join(EVENT_COLUMNS) + ") "
    "VALUES (" + ", ".join(f"%(e_{c})s" for c in EVENT_COLUMNS) + ")){announce} "
    "UPDATE consents SET last_event_id = %(e_id)s, last_kind = %(last_kind)s, "
    "last_version_id = %(last_version_id)s, accepted_version_id = %(accepted_version_id)s, "
    "accepted_at = %(accepted_at)s WHERE user_id = %(uid)s AND policy_id = %(pid)s"
)
RECORD_EVENT = _RECORD.replace("{announce}", "")
RECORD_ACCEPTANCE = _RECORD.replace("{announce}", _ANNOUNCE)
CLOSE_ANSWERED_AND_LATER = (
    "WITH closed AS (UPDATE notices SET closed_at = %(now)s, closed_reason = 'accepted' "
    "WHERE user_id = %(uid)s AND policy_id = %(pid)s AND closed_at IS NULL "
    "AND to_version_id = ANY(CAST(%(answered)s AS integer[]))) "
    "SELECT id, number, significance FROM versions "
    "WHERE policy_id = %(pid)s AND number > %(number)s ORDER BY number"
)

# ---------------------------------------------------------------------------
# Sealing (``tracker.store.sealer``): a pass's events and the head in one statement,
# whatever its size.

SEAL = text(
    "WITH sealed AS ("
    " UPDATE events SET chain_seq = v.seq, chain_prev = v.prev, chain_hash = v.hash"
    " FROM unnest(CAST(:ids AS bigint[]), CAST(:seqs AS bigint[]),"
    " CAST(:prevs AS text[]), CAST(:hashes AS text[])) AS v(id, seq, prev, hash)"
    " WHERE events.id = v.id RETURNING 1)"
    " UPDATE audit_head SET seq = :seq, hash = :hash WHERE id = 1"
)

# ---------------------------------------------------------------------------
# Verifying the chain (``tracker.audit.scan``), read by a server-side cursor.
#
# The JSON columns are handed over as text, as SQLite does: the commitments are parsed by
# orjson (which reads an object of strings as ``json`` does, several times faster than the
# driver's loader) and a context only when there is one. PostgreSQL formats the time
# itself, in the chain's canonical form, in its own process.

CHAIN_EVENTS = (
    "SELECT chain_seq, chain_prev, chain_hash, commitments::text, kind, policy_id, "
    "version_id, method, api_key_id, locale, "
    """to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), """
    "user_id, ip, user_agent, context::text, user_id_salt, ip_salt, user_agent_salt, "
    "context_salt FROM events WHERE chain_seq IS NOT NULL AND chain_seq <= %s "
    "ORDER BY chain_seq"
)
