"""Why a body does not fit its type, worded as the tracker words it: a field (a JSON path
such as ``policies[0].versions[1].sha256``) and a message. The service answers it as a 422;
the client raises it before sending."""

from __future__ import annotations

import json
import re
import types
from collections.abc import Callable, Iterable, Mapping
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from tracker.contract.fields import PATTERN_MESSAGES, Say, UserId
from tracker.contract.requests import Request, defaulted

M = TypeVar("M", bound=BaseModel)


class Refused(ValueError):
    """A body or value that does not fit its type: ``field`` and ``message``."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


#: What a refusal says when its field says nothing of its own, by pydantic error type.
MESSAGES = {
    "missing": "is required",
    "string_type": "must be a string",
    "string_too_short": "must not be empty",
    "string_too_long": "must be at most {max_length} characters",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "greater_than_equal": "must be between {minimum} and {maximum}",
    "less_than_equal": "must be between {minimum} and {maximum}",
    "bool_type": "must be true or false",
    "literal_error": "must be one of {options}",
    "model_type": "must be a JSON object",
    "model_attributes_type": "must be a JSON object",
    "dict_type": "must be a JSON object",
    "date_type": "must be a date as YYYY-MM-DD",
    "date_parsing": "must be a date as YYYY-MM-DD",
    "date_from_datetime_parsing": "must be a date as YYYY-MM-DD",
    "date_from_datetime_inexact": "must be a date as YYYY-MM-DD",
    "datetime_type": "must be a date-time with a time zone (RFC 3339)",
    "datetime_parsing": "must be a date-time with a time zone (RFC 3339)",
    "datetime_from_date_parsing": "must be a date-time with a time zone (RFC 3339)",
    "timezone_aware": "must include a time zone (e.g. Z or +00:00)",
}


def parse(model: type[M], raw: bytes | str, **limits: Any) -> M:
    """The JSON body as ``model``, or ``Refused`` for its first refusal. ``limits`` fill the
    ``{placeholders}`` of a field's wording (``limit`` of a list set at run time)."""
    if b"null" in (raw.encode() if isinstance(raw, str) else raw):
        raw = _nulls_as_defaults(model, raw)
    try:
        return model.model_validate_json(raw, strict=True)
    except ValidationError as exc:
        raise refusal(model, exc.errors(include_url=False), limits) from None


def _nulls_as_defaults(model: type[BaseModel], raw: bytes | str) -> bytes | str:
    """``raw`` without the nulls that stand for a field's default (``Request``)."""
    try:
        data = json.loads(raw)
    except ValueError:
        return raw  # the model reports it
    return json.dumps(_drop_nulls(model, data), ensure_ascii=False)


def _drop_nulls(tp: Any, data: Any) -> Any:
    if isinstance(data, list):
        item = next((get_args(p)[0] for p in _parts(tp) if get_origin(p) is list), None)
        return [_drop_nulls(item, d) for d in data] if item is not None else data
    model = next((p for p in _parts(tp) if isinstance(p, type) and issubclass(p, BaseModel)), None)
    if model is None or not isinstance(data, dict):
        return data
    fields = {info.alias or name: info for name, info in model.model_fields.items()}
    drop = defaulted(model) if issubclass(model, Request) else frozenset()
    out = {}
    for key, value in data.items():
        if value is None and key in drop:
            continue
        info = fields.get(key)
        out[key] = _drop_nulls(info.annotation, value) if info is not None else value
    return out


_USER_ID: TypeAdapter[str] = TypeAdapter(UserId)


def _fast_check(tp: Any) -> Callable[[Any], bool]:
    """A plain-Python test of a string type's limits, read from the type: the status path
    checks a user id on every request, and pydantic's call costs more than the test."""
    low, high, pattern = 0, None, None
    for item in _parts(tp):
        for meta in getattr(item, "metadata", None) or ():
            low = getattr(meta, "min_length", None) or low
            high = getattr(meta, "max_length", None) or high
            pattern = getattr(meta, "pattern", None) or pattern
    assert high is not None and pattern is not None
    compiled = re.compile(pattern)

    def check(value: Any) -> bool:
        return (
            isinstance(value, str)
            and low <= len(value) <= high
            and compiled.fullmatch(value) is not None
        )

    return check


def user_id(value: Any, name: str = "user_id") -> str:
    """A user id from a path or query (a body's are checked by its model)."""
    if _USER_ID_FITS(value):
        return str(value)
    try:
        return _USER_ID.validate_python(value, strict=True)
    except ValidationError as exc:
        raise refusal(None, exc.errors(include_url=False), {}, root=name) from None


