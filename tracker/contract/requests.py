"""What clients send: one model per request body, fields in the order they are checked.

Every model refuses unknown fields and coerces nothing (``strict``); a field with a default
may be left out. ``tracker.service.validate`` adds the checks a type cannot state (a
context's size as JSON, an address that parses, cross-field rules).
"""

from __future__ import annotations

import json
from typing import Annotated, Any, ClassVar, Literal, get_args

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    TypeAdapter,
    WithJsonSchema,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError

from tracker.contract.fields import (
    CONTROL,
    INT32_MAX,
    NO_NUL,
    NOT_BLANK,
    SHOWN,
    Day,
    Locale,
    Moment,
    PolicySlug,
    Say,
    UserId,
    VersionNumber,
    Whole,
)

Method = Literal["clickwrap", "continued_use", "api", "import"]
Scope = Literal["read", "write", "admin"]
WebhookEvent = Literal[
    "policy.version_published",
    "acceptance.recorded",
    "notice.created",
    "policy.translation_published",
]
Significance = Literal["patch", "minor", "major"]
MAX_BATCH_USERS = 10_000


class Request(BaseModel):
    """A request body. ``null`` in a field with a default means the default (the tracker
    has always read it so), and the schema says so; fields named in ``null_refused``
    keep refusing it."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    null_refused: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler.resolve_ref_schema(
            super().__get_pydantic_json_schema__(core_schema, handler)
        )
        for name in defaulted(cls):
            prop = schema.get("properties", {}).get(name)
            if prop is None or {"type": "null"} in prop.get("anyOf", ()):
                continue
            kept = {k: prop.pop(k) for k in ("default", "description") if k in prop}
            schema["properties"][name] = {"anyOf": [prop, {"type": "null"}], **kept}
        # The default goes into the prose: generators (openapi-typescript's defaults) read
        # a `default` as "always present" and would make the field required to send.
        for prop in schema.get("properties", {}).values():
            if "default" in prop:
                given = json.dumps(prop.pop("default"))
                said = prop.get("description")
                prop["description"] = (
                    f"{said} (default: `{given}`)" if said else f"default: `{given}`"
                )
        return schema


def defaulted(model: type[Request]) -> frozenset[str]:
    # The parser (tracker.contract.refusals.parse) leaves these out when null: a validator
    # in the model would see Python objects, and strict dates would refuse JSON text.
    """The fields (by JSON name) whose null reads as their default."""
    return frozenset(
        info.alias or name
        for name, info in model.model_fields.items()
        if not info.is_required() and info.default is not None and name not in model.null_refused
    )


#: A field of versions.json that the site derives: accepted, whatever its value, and
#: ignored (the tracker derives its own).
DERIVED = "; derived by the site and ignored"


Context = Annotated[
    dict[str, Any],
    Field(
        description="free-form evidence; at most max_context_bytes as JSON, nested at most "
        "32 levels"
    ),
    Say({"dict_type": "must be a JSON object"}),
]


class _Event(Request):
    user_id: UserId
    policy: PolicySlug


class _EventDetails(Request):
    method: Method = "api"
    ip: Annotated[
        str | None,
        Field(max_length=64, description="the user's IPv4 or IPv6 address"),
        WithJsonSchema(
            {
                "anyOf": [
                    {"type": "string", "format": "ipv4"},
                    {"type": "string", "format": "ipv6"},
                    {"type": "null"},
                ]
            }
        ),
    ] = None
    user_agent: Annotated[str, Field(max_length=1024, pattern=NO_NUL)] | None = None
    locale: Locale | None = None
    context: Context | None = None


class EventRequest(_EventDetails, _Event):
    """An acceptance: the version is required. ``accepted_at`` comes only with method
    ``import`` (the schema states it for generators; the service checks it, and that the
    time is not in the future, which no schema can say)."""

    model_config = ConfigDict(
        json_schema_extra={
            "if": {"required": ["accepted_at"], "properties": {"accepted_at": {"type": "string"}}},
            "then": {"required": ["method"], "properties": {"method": {"const": "import"}}},
        }
    )

    version: VersionNumber
    accepted_at: Annotated[
        Moment | None,
        Field(
            description="when the user accepted, for an acceptance imported from another "
            "system: only with method `import` and an API key with the `admin` scope, never "
            "in the future (default: the time the tracker records it)"
        ),
    ] = None


class EventRequestOptionalVersion(_EventDetails, _Event):
    """A decline or withdrawal: the version may be left out."""

    version: Annotated[
        VersionNumber | None,
        Field(
            description="default: the version in force (a decline) or the version the user "
            "accepted (a withdrawal)"
        ),
    ] = None


UserIds = Annotated[
    list[UserId],
    Field(min_length=1, max_length=MAX_BATCH_USERS),
    Say(
        {
            "list_type": "must be a list of user ids",
            "missing": "must be a list of user ids",
            "too_short": "must name at least one user",
            "too_long": "has {actual_length} entries; the limit is {max_length}",
        }
    ),
]


class BatchStatusRequest(Request):
    user_ids: UserIds
    policy: PolicySlug | None = None


ReacceptanceUsers = Annotated[
    list[UserId],
    Field(min_length=1, max_length=MAX_BATCH_USERS),
    Say(
        dict.fromkeys(
            ("list_type", "too_short", "too_long"), "must be a list of 1 to {limit} user ids"
        )
    ),
]


class _Reacceptance(Request):
    policy: PolicySlug
    reason: Annotated[str, Field(min_length=1, max_length=2000, pattern=NOT_BLANK)]


class ReacceptanceOfUsers(_Reacceptance):
    """The named users need to accept the policy again."""

    user_ids: ReacceptanceUsers
    all: Literal[False] = False


class ReacceptanceOfAll(_Reacceptance):
    """Every user whose latest event accepted the policy needs to accept it again."""

    all: Literal[True]
    user_ids: None = None


_CASES = TypeAdapter(ReacceptanceOfUsers | ReacceptanceOfAll)


class ReacceptanceRequest(_Reacceptance):
    """Either ``user_ids`` or ``all: true``.

    The service validates this one model (the same fields, so the same refusals) and
    checks the rule (``tracker.service.api.audit``); its schema is one of the two above,
    which says the rule to generators: a client gets one type for each case.
    """

    all: bool = False
    user_ids: ReacceptanceUsers | None = None

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        cases = handler(_CASES.core_schema)
        return {
            "oneOf": cases["anyOf"],
            "title": cls.__name__,
            "description": "Either `user_ids` or `all: true`.",
        }


_URLS = "must be a list of URLs"


# Every character str.strip() removes, spelled out (a generator may read a class as ASCII).
_BLANK = "\\x00-\\x20\\x7f-\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff"
APP_NAME = f"^[^{CONTROL}]*[^{_BLANK}][^{CONTROL}]*$"
COLOR = "^#[0-9a-fA-F]{6}$"
#: An absolute http(s) URL without user info, query or fragment (no ?, # or backslash).
RETURN_URL_ENTRY = '^https?://[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:[0-9]{1,4})?(/[!-"$->@-\\[\\]-~]*)?$'
_NOT_A_URL = (
    "{input!r}: give an absolute http(s) URL such as https://app.example.com/ "
    "(no query, fragment or user info)"
)


class KeyAppRequest(Request):
    """A key's app settings; a field left out (or null) is cleared."""

    return_urls: (
        Annotated[
            list[
                Annotated[
                    str,
                    Field(max_length=2048, pattern=RETURN_URL_ENTRY),
                    Say({"string_pattern_mismatch": _NOT_A_URL, "string_too_long": _NOT_A_URL}),
                ]
            ],
            Field(
                max_length=100,
                description="where the hosted page may send users back to: each URL and the "
                "paths below it, on the same scheme, host and port (a loopback URL without a "
                "port allows any port); no query or fragment",
            ),
            Say({"list_type": _URLS, "too_long": "must list at most 100 URLs"}),
        ]
        | None
    ) = None
    app_name: (
        Annotated[
            str,
            Field(
                min_length=1,
                max_length=200,
                pattern=APP_NAME,
                description="the app's name on the hosted page (default: the key's name)",
            ),
            Say(
                dict.fromkeys(
                    ("string_too_short", "string_too_long", "string_pattern_mismatch"),
                    "{input!r}: give 1 to 200 characters, no control characters",
                )
            ),
        ]
        | None
    ) = None
    color: (
        Annotated[
            str,
            Field(pattern=COLOR, description="the app's colour on the hosted page, `#rrggbb`"),
            Say({"string_pattern_mismatch": "{input!r} is not a colour like #1a73e8"}),
        ]
        | None
    ) = None


