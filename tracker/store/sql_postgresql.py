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
# one prepared statement run outside any transaction (one round trip); a batch's users as
# the text of a JSON array, one user's id as it is. Columns line up by
# type: a notice's significance where a consent has ``last_kind``, its versions where a
# consent has its versions, its time where a consent has ``accepted_at``. The first column
# tells the rows apart: 0 a consent, a notice's id, -1 the revision (in the fifth column),
# -2 the key (its ``revoked_at`` in the seventh). ``accepted_at`` as the JSON string
# ``datetime.isoformat()`` gives in UTC (microseconds only when there are some), and a
# notice's time as text ``fromisoformat`` reads, both formatted by the server whatever the
# session's time zone: turning 30,000 timestamps into ``datetime`` objects and back made
# up 40% of a 10,000-user batch. One ``to_char`` with the fraction, whose ``.000000`` is
# dropped (the text has no other dot), is cheaper for the server than two ``to_char`` calls
# and a ``date_part``: a 10,000-user read took 77 ms against 86.
_PG_ISO = (
    "'\"' || replace(to_char({0} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), "
    "'.000000', '') || '+00:00\"'"
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
        users="= ANY(ARRAY(SELECT json_array_elements_text(CAST(%(users)s AS json))))"
        if many
        else "= %(users)s",
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
    "translation_version_id",
    "translation_sha256",
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
# An acceptance in one round trip (``tracker.service.fast_write``): ``RECORD_ACCEPTANCE``'s
# work as a PL/pgSQL function, called outside any transaction, so that the statement is
# its own transaction and its commit goes with it (one round trip, from five). Each of
# its statements takes a snapshot of its own (a volatile function, READ COMMITTED), as
# the statements of ``record`` do: the versions after the accepted one are read after the
# event's foreign-key check waited for a publication in flight (``lock_fan_out``).
#
# It records only the common case: anything else raises (SQLSTATE ``PT001`` the catalog
# moved, ``PT002`` the key is revoked or gone, ``PT003`` the router's case: a repeat of
# the last event, an older version than the one the user stands by, or a minor or major
# version after the accepted one, of which the user is to be told), which rolls back all
# it did, and the router records the request as ever. The function is created in
# ``pg_temp`` on each connection of the pool (``ACCEPT_FUNCTION``), so it always matches
# the code that calls it, whatever a fleet's processes run: no migration, nothing to
# keep in step with the schema's revision.

ACCEPT_FUNCTION = (
    "CREATE OR REPLACE FUNCTION pg_temp.tracker_accept("
    "p_uid varchar, p_pid integer, p_version integer, p_number integer, p_revision bigint, "
    "p_key integer, p_method varchar, p_ip varchar, p_user_agent varchar, p_locale varchar, "
    "p_context json, p_at timestamptz, p_commitments json, p_user_id_salt varchar, "
    "p_ip_salt varchar, p_user_agent_salt varchar, p_context_salt varchar, "
    "p_answered integer[], p_like varchar, p_webhook_id varchar, p_data_rest text, "
    "p_translation_version_id integer, p_translation_sha256 varchar) "
    "RETURNS bigint LANGUAGE plpgsql AS $f$\n"
    "DECLARE\n"
    "  v_last bigint; v_kind varchar; v_version integer; v_accepted integer; v_id bigint;\n"
    "BEGIN\n"
    "  INSERT INTO consents (user_id, policy_id) VALUES (p_uid, p_pid)\n"
    "    ON CONFLICT (user_id, policy_id) DO UPDATE SET last_kind = consents.last_kind\n"
    "    RETURNING last_event_id, last_kind, last_version_id, accepted_version_id\n"
    "    INTO v_last, v_kind, v_version, v_accepted;\n"
    "  IF coalesce((SELECT value FROM store_meta WHERE name = 'catalog_revision'), 0)\n"
    "      <> p_revision THEN\n"
    "    RAISE EXCEPTION 'the catalog moved' USING ERRCODE = 'PT001';\n"
    "  END IF;\n"
    "  IF NOT EXISTS (SELECT 1 FROM api_keys WHERE id = p_key AND revoked_at IS NULL) THEN\n"
    "    RAISE EXCEPTION 'the key is revoked' USING ERRCODE = 'PT002';\n"
    "  END IF;\n"
    "  IF v_last IS NOT NULL AND v_kind = 'accepted' AND v_version = p_version THEN\n"
    "    RAISE EXCEPTION 'a repeat' USING ERRCODE = 'PT003';\n"
    "  END IF;\n"
    "  IF v_kind = 'accepted' AND v_accepted IS NOT NULL AND p_number <\n"
    "      (SELECT number FROM versions WHERE id = v_accepted) THEN\n"
    "    RAISE EXCEPTION 'a newer version stands' USING ERRCODE = 'PT003';\n"
    "  END IF;\n"
    "  v_id := nextval('events_id_seq');\n"
    "  INSERT INTO events (id, user_id, policy_id, version_id, kind, method, api_key_id, ip,\n"
    "      user_agent, locale, context, created_at, commitments, user_id_salt, ip_salt,\n"
    "      user_agent_salt, context_salt, chain_seq, chain_prev, chain_hash,\n"
    "      translation_version_id, translation_sha256)\n"
    "    VALUES (v_id, p_uid, p_pid, p_version, 'accepted', p_method, p_key, p_ip,\n"
    "      p_user_agent, p_locale, p_context, p_at, p_commitments, p_user_id_salt, p_ip_salt,\n"
    "      p_user_agent_salt, p_context_salt, NULL, NULL, NULL,\n"
    "      p_translation_version_id, p_translation_sha256);\n"
    "  UPDATE consents SET last_event_id = v_id, last_kind = 'accepted',\n"
    "      last_version_id = p_version, accepted_version_id = p_version, accepted_at = p_at\n"
    "    WHERE user_id = p_uid AND policy_id = p_pid;\n"
    "  IF EXISTS (SELECT 1 FROM webhook_endpoints WHERE "
    + _SUBSCRIBED.format(t="").replace("%(like)s", "p_like")
    + ") THEN\n"
    "    WITH message AS (INSERT INTO outbox_messages\n"
    "        (webhook_id, event_type, version_id, data, created_at)\n"
    "      VALUES (p_webhook_id, 'acceptance.recorded', NULL,\n"
    "        CAST('{\"id\": ' || v_id || p_data_rest AS json), p_at) RETURNING id)\n"
    "    INSERT INTO webhook_deliveries\n"
    "        (message_id, endpoint_id, state, attempts, next_attempt_at, created_at)\n"
    "      SELECT message.id, e.id, 'pending', 0, p_at, p_at\n"
    "      FROM message, webhook_endpoints AS e WHERE "
    + _SUBSCRIBED.format(t="e.").replace("%(like)s", "p_like")
    + ";\n"
    "  END IF;\n"
    "  UPDATE notices SET closed_at = p_at, closed_reason = 'accepted'\n"
    "    WHERE user_id = p_uid AND policy_id = p_pid AND closed_at IS NULL\n"
    "      AND to_version_id = ANY(p_answered);\n"
    "  IF EXISTS (SELECT 1 FROM versions WHERE policy_id = p_pid AND number > p_number\n"
    "      AND significance IN ('minor', 'major')) THEN\n"
    "    RAISE EXCEPTION 'a later version to tell of' USING ERRCODE = 'PT003';\n"
    "  END IF;\n"
    "  RETURN v_id;\n"
    "END\n"
    "$f$"
)
#: What ``ACCEPT`` takes, in order: an event row's columns and the rest of the acceptance.
ACCEPT_COLUMNS = (
    "user_id",
    "policy_id",
    "version_id",
    "number",
    "revision",
    "api_key_id",
    "method",
    *EVENT_COLUMNS[EVENT_COLUMNS.index("ip") : EVENT_COLUMNS.index("chain_seq")],
    "answered",
    "like",
    "webhook_id",
    "data_rest",
    "translation_version_id",
    "translation_sha256",
)
ACCEPT = (
    "SELECT pg_temp.tracker_accept("
    + ", ".join("CAST(%s AS integer[])" if c == "answered" else "%s" for c in ACCEPT_COLUMNS)
    + ")"
)
#: SQLSTATEs ``ACCEPT`` raises: the catalog moved, the key is revoked, the router's case.
ACCEPT_STALE, ACCEPT_REVOKED, ACCEPT_ROUTED = "PT001", "PT002", "PT003"

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
    "context_salt, translation_version_id, translation_sha256 FROM events "
    "WHERE chain_seq IS NOT NULL AND chain_seq <= %s "
    "ORDER BY chain_seq"
)
