"""The constrained scalars of the API, each with the messages its refusals carry.

A field's limits are written once, here or on the model that uses it: the OpenAPI schema,
the server's validation (``tracker.service.validate.parse``) and the client's models all
read them from the type. ``Say`` holds the wording of a refusal where the generic one
(``must be a string``, ``must be at most 200 characters``) would not say enough.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any

from pydantic import AwareDatetime, BeforeValidator, Field

INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1
#: A text that holds no NUL character (PostgreSQL cannot store one).
NO_NUL = "^[^\\x00]*$"
#: The characters text shown to people never holds (``tracker.inputs.has_control``): C0 and
#: C1 controls, DEL, and the bidirectional overrides and isolates (CVE-2021-42574).
CONTROL = "\\x00-\\x1f\\x7f-\\x9f\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069"
#: Text a terminal or page shows.
SHOWN = f"^[^{CONTROL}]*$"
#: A user id: at least one character, none of them a control character.
NO_CONTROL = f"^[^{CONTROL}]+$"
LANGUAGE_TAG = "^[A-Za-z]{1,8}([-_][A-Za-z0-9]{1,8})*$"
#: Not blank: some character other than ASCII whitespace (JSON Schema's ``\\s`` is
#: ECMA-262's, wider than Python's ``str.strip``; spelling it out keeps the two equal).
NOT_BLANK = "^[^\\x00]*[^\\x00 \\t\\n\\r\\f\\v][^\\x00]*$"
SHA256 = "^[0-9a-fA-F]{64}$"

#: What a pattern refusal says, by pattern.
PATTERN_MESSAGES = {
    NO_NUL: "must not contain NUL characters",
    NO_CONTROL: "must not contain control characters",
    SHOWN: "must not contain control characters",
    LANGUAGE_TAG: "must be a language tag such as en or pt-BR",
    NOT_BLANK: "is required",
    SHA256: "must be 64 hexadecimal digits",
}


@dataclass(frozen=True)
class Say:
    """Wording for refusals of one field, by pydantic error type. ``{placeholders}`` take
    the error's context (``max_length``, ``actual_length``, ``input``). ``items`` words
    refusals of the field's list items, reported on the field itself."""

    messages: Mapping[str, str] = field(default_factory=dict)
    items: Mapping[str, str] = field(default_factory=dict)

    def __hash__(self) -> int:
        return id(self)


def _whole(value: Any) -> Any:
    # JSON does not tell 3 from 3.0; a strict int would refuse the second.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


#: Put on an ``int`` field: 3.0 counts as 3.
Whole = BeforeValidator(_whole)


UserId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=255,
        pattern=NO_CONTROL,
        description="an app's own user id; ids starting with `erased:` are reserved",
    ),
    Say({"null": "must be a string"}),
]
PolicySlug = Annotated[str, Field(min_length=1, max_length=200, pattern=NO_NUL)]
Locale = Annotated[str, Field(min_length=1, max_length=64, pattern=LANGUAGE_TAG)]
VersionNumber = Annotated[int, Field(ge=1, le=INT32_MAX), Whole]
#: Dates and times with a zone, as RFC 3339 text.
Day = date
Moment = AwareDatetime
