"""What a failed call raises: one base class carrying the problem document's fields."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import httpx


class TrackerClientError(Exception):
    """A call to the tracker failed.

    ``status`` is the HTTP status (None when no response arrived), ``code`` the stable code
    of the tracker's ``application/problem+json`` body and ``message`` its human detail.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str = "error",
        field: str | None = None,
        retry_after: float | None = None,
        body: Any = None,
    ):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.field = field
        self.retry_after = retry_after
        self.body = body

    def __str__(self) -> str:
        where = f"{self.status} " if self.status is not None else ""
        return f"{where}{self.code}: {self.message}"


class AuthError(TrackerClientError):
    """401 or 403: the API key is missing, wrong, revoked or lacks the scope."""


class NotFoundError(TrackerClientError):
    """404: unknown policy, version, user or route."""


class ValidationError(TrackerClientError):
    """400, 413 or 422: the tracker refused the input; ``field`` names the bad field."""


class ConflictError(TrackerClientError):
    """409: e.g. an Idempotency-Key reused with another request."""


class RateLimitedError(TrackerClientError):
    """429 after the retries ran out (``retry_after`` says when to try again)."""


class ServerError(TrackerClientError):
    """5xx after the retries ran out."""


class TransportError(TrackerClientError):
    """No answer: connection refused or reset, or a timeout, after the retries ran out."""


_BY_STATUS: dict[int, type[TrackerClientError]] = {
    400: ValidationError,
    401: AuthError,
    403: AuthError,
    404: NotFoundError,
    409: ConflictError,
    413: ValidationError,
    422: ValidationError,
    429: RateLimitedError,
}


def error_for(response: httpx.Response, retry_after: float | None = None) -> TrackerClientError:
    """The exception for an error response, from its problem document when it has one."""
    status = response.status_code
    cls = _BY_STATUS.get(status, ServerError if status >= 500 else TrackerClientError)
    body: Any = None
    with contextlib.suppress(json.JSONDecodeError, UnicodeDecodeError):
        body = response.json()
    if isinstance(body, dict) and "detail" in body:
        return cls(
            str(body.get("detail")),
            status=status,
            code=str(body.get("code") or f"http_{status}"),
            field=body.get("field") if isinstance(body.get("field"), str) else None,
            retry_after=retry_after,
            body=body,
        )
    text = response.text.strip()[:200]
    message = response.reason_phrase or "error"
    return cls(
        f"{message}: {text}" if text else message,
        status=status,
        code=f"http_{status}",
        retry_after=retry_after,
        body=body if body is not None else text,
    )


def transport_error(exc: httpx.TransportError, attempts: int) -> TransportError:
    kind = "timeout" if isinstance(exc, httpx.TimeoutException) else "connection_error"
    tries = "1 attempt" if attempts == 1 else f"{attempts} attempts"
    return TransportError(f"no answer from the tracker after {tries}: {exc!r}", code=kind)
