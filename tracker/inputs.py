"""Rules for text and ids that come from outside, shared by the API, the CLI and the store.

Each is a small function so that every surface applies the same rule: the API names the
field in a 422, the CLI prints one line.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from tracker.errors import InvalidInput

#: Largest id a row may have: the id columns are 32-bit on PostgreSQL.
ROW_ID_MAX = 2**31 - 1
#: User ids starting with this are pseudonyms that erasure gave; no app may send one.
RESERVED_USER_PREFIX = "erased:"

# C0 and C1 controls, DEL, and the bidirectional overrides and isolates that reorder what a
# terminal or page shows (CVE-2021-42574). Text shown to people needs none of them.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def has_control(value: str) -> bool:
    return _CONTROL.search(value) is not None


def printable(name: str, value: str) -> str:
    """``value`` if it holds no control character (one line, shown as it is)."""
    if has_control(value):
        raise InvalidInput(f"{name}: must not contain control characters", code="invalid_text")
    return value


def row_id(text: str) -> int | None:
    """The row id ``text`` spells (1 to 2**31-1, ASCII digits), else None: no row has it."""
    if not (text.isascii() and text.isdigit()) or len(text) > 10:
        return None
    value = int(text)
    return value if 1 <= value <= ROW_ID_MAX else None


def user_id_problem(value: str) -> str | None:
    """Why ``value`` cannot be a user id, or None."""
    if not value:
        return "must not be empty"
    if len(value) > 255:
        return "must be at most 255 characters"
    if has_control(value):
        return "must not contain control characters"
    if value.startswith(RESERVED_USER_PREFIX):
        return f"must not start with {RESERVED_USER_PREFIX!r} (reserved for erased users)"
    return None


def retry_after_wait(value: str | None, now: datetime) -> timedelta | None:
    """How long a ``Retry-After`` header (delta-seconds or an HTTP date) asks to wait from
    ``now``, never below zero (a billion seconds at most); None when there is none or it
    cannot be read. The client and the webhook sender read the header alike."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return timedelta(seconds=min(int(value), 10**9))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(when - now, timedelta(0))
