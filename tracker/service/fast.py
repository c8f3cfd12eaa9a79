"""The status lookup without the framework: ``GET /v1/users/{user_id}/status`` answered in
front of Starlette's middleware and router, on SQLite, when all it needs is at hand.

Apps ask for a user's status on every login or page view, so this one request is worth a
path of its own. It answers only when the key was checked recently (the key cache), the
catalog was checked recently (the snapshot cache) and the store is SQLite (reads run on the
event loop). It reads the consents and pending notices in one statement on the connection
kept for inline reads and sends exactly the bytes and headers the routed endpoint sends.
Anything else, and anything that goes wrong before an answer is sent, goes to Starlette,
which answers the same request the ordinary way (errors included).
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.datastructures import QueryParams
from starlette.types import Receive, Scope, Send

from tracker.service import validate as v
from tracker.service.state import AppState
from tracker.store.status import one_user_status_sqlite

PREFIX = "/v1/users/"
SUFFIX = "/status"
_JSON = (b"content-type", b"application/json")


class TrackerApp(Starlette):
    """Starlette, with the status lookup answered before the middleware and the router."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            path: str = scope["path"]
            if path.startswith(PREFIX) and path.endswith(SUFFIX) and not scope.get("root_path"):
                state = getattr(self.state, "tracker", None)
                body = answer(state, scope, path) if state is not None else None
                if body is not None:
                    headers = [(b"content-length", str(len(body)).encode()), _JSON]
                    await send({"type": "http.response.start", "status": 200, "headers": headers})
                    await send({"type": "http.response.body", "body": body})
                    return
        await super().__call__(scope, receive, send)


def answer(state: AppState, scope: Scope, path: str) -> bytes | None:
    """The status answer's body, or None when the router must answer instead."""
    if not state.inline_reads or not state.settings.status_fast_path:
        return None
    snapshot = state.recent_snapshot()
    key = state.recent_key(_bearer(scope["headers"]))
    if snapshot is None or key is None or "read" not in key.scopes:
        return None
    try:
        user = v.user_id(path[len(PREFIX) : -len(SUFFIX)])
        raw_query: bytes = scope.get("query_string", b"")
        slug = QueryParams(raw_query).get("policy") if raw_query else None
        policy = snapshot.policy(slug) if slug is not None else None
    except Exception:  # a bad request: the router answers it with the right problem
        return None
    try:
        cursor = state.kept_driver_connection().cursor()
        try:
            site = state.settings.site_url
            body = one_user_status_sqlite(cursor, snapshot, user, state.today(), policy, site)
        finally:
            cursor.close()
    except Exception:
        return None  # the router tries again and reports what it finds
    state.fast_answers += 1
    return body


def _bearer(headers: list[tuple[bytes, bytes]]) -> str:
    """The token of the first ``Authorization: Bearer`` header, as the router reads it."""
    for name, value in headers:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if scheme.lower() == "bearer" else ""
    return ""
