"""``POST /v1/acceptances`` on PostgreSQL in one round trip, on the event loop.

The routed endpoint records an acceptance in the thread pool on a SQLAlchemy session:
BEGIN, lock the consent, insert the event and update the consent, close the notices it
answers, COMMIT (five round trips, each handing the GIL between threads). Profiled with 8
clients, the process spent its time in those hand-offs, in SQLAlchemy's session and in
psycopg's waits, not in PostgreSQL. Here the same writes are one call of a PL/pgSQL
function (``tracker.store.sql_postgresql.ACCEPT_FUNCTION``) on an autocommit connection of
the status reads' pool: the call is its own transaction, so a 201 is sent only once its
commit returned (as durable as the routed write). The function checks the catalog's
revision and the key's revocation as it records; the event goes in unsealed with its
commitments, and the sealer seals it as it seals the router's (``sealer.committed``).

Only the common case is answered here: a new acceptance of a version, without
``Idempotency-Key`` or ``accepted_at``, when the key and the catalog are known. Anything
else (a bad request, a repeat of the user's last event, an older version than the one the
user stands by, a later version to tell the user of, the catalog moved, the key revoked)
goes to the router, which answers it as ever; the function rolls back what it did first.
The answer is built by the functions the router's answer is built by, so it is the same
bytes (``tests/service/test_fast_write.py``).
"""

from __future__ import annotations

import json

import orjson
import psycopg
from starlette.types import Message, Receive, Scope

from tracker.answers.status import policy_status
from tracker.contract import EventRequest
from tracker.service import validate as v
from tracker.service.state import AppState
from tracker.store import sealer, sql_postgresql, sql_sqlite
from tracker.store.chain import commit_event
from tracker.store.engine import StoreUnavailable
from tracker.store.events import NewEvent, event_answer
from tracker.store.models import EventRow
from tracker.store.notices.acceptance import ANNOUNCED, announced
from tracker.store.notices.outbox import announcement
from tracker.store.status import Consent
from tracker.store.translations import translation_of

ACCEPTANCES = "/v1/acceptances"
_EVENTS = EventRow.__table__
#: The event's columns the function takes, bound as the router binds them.
_BOUND = ("context", "created_at", "commitments")
#: What ``json.dumps`` (the JSON columns' serializer) writes before the rest of the message.
_ID_FIRST = '{"id": 0'


async def accept(
    state: AppState, scope: Scope, receive: Receive, token: str, messages: list[Message]
) -> tuple[int, bytes] | None:
    """The acceptance's answer (201 and its body), or None when the router must answer.
    ``messages``: the request's body, read."""
    key = state.known_key(token)
    snapshot = state.snapshots.recent(float("inf"))
    if key is None or snapshot is None or "write" not in key.scopes or state.postgres is None:
        return None
    for name, _ in scope["headers"]:
        if name == b"idempotency-key":
            return None
    raw = b"".join(m.get("body", b"") for m in messages)
    try:
        body = orjson.loads(raw)
        context = v.context(
            body.get("context") if isinstance(body, dict) else None,
            state.settings.max_context_bytes,
        )
        data = v.parse(EventRequest, raw)
        if data.accepted_at is not None:
            return None
        policy = snapshot.policy(data.policy)
        version = policy.version(data.version)
        ip = v.ip(data.ip)
        user = v.not_reserved(data.user_id)
    except Exception:  # a bad request: the router answers it with the right problem
        return None
    keep = state.settings.store_ip
    now = state.now()
    new = NewEvent(
        user_id=user,
        kind="accepted",
        method=data.method,
        api_key_id=key.id,
        ip=ip if keep else None,
        user_agent=(data.user_agent or None) if keep else None,
        locale=data.locale,
        context=context,
    )
    shown = (
        translation_of(
            snapshot.translations,
            policy.id,
            version.number,
            data.locale,
            now,
            source=policy.language,
        )
        if data.locale
        else None
    )
    values = new.row(policy.id, version.id, now, shown)
    chained = commit_event(values)
    dialect = state.store.engine.dialect
    bound = sql_sqlite.bind(dialect, _EVENTS, _BOUND, (values[c] for c in _BOUND))
    values.update(zip(_BOUND, bound, strict=True))
    # The event as the answer and the ``acceptance.recorded`` message carry it; its id is
    # the function's to take, so the message's JSON is sent without it (put back there).
    event = event_answer(0, new, policy, version, now, shown)
    message = announcement(dialect, ANNOUNCED, announced(event), now)
    text = json.dumps(announced(event))
    if not text.startswith(_ID_FIRST):
        return None
    values.update(
        number=version.number,
        revision=snapshot.revision,
        answered=[x.id for x in policy.versions if x.number <= version.number],
        like=message["like"],
        webhook_id=message["webhook_id"],
        data_rest=text[len(_ID_FIRST) :],
    )
    params = [values[c] for c in sql_postgresql.ACCEPT_COLUMNS]
    try:
        rows = await state.postgres.fetch(sql_postgresql.ACCEPT, params)
    except StoreUnavailable:
        raise
    except (psycopg.OperationalError, psycopg.InterfaceError):
        # The connection was lost: whether the call committed is unknown. A 503 tells the
        # client to send it again, which records it once (a repeat is not recorded twice).
        raise StoreUnavailable("the database is not answering; retry shortly") from None
    except psycopg.Error as exc:
        if exc.sqlstate == sql_postgresql.ACCEPT_STALE:
            state.snapshots.expire()
        elif exc.sqlstate == sql_postgresql.ACCEPT_REVOKED:
            state.forget_key(token)
        return None  # the router records it (and reports what it finds)
    if chained:
        sealer.committed(state.store.engine)
    event["id"] = int(rows[0][0])
    consent = Consent("accepted", version.id, version.id, now)
    status = policy_status(policy, consent, state.today(), snapshot)
    kept = status["accepted_version"]
    result = {
        "event": event,
        "created": True,
        "kept_version": kept if kept != data.version else None,
        "status": status,
    }
    state.fast_answers += 1
    return 201, orjson.dumps(result, option=orjson.OPT_NON_STR_KEYS)