_SCOPES = "must be a list of read, write, admin"


class NewApiKeyRequest(KeyAppRequest):
    name: Annotated[str, Field(min_length=1, max_length=200, pattern=SHOWN)]
    scopes: Annotated[
        list[Scope],
        Field(min_length=1),
        Say(
            {
                "list_type": _SCOPES,
                "too_short": "name at least one of read, write, admin",
            },
            items={
                "string_type": _SCOPES,
                "literal_error": "unknown scope {input}; use read, write, admin",
            },
        ),
    ]


_EVENT_TYPES = ", ".join(get_args(WebhookEvent))


# A host (a bracketed IPv6 address or a name without delimiters) and a port of 1-65535:
# what ``tracker.notices.urls.check_url`` reads; whether the host may be reached is the
# server's setting (webhook_allowed_hosts), which no pattern can say.
_PORT = "0*([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])"
WEBHOOK_URL = (
    "^https?://(\\[[0-9A-Fa-f:.]+\\]|[^\\x00-\\x20/:?#@\\[\\]\\\\]+)"
    f"(:{_PORT})?([/?#][^\\x00-\\x20]*)?$"
)


class WebhookRequest(Request):
    url: Annotated[
        str,
        Field(
            min_length=1,
            max_length=2000,
            pattern=WEBHOOK_URL,
            description="a public https URL; plain http or a private or loopback address "
            "only for hosts in webhook_allowed_hosts",
        ),
        Say({"string_pattern_mismatch": "must be an absolute https:// URL"}),
    ]
    events: (
        Annotated[
            list[WebhookEvent],
            Field(min_length=1, description="the event types to send (default: every type)"),
            Say(
                {
                    "list_type": "must be a list of event types",
                    "too_short": f"name at least one of {_EVENT_TYPES}",
                },
                items={
                    "string_type": "must be a list of event types",
                    "literal_error": "unknown event type {input}; use " + _EVENT_TYPES,
                },
            ),
        ]
        | None
    ) = None
    description: Annotated[str, Field(max_length=500, pattern=SHOWN)] = ""


