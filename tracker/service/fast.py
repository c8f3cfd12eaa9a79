"""The status lookups without the framework: ``GET /v1/users/{user_id}/status`` (and on
PostgreSQL ``POST /v1/status/batch``) answered in front of Starlette's middleware and router,
when all they need is at hand.

Apps ask for a user's status on every login or page view, so this one request is worth a
path of its own. It answers only when the key was checked recently (the key cache) and the
catalog was checked recently (the snapshot cache). On SQLite (reads run on the event loop)
it reads the consents and pending notices in one statement on the connection kept for
inline reads; on PostgreSQL in one prepared statement on an async pool
(``tracker.service.fast_pg``), which also checks the key's revocation and the catalog's
revision, and which concurrent requests of one key share (``fast_pg.UserReads``). Either
way it sends exactly the bytes and headers the routed endpoint sends. On PostgreSQL a new
acceptance is recorded here too, in one call of a PL/pgSQL function
(``tracker.service.fast_write``). Anything else, and anything that goes wrong before an
answer is sent, goes to Starlette, which answers the same request the ordinary way (errors
included).
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.datastructures import QueryParams
from starlette.responses import JSONResponse
from starlette.types import Message, Receive, Scope, Send

from tracker.answers.status import (
    InLocale,
    encoder_for,
    one_user_status_sqlite,
    postgres_statuses,
)
from tracker.contract import BatchStatusRequest, refusals
from tracker.errors import StaleCatalog
from tracker.service import fast_write
from tracker.service import validate as v
from tracker.service.fast_pg import Checked, ReadPart
from tracker.service.localised import checked_locale, status_locale
from tracker.service.problems import problem
from tracker.service.state import AppState
from tracker.store import sql_postgresql
from tracker.store.catalog import PolicyInfo, Snapshot
from tracker.store.engine import StoreUnavailable
from tracker.store.keys import KeyInfo
from tracker.store.status import read_postgres_rows

PREFIX = "/v1/users/"
SUFFIX = "/status"
BATCH = "/v1/status/batch"
_JSON = (b"content-type", b"application/json")
#: Seconds a client is told to wait after a 503 (the database down or no connection free).
RETRY_AFTER = 1


class TrackerApp(Starlette):
    """Starlette, with the status lookups answered before the middleware and the router."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope.get("root_path"):
            state = getattr(self.state, "tracker", None)
            if state is not None and state.settings.status_fast_path:
                try:
                    found, receive = await _fast(state, scope, receive)
                except StoreUnavailable as exc:
                    await unavailable(exc.message)(scope, receive, send)
                    return
                if found is not None:
                    status, body = found
                    headers = [(b"content-length", str(len(body)).encode()), _JSON]
                    await send(
                        {"type": "http.response.start", "status": status, "headers": headers}
                    )
                    await send({"type": "http.response.body", "body": body})
                    return
        await super().__call__(scope, receive, send)


def unavailable(detail: str) -> JSONResponse:
    """The 503 for a database that does not answer (or no connection free in time)."""
    response = problem(503, StoreUnavailable.code, detail)
    response.headers["Retry-After"] = str(RETRY_AFTER)
    return response


async def _fast(
    state: AppState, scope: Scope, receive: Receive
) -> tuple[tuple[int, bytes] | None, Receive]:
    """The answer's status and body (or None: the router answers), and what the router
    must read."""
    method, path = scope["method"], scope["path"]
    body: bytes | None = None
    if method == "GET" and path.startswith(PREFIX) and path.endswith(SUFFIX):
        if state.inline_reads:
            body = answer(state, scope, path)
        elif state.postgres is not None and state.postgres.up:
            body = await answer_postgres(state, scope, path)
    elif method == "POST" and state.postgres is not None and state.postgres.up:
        if path == BATCH:
            body, receive = await batch_postgres(state, scope, receive)
        elif path == fast_write.ACCEPTANCES:
            token = _bearer(scope["headers"])
            if state.known_key(token) is None:
                return None, receive
            messages, receive = await _read_body(state, receive)
            if messages is None:
                return None, receive
            return await fast_write.accept(state, scope, receive, token, messages), receive
    return (200, body) if body is not None else None, receive


