"""Admin: verify the audit chain, stream the evidence export, erase a user, force
re-acceptance."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from tracker import audit as ops
from tracker.contract import ReacceptanceRequest
from tracker.errors import Forbidden, Unauthorized
from tracker.service import validate as v
from tracker.service.http import Call, Reply
from tracker.service.problems import FieldError
from tracker.service.state import AppState
from tracker.store.catalog import load_snapshot
from tracker.store.keys import authenticate

_AUTH_DETAIL = "a valid API key is required: send 'Authorization: Bearer <key>'"
_CHUNK_ROWS = 500


def audit_verify(call: Call) -> dict[str, Any]:
    """Recompute the chain: "verified up to sequence N, anchored by checkpoint C" or the
    first bad record and why."""
    return ops.verify(call.state.store, call.state.settings).to_json()


def erase_user(call: Call) -> dict[str, Any]:
    """Remove a user's personal data; their id becomes a pseudonym everywhere."""
    user = v.user_id(call.params["user_id"])
    return ops.erase(call.state.store, user, call.state.now())


def reacceptance(call: Call) -> Reply:
    """Make the named users (or all who accepted) need to accept the policy again."""
    call.json()
    limit = call.state.settings.max_batch_users
    data = v.parse(ReacceptanceRequest, call.raw, limit=limit)
    slug, reason, users = data.policy, data.reason, data.user_ids
    if users is not None:
        v.none_reserved(users)
    if data.all == (users is not None):
        raise FieldError("user_ids", "give either user_ids or all: true")
    if users is not None and len(users) > limit:
        raise FieldError("user_ids", f"must be a list of 1 to {limit} user ids")
    result = ops.reacceptance(call.state.store, slug, users, reason, call.key.id, call.state.now())
    call.state.snapshots.clear()
    return Reply(result, 200)


# ---------------------------------------------------------------------------
# Streaming export (a plain endpoint: the JSON wrapper cannot stream)


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise FieldError("since", "must be a date (2025-01-31) or an RFC 3339 time") from None
    try:
        # In UTC now, before the response starts: 9999-12-31T23:59:59-14:00 is past year 9999.
        return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except OverflowError:
        raise FieldError("since", "must be a time from year 1 to 9999 in UTC") from None


def _prepare(request: Request, state: AppState) -> tuple[list[Any], str]:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized(_AUTH_DETAIL)
    query = request.query_params
    fmt = query.get("format", "jsonl")
    if fmt not in ("jsonl", "csv"):
        raise FieldError("format", "must be jsonl or csv")
    with state.store.read() as session:
        key = authenticate(session, token.strip())
        if key is None:
            raise Unauthorized(_AUTH_DETAIL)
        if "admin" not in key.scopes:
            raise Forbidden("this API key lacks the 'admin' scope")
    ops.settle(state.store)  # events committed a moment ago are exported too
    with state.store.read() as session:
        snapshot = load_snapshot(session)
        user = query.get("user_id")
        where = ops.export_filters(
            snapshot,
            query.get("policy") or None,
            _since(query.get("since")),
            v.user_id(user) if user is not None else None,
        )
    return where, fmt


def _lines(state: AppState, where: list[Any], fmt: str) -> Iterator[str]:
    with state.store.read() as session:
        snapshot = load_snapshot(session)
        rows = ops.export_rows(session, snapshot, state.settings, where)
        chunk: list[str] = []
        for line in ops.export_lines(rows, fmt):
            chunk.append(line)
            if len(chunk) == _CHUNK_ROWS:
                yield "".join(chunk)
                chunk.clear()
        yield "".join(chunk)


async def export(request: Request) -> Response:
    """Stream events (JSON Lines or CSV) with the text's SHA-256, its URL and chain fields."""
    state: AppState = request.app.state.tracker
    where, fmt = await run_in_threadpool(_prepare, request, state)
    media = "text/csv; charset=utf-8" if fmt == "csv" else "application/x-ndjson"
    return StreamingResponse(_lines(state, where, fmt), media_type=media)
