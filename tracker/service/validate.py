"""Request validation: the typed contract (``tracker.contract``) checks each body, and its
refusals become 422 problems naming the field; the few rules a type cannot state (a
context's size as JSON and depth, an address that parses) are here too."""

from __future__ import annotations

import ipaddress
import json
from typing import Any, TypeVar

from pydantic import BaseModel

from tracker.contract import refusals
from tracker.inputs import RESERVED_USER_PREFIX, user_id_problem
from tracker.service.problems import FieldError

M = TypeVar("M", bound=BaseModel)


def parse(model: type[M], raw: bytes, **limits: Any) -> M:
    """The body as ``model``, or a 422 naming the first field that does not fit."""
    try:
        return refusals.parse(model, raw, **limits)
    except refusals.Refused as exc:
        raise FieldError(exc.field, exc.message) from None


def user_id(value: Any, name: str = "user_id") -> str:
    """A user id from a path or query (a body's are checked by its model)."""
    try:
        return not_reserved(refusals.user_id(value, name), name)
    except refusals.Refused as exc:
        raise FieldError(exc.field, exc.message) from None


def not_reserved(value: str, name: str = "user_id") -> str:
    """A user id an app may send: not one of the pseudonyms erasure gives (a pattern would
    need a look-ahead, which the validator's regular expressions lack)."""
    if value.startswith(RESERVED_USER_PREFIX):
        raise FieldError(name, user_id_problem(value) or "is reserved")
    return value


def none_reserved(values: list[str], name: str = "user_ids") -> list[str]:
    if any(v.startswith(RESERVED_USER_PREFIX) for v in values):
        for i, value in enumerate(values):
            not_reserved(value, f"{name}[{i}]")
    return values


# Rules a type cannot state.


def ip(value: str | None, name: str = "ip") -> str | None:
    """An IPv4 or IPv6 address in its canonical spelling."""
    if value is None:
        return None
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise FieldError(name, "must be an IPv4 or IPv6 address") from None


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


def context(value: Any, limit: int, name: str = "context") -> dict[str, Any] | None:
    """Free-form evidence: at most ``limit`` bytes as JSON, nested at most 32 levels (what
    is no object is left for the type to refuse)."""
    if not isinstance(value, dict):
        return None
    if _depth(value) > MAX_CONTEXT_DEPTH:
        raise FieldError(name, f"is nested more than {MAX_CONTEXT_DEPTH} levels deep")
    size = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    if size > limit:
        raise FieldError(name, f"is {size} bytes as JSON; the limit is {limit}")
    return value
