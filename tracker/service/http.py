"""Endpoints as small typed functions: the wrapper reads the body, checks the key and scope,
then runs the handler in Starlette's thread pool (database work is synchronous)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tracker.errors import Forbidden, Malformed, StaleCatalog, TooLarge, Unauthorized
from tracker.service.state import AppState
from tracker.store.keys import KeyInfo

_AUTH_DETAIL = "a valid API key is required: send 'Authorization: Bearer <key>'"


@dataclass
class Call:
    """One request as a handler sees it."""

    request: Request
    state: AppState
    key: KeyInfo
    params: dict[str, Any]
    query: QueryParams
    #: A read transaction, shared with authentication (writes use ``state.store.write``).
    session: Session
    raw: bytes = b""
    _json: Any = field(default=None, repr=False)

    def json(self) -> Any:
        if self._json is None:
            if not self.raw.strip():
                raise Malformed("the request body is empty; send a JSON object")
            try:  # orjson: strict RFC 8259 (no NaN), UTF-8 only, nesting limited
                self._json = orjson.loads(self.raw)
            except orjson.JSONDecodeError as exc:
                raise Malformed(f"the request body is not valid JSON: {exc}") from None
        return self._json

    def header(self, name: str) -> str | None:
        return self.request.headers.get(name)


@dataclass
class Reply:
    body: Any
    status: int = 200
    headers: dict[str, str] | None = None


Handler = Callable[[Call], Reply | dict[str, Any]]


class JSONReply(JSONResponse):
    """Compact JSON encoded by orjson: several times faster than ``json`` on large answers
    (a 10,000-user batch status is 12 MB), and it passes ``orjson.Fragment`` (JSON a
    handler encoded itself) through as it is."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


async def read_body(request: Request, limit: int) -> bytes:
    length = request.headers.get("content-length")
    if length is not None and length.isascii() and length.isdigit() and int(length) > limit:
        raise TooLarge(f"the request body is larger than {limit} bytes")
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"the request body is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized(_AUTH_DETAIL)
    return token.strip()


def _key_for(request: Request, state: AppState, session: Session) -> KeyInfo:
    key = state.authenticate(session, _bearer(request))
    if key is None:
        raise Unauthorized(_AUTH_DETAIL)
    return key


#: Times a read handler is run again when the catalog moved under it (``StaleCatalog``).
_CATALOG_RETRIES = 3


def api(
    handler: Handler,
    scope: str,
    *,
    body: bool = False,
    quick: bool = False,
    reads_only: bool = False,
) -> Callable[[Request], Any]:
    """Wrap a handler: body size limit, Bearer key, scope, thread pool, JSON reply.

    A handler that only reads (every GET, and a POST marked ``reads_only``) and finds
    rows newer than the process's cached catalog (a version published by another process
    a moment ago) runs again on a fresh transaction with the catalog read anew.

    ``quick`` marks a handler that only runs a few indexed reads: on SQLite it runs on the
    event loop, since WAL readers never wait for a lock and the hop to the thread pool
    costs more than the queries. Everything else (and everything on PostgreSQL, whose
    reads cross the network) runs in the thread pool.
    """

    async def endpoint(request: Request) -> Response:
        state: AppState = request.app.state.tracker
        if body:
            # Refuse what needs no database before reading a body of up to max_body_bytes:
            # no Bearer key at all, or a recently checked key without the scope.
            token = _bearer(request)
            known = state.recent_key(token)
            if known is not None and scope not in known.scopes:
                raise Forbidden(f"this API key lacks the '{scope}' scope")
        raw = await read_body(request, state.settings.max_body_bytes) if body else b""
        if quick and state.inline_reads:
            return _run(request, state, raw, inline=True)
        return await run_in_threadpool(_run, request, state, raw)

    def _run(request: Request, state: AppState, raw: bytes, inline: bool = False) -> Response:
        with state.inline_read() if inline else state.store.read() as session:
            key = _key_for(request, state, session)
            if scope not in key.scopes:
                raise Forbidden(f"this API key lacks the '{scope}' scope")
            if not inline:
                # Give back the connection a key lookup took (a no-op when the key was
                # cached): a handler that writes must not hold a read connection while it
                # waits for a write connection, or concurrent writers exhaust the pool.
                session.close()
            params = dict(request.path_params)
            call = Call(request, state, key, params, request.query_params, session, raw)
            for attempt in range(_CATALOG_RETRIES + 1):
                try:
                    result = handler(call)
                    break
                except StaleCatalog:
                    reads = reads_only or request.method == "GET"
                    if not reads or attempt == _CATALOG_RETRIES:
                        raise
                    state.snapshots.expire()
                    session.rollback()  # the next read starts a transaction of its own
        reply = result if isinstance(result, Reply) else Reply(result)
        return JSONReply(reply.body, status_code=reply.status, headers=reply.headers)

    endpoint.__name__ = handler.__name__
    endpoint.__doc__ = handler.__doc__
    return endpoint
