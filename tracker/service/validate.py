"""Small validators that name the field in every message (422)."""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from tracker.inputs import has_control, user_id_problem
from tracker.service.problems import FieldError

_LOCALE = re.compile(r"^[A-Za-z]{1,8}([-_][A-Za-z0-9]{1,8})*$")


def obj(value: Any, where: str = "body", *, allowed: set[str] | None = None) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise FieldError(where, "must be a JSON object")
    if allowed is not None:
        extra = sorted(set(value) - allowed)
        if extra:
            name = extra[0] if where == "body" else f"{where}.{extra[0]}"
            raise FieldError(name, f"unknown field; allowed: {', '.join(sorted(allowed))}")
    return value


def _name(where: str, key: str) -> str:
    return key if where == "body" else f"{where}.{key}"


def text(
    data: Mapping[str, Any],
    key: str,
    *,
    where: str = "body",
    required: bool = True,
    max_len: int = 255,
    min_len: int = 1,
    default: str | None = None,
) -> str | None:
    name = _name(where, key)
    value = data.get(key)
    if value is None:
        if required:
            raise FieldError(name, "is required")
        return default
    if not isinstance(value, str):
        raise FieldError(name, "must be a string")
    if len(value) < min_len:
        raise FieldError(name, "must not be empty")
    if len(value) > max_len:
        raise FieldError(name, f"must be at most {max_len} characters")
    if "\x00" in value:
        raise FieldError(name, "must not contain NUL characters")
    return value


def req_text(data: Mapping[str, Any], key: str, **kw: Any) -> str:
    value = text(data, key, required=True, **kw)
    assert value is not None
    return value


def integer(
    data: Mapping[str, Any],
    key: str,
    *,
    where: str = "body",
    required: bool = True,
    minimum: int = 1,
    maximum: int = 2**31 - 1,
) -> int | None:
    name = _name(where, key)
    value = data.get(key)
    if value is None:
        if required:
            raise FieldError(name, "is required")
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # JSON does not tell 3 from 3.0
    if isinstance(value, bool) or not isinstance(value, int):
        raise FieldError(name, "must be a whole number")
    if not minimum <= value <= maximum:
        raise FieldError(name, f"must be between {minimum} and {maximum}")
    return value


def boolean(data: Mapping[str, Any], key: str, *, where: str = "body", default: bool) -> bool:
    value = data.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise FieldError(_name(where, key), "must be true or false")
    return value


def choice(
    data: Mapping[str, Any],
    key: str,
    options: tuple[str, ...],
    *,
    default: str,
    where: str = "body",
) -> str:
    value = data.get(key)
    if value is None:
        return default
    if value not in options:
        raise FieldError(_name(where, key), f"must be one of {', '.join(options)}")
    return str(value)


def ip(data: Mapping[str, Any], key: str = "ip") -> str | None:
    value = text(data, key, required=False, max_len=64)
    if value is None:
        return None
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise FieldError(key, "must be an IPv4 or IPv6 address") from None


def locale(data: Mapping[str, Any], key: str = "locale") -> str | None:
    value = text(data, key, required=False, max_len=64)
    if value is not None and not _LOCALE.match(value):
        raise FieldError(key, "must be a language tag such as en or pt-BR")
    return value


MAX_CONTEXT_DEPTH = 32


def _depth(value: Any) -> int:
    """How deeply objects and arrays nest in ``value`` (iterative: no recursion limit)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        if level > MAX_CONTEXT_DEPTH:
            break
        stack.extend((child, level + 1) for child in children)
    return deepest


def context(data: Mapping[str, Any], limit: int, key: str = "context") -> dict[str, Any] | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise FieldError(key, "must be a JSON object")
    if _depth(value) > MAX_CONTEXT_DEPTH:
        raise FieldError(key, f"is nested more than {MAX_CONTEXT_DEPTH} levels deep")
    size = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    if size > limit:
        raise FieldError(key, f"is {size} bytes as JSON; the limit is {limit}")
    return value


def user_id(value: Any, name: str = "user_id") -> str:
    if not isinstance(value, str):
        raise FieldError(name, "must be a string")
    problem = user_id_problem(value)
    if problem is not None:
        raise FieldError(name, problem)
    return value


def shown_text(value: str, name: str) -> str:
    """Text a terminal or page shows: no control characters (``tracker.inputs``)."""
    if has_control(value):
        raise FieldError(name, "must not contain control characters")
    return value


def a_date(data: Mapping[str, Any], key: str, *, where: str) -> date:
    value = data.get(key)
    name = _name(where, key)
    if not isinstance(value, str):
        raise FieldError(name, "must be a date as YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise FieldError(name, "must be a date as YYYY-MM-DD") from None


def a_datetime(data: Mapping[str, Any], key: str, *, where: str) -> datetime:
    value = data.get(key)
    name = _name(where, key)
    if not isinstance(value, str):
        raise FieldError(name, "must be a date-time with a time zone (RFC 3339)")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise FieldError(name, "must be a date-time with a time zone (RFC 3339)") from None
    if parsed.tzinfo is None:
        raise FieldError(name, "must include a time zone (e.g. Z or +00:00)")
    return parsed


def req_int(data: Mapping[str, Any], key: str, **kw: Any) -> int:
    value = integer(data, key, required=True, **kw)
    assert value is not None
    return value