def _checked(state: AppState, scope: Scope) -> tuple[Snapshot, KeyInfo, str] | None:
    """The catalog and the key if both were checked recently (no database read). On
    PostgreSQL, whenever they were checked: its statement checks both again."""
    token = _bearer(scope["headers"])
    if state.postgres is None:
        snapshot, key = state.recent_snapshot(), state.recent_key(token)
    else:
        snapshot, key = state.snapshots.recent(float("inf")), state.known_key(token)
    if snapshot is None or key is None or "read" not in key.scopes:
        return None
    return snapshot, key, token


def _one_user(
    snapshot: Snapshot, scope: Scope, path: str
) -> tuple[str, PolicyInfo | None, str | None]:
    """The user, the policy and the locale asked for; raises on a bad request (the router
    answers it)."""
    user = v.user_id(path[len(PREFIX) : -len(SUFFIX)])
    raw_query: bytes = scope.get("query_string", b"")
    query = QueryParams(raw_query) if raw_query else None
    slug = query.get("policy") if query is not None else None
    locale = query.get("locale") if query is not None else None
    return (
        user,
        snapshot.policy(slug) if slug is not None else None,
        checked_locale(locale) if locale else None,
    )


def answer(state: AppState, scope: Scope, path: str) -> bytes | None:
    """The status answer's body on SQLite, or None when the router must answer instead."""
    checked = _checked(state, scope)
    if checked is None:
        return None
    snapshot = checked[0]
    try:
        user, policy, locale = _one_user(snapshot, scope, path)
    except Exception:  # a bad request: the router answers it with the right problem
        return None
    try:
        cursor = state.kept_driver_connection().cursor()
        try:
            site, today = state.settings.site_url, state.today()
            wanted = status_locale(snapshot, today, locale, site) if locale else None
            body = one_user_status_sqlite(cursor, snapshot, user, today, policy, site, wanted)
        finally:
            cursor.close()
    except Exception:
        return None  # the router tries again and reports what it finds
    state.fast_answers += 1
    return body


async def answer_postgres(state: AppState, scope: Scope, path: str) -> bytes | None:
    """The status answer's body on PostgreSQL, or None when the router must answer."""
    checked = _checked(state, scope)
    if checked is None:
        return None
    try:
        user, policy, locale = _one_user(checked[0], scope, path)
    except Exception:
        return None
    wanted = None
    if locale:
        wanted = status_locale(checked[0], state.today(), locale, state.settings.site_url)
    together = state.postgres_users
    if together is None:
        found = await _read_postgres(state, checked, [user], policy, wanted)
        body = found[0] if found else None
    else:
        group = (policy.id if policy else None, locale)
        body = await together(checked, user, (policy, wanted), group)
    if body is not None:
        state.fast_answers += 1
    return body


def user_reader(state: AppState) -> ReadPart:
    """Reads the answers of some users of one key, for one policy or all and in a locale
    or none (``fast_pg.UserReads``)."""

    async def read(
        checked: Checked, users: list[str], how: tuple[PolicyInfo | None, InLocale | None]
    ) -> list[bytes] | None:
        return await _read_part(state, checked, users, *how)

    return read


#: Users a batch reads in one statement: a larger batch is read in several, run at once on
#: connections of their own, so that PostgreSQL reads the later parts while this process
#: encodes the first (10,000 users: PostgreSQL and the encoding overlap instead of adding up).
BATCH_PART = 2_500


