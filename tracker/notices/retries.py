"""When a webhook delivery is tried again: the retry schedule, ``Retry-After``, and what a
failed attempt is called."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import httpx

from tracker.errors import TrackerError
from tracker.inputs import retry_after_wait

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
#: Longest wait a ``Retry-After`` may ask for.
MAX_RETRY_AFTER = timedelta(days=1)


def parse_schedule(spec: str) -> tuple[timedelta, ...]:
    """``"5s,1m,2h"`` → the waits before the 2nd, 3rd, … attempts."""
    waits = []
    for item in (p.strip() for p in spec.split(",")):
        match = re.fullmatch(r"(\d+(?:\.\d+)?)([smhd])", item)
        if not match:
            raise TrackerError(
                f"webhook_retry_schedule: {item!r} is not a wait such as 30s, 5m, 2h or 1d"
            )
        waits.append(timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)]))
    if not waits:
        raise TrackerError("webhook_retry_schedule: name at least one wait")
    return tuple(waits)


def retry_after(value: str | None, now: datetime) -> timedelta | None:
    """How long a ``Retry-After`` header (seconds or an HTTP date) asks to wait, at most
    ``MAX_RETRY_AFTER``; None when there is none or it cannot be read."""
    wait = retry_after_wait(value, now)
    return None if wait is None else min(wait, MAX_RETRY_AFTER)


#: What an operator needs to know of a failed connection, without the receiver's or the
#: network's words (they could carry what an internal service answered).
_FAILURES: tuple[tuple[type[httpx.HTTPError], str], ...] = (
    (httpx.ConnectTimeout, "timed out connecting"),
    (httpx.TimeoutException, "timed out after {timeout:g}s"),
    (httpx.ConnectError, "could not connect (refused, unreachable or TLS handshake failed)"),
    (httpx.RemoteProtocolError, "connection closed or broken HTTP response"),
    (httpx.ReadError, "connection lost while reading the response"),
    (httpx.WriteError, "connection lost while sending"),
)


def failure(exc: httpx.HTTPError, timeout: float) -> str:
    """What failed, in the operator's words (``_FAILURES``)."""
    for kind, text in _FAILURES:
        if isinstance(exc, kind):
            return text.format(timeout=timeout)
    return "request failed"