class AcceptanceLinkRequest(Request):
    user_id: UserId
    policies: (
        Annotated[
            list[Annotated[str, Field(max_length=200)]],
            Field(
                min_length=1,
                max_length=100,
                description="only these policies (default: every policy the user must accept)",
            ),
            Say(
                {
                    "list_type": "must be a list of policy slugs",
                    "too_short": "must name 1 to 100 policies (or be left out)",
                    "too_long": "must name 1 to 100 policies (or be left out)",
                },
                items={"string_type": "must be a list of policy slugs"},
            ),
        ]
        | None
    ) = None
    return_url: Annotated[
        str,
        Field(
            min_length=1,
            max_length=2048,
            pattern="^[^\\x00]*$",
            description="where the page sends the user back, with "
            "`policy_tracker=accepted|declined` added; must be on the key's allow-list",
        ),
    ]
    locale: Annotated[
        Locale | None, Field(description="the user's language, recorded with the events")
    ] = None


# Publishing: the site's versions.json with a text added to each version.

_VERSIONS = "must be a list of versions"

#: The SHA-256 of a version's text, as given (checked against the text).
TextSha256 = Annotated[
    str,
    Field(min_length=64, max_length=64, pattern="^[0-9a-fA-F]{64}$"),
    Say({"string_too_short": "must not be empty"}),
]


#: A version's title as given; empty means the title of what it is a version of.
VersionTitle = Annotated[str, Field(max_length=500, pattern=SHOWN)]


class _PublishedVersion(Request):
    # What a policy's version and a translation's version both give, in PublishVersion's
    # order. effective, path and url are shared too but stay in each model: fields are
    # checked, and listed in the schema, base first, and in PublishVersion they follow
    # fields of its own (moving them would change its schema and which refusal comes first).
    text: Annotated[str, Field(max_length=10_000_000)]
    sha256: TextSha256
    number: VersionNumber
    commit: Annotated[str, Field(min_length=1, max_length=64, pattern=NO_NUL)]
    published: Moment
    author: Annotated[str, Field(max_length=500, pattern=SHOWN)] = ""
    title: Annotated[VersionTitle, Field(description="default: the policy's title")] = ""


class PublishVersion(_PublishedVersion):
    significance: Significance
    significance_source: Literal["declared", "classified"] = "declared"
    summary: Annotated[str, Field(max_length=5000, pattern=SHOWN)] = ""
    effective: Day
    path: Annotated[str, Field(max_length=500, pattern=NO_NUL)] = ""
    status: Annotated[
        Any,
        Field(description="current, archived, upcoming or overtaken on the site's as_of" + DERIVED),
    ] = None
    overtaken_by: Annotated[
        Any, Field(description="the version that replaced an overtaken one" + DERIVED)
    ] = None
    url: Any = Field(None, description="the version's page" + DERIVED)
    changes_from_previous_url: Annotated[
        Any, Field(description="the redline from the previous version" + DERIVED)
    ] = None
    changes_to_current_url: Annotated[
        Any, Field(description="the redline to the version in force" + DERIVED)
    ] = None
    changes_to_latest_url: Annotated[
        Any, Field(description="the redline to the newest version" + DERIVED)
    ] = None