def _first(errors: list[ErrorDetails]) -> ErrorDetails:
    """The refusal to report: an unknown field before any other in the same object (its
    checks ran first when the validators were written by hand), else the first."""
    first = errors[0]
    for error in errors:
        if error["type"] != "extra_forbidden":
            continue
        where = error["loc"][:-1]
        if first["loc"][: len(where)] != where:
            continue
        if first["type"] != "extra_forbidden" or len(where) < len(first["loc"]) - 1:
            first = error
        elif len(where) == len(first["loc"]) - 1 and str(error["loc"][-1]) < str(first["loc"][-1]):
            first = error  # of several unknown fields, the first in sorted order
    return first


def refusal(
    model: type[BaseModel] | None,
    errors: list[ErrorDetails],
    limits: Mapping[str, Any],
    root: str = "body",
) -> Refused:
    """The first of pydantic's ``errors``, worded."""
    error = _first(errors)
    loc = error["loc"]
    steps = list(_walk(model, loc)) if model is not None else []
    say = steps[-1][1] if steps else Say()
    name = _name(loc) or root
    kind = error["type"]
    given = error.get("input")
    options = _options(steps[-1][0]) if steps else ()
    if given is None and kind != "missing" and loc and isinstance(loc[-1], str):
        kind = "null"  # null in a required field reads as left out, unless worded
    wording = say.messages.get(kind)
    if kind == "null" and wording is None:
        kind = "missing"
    # A list whose field words its items' refusals reports them on the list itself.
    if wording is None and len(steps) >= 2 and isinstance(loc[-1], int):
        parent = steps[-2][1]
        if kind == "literal_error" and not isinstance(given, str):
            kind = "string_type"  # a list of names holding something else than a name
        if kind in parent.items:
            wording, name = parent.items[kind], _name(loc[:-1])
    ctx: dict[str, Any] = {**(error.get("ctx") or {}), **limits}
    if kind == "extra_forbidden":
        owner = steps[-2][0] if len(steps) >= 2 else model
        allowed = _aliases(owner)
        return Refused(name, f"unknown field; allowed: {', '.join(sorted(allowed))}")
    if kind == "string_pattern_mismatch" and wording is None:
        wording = PATTERN_MESSAGES.get(str(ctx.get("pattern")), "has the wrong form")
    tp = steps[-1][0] if steps else UserId
    bounds = _bounds(tp)
    ctx.setdefault("minimum", bounds[0])
    ctx.setdefault("maximum", bounds[1])
    ctx["options"] = ", ".join(str(o) for o in options)
    ctx["input"] = error.get("input")
    template = wording or MESSAGES.get(kind) or str(error.get("msg", "is invalid")).lower()
    return Refused(name, template.format(**ctx))


def _name(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _parts(tp: Any) -> Iterable[Any]:
    """``tp`` and what it wraps: Annotated metadata, the arms of an optional."""
    yield tp
    if get_origin(tp) is Annotated:
        yield from get_args(tp)[1:]
        yield from _parts(get_args(tp)[0])
    elif get_origin(tp) in (Union, types.UnionType):
        for arm in get_args(tp):
            if arm is not type(None):
                yield from _parts(arm)


def _walk(model: type[BaseModel], loc: tuple[int | str, ...]) -> Iterable[tuple[Any, Say]]:
    """The type and wording at each step of ``loc``."""
    tp: Any = model
    for part in loc:
        child: Any = None
        for item in _parts(tp):
            if isinstance(part, str) and isinstance(item, type) and issubclass(item, BaseModel):
                for name, info in item.model_fields.items():
                    if part in (name, info.alias):
                        child = (
                            Annotated[(info.annotation, *info.metadata)]
                            if info.metadata
                            else info.annotation
                        )
                break
            if isinstance(part, int) and get_origin(item) is list:
                child = get_args(item)[0]
                break
        if child is None:
            yield (Any, Say())
            return
        tp = child
        yield tp, next((m for m in _parts(tp) if isinstance(m, Say)), Say())


def _aliases(model: Any) -> set[str]:
    for item in _parts(model):
        if isinstance(item, type) and issubclass(item, BaseModel):
            return {info.alias or name for name, info in item.model_fields.items()}
    return set()


def _bounds(tp: Any) -> tuple[Any, Any]:
    low = high = None
    for item in _parts(tp):
        for meta in getattr(item, "metadata", None) or ():
            if isinstance(meta, annotated_types.Ge):
                low = meta.ge
            if isinstance(meta, annotated_types.Le):
                high = meta.le
        if isinstance(item, annotated_types.Ge):
            low = item.ge
        if isinstance(item, annotated_types.Le):
            high = item.le
    return low, high


def _options(tp: Any) -> tuple[Any, ...]:
    for item in _parts(tp):
        if get_origin(item) is Literal:
            return get_args(item)
    return ()


_USER_ID_FITS = _fast_check(UserId)
