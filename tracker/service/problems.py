"""``application/problem+json`` (RFC 9457): the one translation of errors for HTTP."""

from __future__ import annotations

import logging
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Match

from tracker.errors import InvalidInput, TrackerError

log = logging.getLogger("tracker.service")

PROBLEM = "application/problem+json"
TYPE_BASE = "urn:policy-tracker:problem:"

TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Invalid input",
    500: "Internal error",
    503: "Service unavailable",
}


class FieldError(InvalidInput):
    """A 422 naming the field (a JSON path such as ``policies[0].versions[1].sha256``)."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field


def problem(status: int, code: str, detail: str, **extra: Any) -> JSONResponse:
    body = {
        "type": TYPE_BASE + code,
        "title": TITLES.get(status, "Error"),
        "status": status,
        "code": code,
        "detail": detail,
        **extra,
    }
    headers = {"WWW-Authenticate": 'Bearer realm="policy-tracker"'} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


async def tracker_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, TrackerError)
    extra = {"field": exc.field} if isinstance(exc, FieldError) else {}
    return problem(exc.status, exc.code, exc.message, **extra)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return problem(404, "not_found", f"no route for {request.method} {request.url.path}")
    if exc.status_code == 405:
        response = problem(405, "method_not_allowed", f"{request.method} is not allowed here")
        response.headers["Allow"] = _allowed(request)
        return response
    return problem(exc.status_code, "http_error", str(exc.detail))


def _allowed(request: Request) -> str:
    """Every method some route answers on this path (one route per method here, so the
    one that raised the 405 knows only its own)."""
    methods: set[str] = set()
    for route in request.app.routes:
        found = getattr(route, "methods", None)
        if found and route.matches(request.scope)[0] != Match.NONE:
            methods |= found
    return ", ".join(sorted(methods))


async def server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem(500, "internal_error", "the tracker failed to answer; the error is logged")


EXCEPTION_HANDLERS: dict[Any, Any] = {
    TrackerError: tracker_error,
    HTTPException: http_error,
    Exception: server_error,
}