class PublishTranslationVersion(_PublishedVersion):
    title: Annotated[VersionTitle, Field(description="default: the translation's title")] = ""
    translates: Annotated[
        VersionNumber, Field(description="the source version it renders (published with it)")
    ]
    effective: Day
    path: Annotated[str, Field(max_length=500, pattern=NO_NUL)] = ""
    url: Any = Field(None, description="the version's page" + DERIVED)


class PublishTranslation(Request):
    language: Annotated[Locale, Field(description="its BCP 47 tag (de, pt-BR)")]
    title: Annotated[str, Field(min_length=1, max_length=500, pattern=SHOWN)]
    path: Annotated[str, Field(max_length=500, pattern=NO_NUL)] = ""
    withdrawn: bool = False
    withdrawn_at: Annotated[
        Moment | None, Field(description="when it was withdrawn; required when `withdrawn`")
    ] = None
    versions: Annotated[
        list[PublishTranslationVersion], Say({"list_type": _VERSIONS, "missing": _VERSIONS})
    ]
    url: Any = Field(None, description="its current page" + DERIVED)
    history_url: Any = Field(None, description="its history page" + DERIVED)
    state: Any = Field(None, description="current, behind or stale" + DERIVED)
    translates: Any = Field(None, description="what its latest version renders" + DERIVED)
    since: Any = Field(None, description="the source version it fell behind at" + DERIVED)


class PublishPolicy(Request):
    slug: PolicySlug
    title: Annotated[str, Field(min_length=1, max_length=500, pattern=SHOWN)]
    language: Annotated[
        Locale,
        Field(
            description="the BCP 47 tag of the language its text is written in (front matter "
            "`language`); its translations are in other languages"
        ),
    ] = "en"
    aliases: Annotated[
        list[str],
        Say(
            {"list_type": "must be a list of slugs"},
            items={"string_type": "must be a list of slugs"},
        ),
    ] = []
    notice_days: Annotated[int, Field(ge=0, le=INT32_MAX), Whole] = 0
    acceptance_required: bool = True
    versions: Annotated[list[PublishVersion], Say({"list_type": _VERSIONS, "missing": _VERSIONS})]
    path: Annotated[str, Field(max_length=500, pattern=NO_NUL)] = ""
    withdrawn: bool = False
    url: Any = Field(None, description="the current page" + DERIVED)
    history_url: Any = Field(None, description="the history page" + DERIVED)
    current_version: Annotated[
        Any, Field(description="the version in force on the site's as_of" + DERIVED)
    ] = None
    latest_version: Any = Field(None, description="the newest version" + DERIVED)
    upcoming_versions: Annotated[
        Any, Field(description="versions not yet effective on the site's as_of" + DERIVED)
    ] = None
    redlines: Any = Field(None, description="the redline pages" + DERIVED)
    translations: Annotated[
        list[PublishTranslation],
        Field(
            description="the policy's translations, each version with its text, published "
            "like the policy's own versions (their source versions in the same request or "
            "already published)"
        ),
        Say({"list_type": "must be a list of translations"}),
    ] = []


def _not_bool(value: Any) -> Any:
    # ``True == 1`` in Python: a literal 1 would take it.
    if isinstance(value, bool):
        raise PydanticCustomError("literal_error", "must be 1")
    return value


_FORMAT = "must be 1, the versions.json format this tracker reads"
_POLICIES = "must be a list of policies"


class PublishRequest(Request):
    model_config = ConfigDict(populate_by_name=True)
    null_refused = frozenset({"format"})

    format: Annotated[
        Literal[1],
        BeforeValidator(_not_bool),
        Field(description="versions.json's format; only 1 is read"),
        Say({"literal_error": _FORMAT, "int_type": _FORMAT, "null": _FORMAT}),
    ] = 1
    policies: Annotated[list[PublishPolicy], Say({"list_type": _POLICIES, "missing": _POLICIES})]
    generated: str | None = None
    site_url: str | None = None
    head: str | None = None
    schema_: Annotated[Any, Field(description="the address of versions.schema.json" + DERIVED)] = (
        Field(None, alias="$schema")
    )
    as_of: Any = Field(None, description="the day the site was built for" + DERIVED)
    commit: Any = Field(None, description="the commit the site was built from" + DERIVED)