async def _read_postgres(
    state: AppState,
    checked: tuple[Snapshot, KeyInfo, str],
    users: list[str],
    policy: PolicyInfo | None,
    locale: InLocale | None = None,
) -> list[bytes] | None:
    """Each user's answer, from statements that also check the catalog and the key; None
    when either moved (the router answers, after reading them again)."""
    assert state.postgres is not None
    # At most half the pool's connections for one batch.
    size = max(BATCH_PART, -(-len(users) // max(1, state.postgres.size // 2)))
    parts = [users[i : i + size] for i in range(0, len(users), size)]
    reads = [_read_part(state, checked, part, policy, locale) for part in parts]
    if len(reads) == 1:
        return await reads[0]
    tasks = [asyncio.ensure_future(read) for read in reads]
    try:
        answers: list[bytes] = []
        for task in tasks:  # in order; each is encoded as soon as its rows are in
            found = await task
            if found is None:
                return None
            answers += found
        return answers
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _read_part(
    state: AppState,
    checked: tuple[Snapshot, KeyInfo, str],
    users: list[str],
    policy: PolicyInfo | None,
    locale: InLocale | None = None,
) -> list[bytes] | None:
    """The answers of some users, from one statement that also checks the catalog and
    the key; None when either moved."""
    assert state.postgres is not None
    snapshot, key, token = checked
    # Many users as one JSON text: psycopg dumps a list of 2,500 strings as an array in
    # 8.2 ms, orjson dumps it as JSON in 0.14 ms (measured on this machine, loaded).
    many = orjson.dumps(users).decode() if len(users) > 1 else users[0]
    params: dict[str, Any] = {"users": many, "key": key.id}
    if policy is not None:
        params["policy"] = policy.id
    sql = sql_postgresql.STATUS_READ[(len(users) > 1, policy is not None)]
    try:
        rows = await state.postgres.fetch(sql, params)
    except StoreUnavailable:
        raise
    except Exception:
        return None  # a connection lost: the router answers (and reports what it finds)
    found = read_postgres_rows(rows)
    if found.revision != snapshot.revision:
        state.snapshots.expire()
        return None
    if not found.key_live:
        state.forget_key(token)
        return None
    site = state.settings.site_url
    try:
        encoder = encoder_for(snapshot, state.today(), site)
        return postgres_statuses(encoder, found, users, policy, locale)
    except StaleCatalog:  # a consent or notice naming a version newer than the snapshot
        state.snapshots.expire()
        return None


async def batch_postgres(
    state: AppState, scope: Scope, receive: Receive
) -> tuple[bytes | None, Receive]:
    """The batch status answer's body on PostgreSQL, or None (and the body read so far,
    for the router to read again) when the router must answer."""
    checked = _checked(state, scope)
    if checked is None:
        return None, receive
    messages, replay = await _read_body(state, receive)
    if messages is None:
        return None, replay
    try:
        data = refusals.parse(BatchStatusRequest, b"".join(m.get("body", b"") for m in messages))
        users, slug = v.none_reserved(data.user_ids), data.policy
        if len(users) > state.settings.max_batch_users:
            return None, replay
        policy = checked[0].policy(slug) if slug is not None else None
    except Exception:  # a bad request: the router answers it with the right problem
        return None, replay
    answers = await _read_postgres(state, checked, list(dict.fromkeys(users)), policy)
    if answers is None:
        return None, replay
    if len(answers) != len(users):  # a user asked for twice is answered twice
        by_user = dict(zip(dict.fromkeys(users), answers, strict=True))
        answers = [by_user[u] for u in users]
    state.fast_answers += 1
    return b'{"users":[' + b",".join(answers) + b"]}", replay


async def _read_body(state: AppState, receive: Receive) -> tuple[list[Message] | None, Receive]:
    """The request body's messages (None when it is larger than ``max_body_bytes`` or the
    client left), and ``receive`` for the router, which reads them again if it answers."""
    limit = state.settings.max_body_bytes
    messages: list[Message] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return None, _replay(messages, receive)
        size += len(message.get("body", b""))
        if size > limit:
            return None, _replay(messages, receive)
        if not message.get("more_body", False):
            return messages, _replay(messages, receive)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """``receive`` that gives ``messages`` again first (the body the fast path read)."""
    pending = list(messages)

    async def again() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return again


def _bearer(headers: list[tuple[bytes, bytes]]) -> str:
    """The token of the first ``Authorization: Bearer`` header, as the router reads it."""
    for name, value in headers:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if scheme.lower() == "bearer" else ""
    return ""
