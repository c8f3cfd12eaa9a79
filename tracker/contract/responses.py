"""What the tracker answers: one model per resource.

The service builds its answers as plain JSON (the status path encodes bytes itself, for
speed); ``tests/service/test_contract.py`` checks every answer against these models. The
client parses answers into them: fields a newer tracker adds are ignored, and a field an
older one lacks takes its default, while the document lists every field as present.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tracker.contract.requests import Method, Scope, Significance, WebhookEvent

EventType = Literal["accepted", "declined", "withdrawn"]
State = Literal["accepted", "never_accepted", "major_change", "declined", "withdrawn"]
NoticeState = Literal["pending", "acknowledged", "superseded", "accepted"]
DeliveryState = Literal["pending", "delivered", "dead", "cancelled"]
Freshness = Literal["current", "behind", "stale"]
#: Free-form JSON objects (evidence, a structured diff, a checkpoint).
FreeForm = dict[str, Any]


class Answer(BaseModel):
    model_config = ConfigDict(
        extra="ignore", frozen=True, json_schema_serialization_defaults_required=True
    )


class Problem(Answer):
    """An error, `application/problem+json` (RFC 9457)."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=False)

    type: str
    title: str
    status: int
    code: Annotated[str, Field(description="stable; what a program should test")]
    detail: str
    field: Annotated[str | None, Field(description="the invalid field (422 only)")] = None


class Health(Answer):
    status: Literal["ok"]


class Policy(Answer):
    slug: str
    title: str
    language: Annotated[
        str, Field(description="the BCP 47 tag of the language its text is written in")
    ]
    path: str
    aliases: list[str]
    acceptance_required: bool
    notice_days: int
    withdrawn: bool
    current_version: int | None
    latest_version: int | None


class PolicyList(Answer):
    policies: list[Policy]


class Version(Answer):
    policy: str
    version: int
    title: str
    commit: str
    published: datetime
    effective: date
    in_force: bool
    significance: Significance
    summary: str
    sha256: Annotated[str, Field(pattern="^[0-9a-f]{64}$")]
    url: str


class PolicyDetail(Policy):
    versions: list[Version]


class VersionList(Answer):
    policy: str
    versions: list[Version]


class VersionDetail(Version):
    markdown: str
    html: str


class Changes(Answer):
    policy: str
    from_: Version = Field(alias="from")
    to: Version
    changed: bool
    suggested_significance: Significance
    reasons: list[str]
    html: Annotated[str, Field(description="the redline, ready to show")]
    diff: Annotated[FreeForm, Field(description="the structured diff (tracker.redline)")]


class VersionStats(Answer):
    policy: str
    version: int
    users: Annotated[int, Field(description="users with any event for the policy")]
    accepted: Annotated[int, Field(description="users who ever accepted it")]
    accepted_current: Annotated[
        int, Field(description="users whose standing acceptance is this version")
    ]
    declined: Annotated[int, Field(description="users whose latest event declined it")]
    needs_acceptance: Annotated[int, Field(description="users not up to date with this version")]


def _present_only_with_locale(*names: str) -> Any:
    """A ``json_schema_extra`` that lists ``names`` as optional: status answers carry them
    only when asked with ``?locale=`` (the other defaulted fields are always present)."""

    def extra(schema: dict[str, Any]) -> None:
        required = schema.get("required")
        if required:
            schema["required"] = [r for r in required if r not in names]

    return extra


class NoticeTranslation(Answer):
    """A notice's redline in the user's language."""

    language: Annotated[str, Field(description="the language of the user's text (de)")]
    redline_url: Annotated[
        str | None,
        Field(
            description="from_version → to_version between the texts in that language on "
            "the site; null when there is none (then `note` says why)"
        ),
    ]
    note: Annotated[
        str | None,
        Field(
            description="when there is no redline in that language: why, and that the "
            "notice's `redline_url` (the source's) is the one linked; else null"
        ),
    ]


class Notice(Answer):
    """A per-user record that a minor or major version affects a user."""

    model_config = ConfigDict(json_schema_extra=_present_only_with_locale("translation"))

    id: int
    user_id: str
    policy: str
    title: str = ""
    from_version: Annotated[int, Field(description="the version the user accepted")]
    to_version: int
    significance: Literal["minor", "major"]
    summary: str = ""
    effective: date
    acceptance_required: bool = False
    redline_url: Annotated[str, Field(description="from_version → to_version on the site")]
    state: NoticeState
    created_at: datetime
    acknowledged_at: datetime | None = None
    acknowledged_by: Annotated[
        int | None, Field(description="the API key that acknowledged it")
    ] = None
    translation: Annotated[
        NoticeTranslation | None,
        Field(
            description="the redline in the user's language: in the notices list with "
            "`?locale=` or when the user accepted `from_version` in a locale, in status only "
            "with `?locale=`; null when the policy has no text in that language"
        ),
    ] = None


class Upcoming(Answer):
    """A published version that is not in force yet."""

    version: int
    significance: Significance
    effective: date
    summary: str = ""


class PolicyStatus(Answer):
    """One user's standing with one policy."""

    policy: str
    title: str
    acceptance_required: bool = True
    current_version: int | None
    accepted_version: int | None
    accepted_at: datetime | None
    state: State
    needs_acceptance: bool
    accept_by: Annotated[
        date | None,
        Field(
            description="the first date a major version newer than the accepted one takes effect"
        ),
    ]
    upcoming: Annotated[
        Upcoming | None,
        Field(
            description="the next version to take effect (of several due the same day, the "
            "one that will govern)"
        ),
    ]


class Translation(Answer):
    """A policy's text in the reader's language (status with `?locale=`)."""

    language: Annotated[
        str, Field(description="the tag of the text that serves the locale asked (de for de-DE)")
    ]
    url: Annotated[str, Field(description="the text in that language on the site")]
    version: Annotated[int, Field(description="the translation's own version number (its latest)")]
    translates: Annotated[int, Field(description="the source version that text renders")]
    sha256: Annotated[str, Field(pattern="^[0-9a-f]{64}$", description="of that exact text")]
    state: Annotated[
        Freshness,
        Field(
            description="current: it renders the source version in force (or an upcoming "
            "one); behind: newer patch versions of the source only; stale: a newer minor or "
            "major source version exists"
        ),
    ]
    current: Annotated[bool, Field(description="state is current")]


class StatusWithNotices(PolicyStatus):
    model_config = ConfigDict(json_schema_extra=_present_only_with_locale("translation"))

    notices: Annotated[
        list[Notice], Field(description="the user's pending notices for the policy")
    ] = []
    translation: Annotated[
        Translation | None,
        Field(
            description="only with `?locale=`: the policy's text in that language, or null "
            "when it has none"
        ),
    ] = None


class UserStatus(Answer):
    """A user's standing with every policy asked about."""

    model_config = ConfigDict(json_schema_extra=_present_only_with_locale("locale"))

    user_id: str
    policies: list[StatusWithNotices]
    locale: Annotated[
        str | None, Field(description="only with `?locale=`: the locale asked for")
    ] = None


class BatchStatus(Answer):
    users: list[UserStatus]


class BoundTranslation(Answer):
    """The text in the user's language an event is bound to (chained with the event)."""

    language: str
    version: Annotated[int, Field(description="the translation's own version number")]
    translates: Annotated[int, Field(description="the source version it renders: `version`")]
    sha256: Annotated[str, Field(pattern="^[0-9a-f]{64}$", description="of that exact text")]


class Event(Answer):
    """An acceptance, decline or withdrawal as the tracker stored it (append-only)."""

    id: int
    type: EventType
    user_id: str
    policy: str | None
    version: int | None
    sha256: Annotated[str | None, Field(description="SHA-256 of the exact text of the version")]
    method: Method
    api_key_id: int | None
    ip: str | None
    user_agent: str | None
    locale: str | None
    translation: Annotated[
        BoundTranslation | None,
        Field(
            description="the text in `locale`'s language the user was shown (the hosted "
            "page) or that `locale` names for the version; null without one"
        ),
    ] = None
    context: FreeForm | None
    recorded_at: datetime


class EventResult(Answer):
    event: Event
    created: Annotated[
        bool, Field(description="false when the same event was already the user's latest")
    ]
    kept_version: Annotated[
        int | None,
        Field(
            description="an acceptance of a version older than the one the user accepted "
            "last: the newer version, which still stands (the acceptance is recorded; the "
            "user's state is not lowered); else null"
        ),
    ]
    status: PolicyStatus


class EventsPage(Answer):
    user_id: str
    events: list[Event]
    next_cursor: Annotated[str | None, Field(description="pass as `cursor` for the next page")]


class NoticeList(Answer):
    user_id: str
    notices: list[Notice]


class NoticeStats(Answer):
    policy: str
    version: int
    created: int
    acknowledged: int
    pending: int
    superseded: Annotated[int, Field(description="covered by a later version's notice")]
    accepted: Annotated[int, Field(description="closed by an acceptance")]


class PublishedVersion(Answer):
    policy: str
    version: int


class PublishedTranslation(Answer):
    policy: str
    language: str
    version: int


class PublishResult(Answer):
    created: list[PublishedVersion]
    unchanged: int
    policies_created: list[str]
    policies_updated: list[str]
    translations_created: Annotated[
        list[PublishedTranslation], Field(description="new versions of translations")
    ]


class KeyApp(Answer):
    name: str | None
    color: Annotated[str | None, Field(description="`#rrggbb`, lower case")]
    return_urls: list[str]


class ApiKey(Answer):
    id: int
    name: str
    prefix: str
    scopes: list[Scope]
    created_at: datetime
    revoked_at: datetime | None
    app: Annotated[
        KeyApp | None,
        Field(
            description="what the hosted acceptance page shows and allows for the app behind "
            "the key; null when none is set"
        ),
    ]


class NewApiKey(ApiKey):
    key: Annotated[str, Field(description="shown once; store it now")]


class KeyList(Answer):
    keys: list[ApiKey]


class Webhook(Answer):
    id: int
    url: str
    description: str
    events: list[WebhookEvent]
    enabled: bool
    disabled_reason: str | None
    created_at: datetime
    removed_at: datetime | None
    previous_secret_until: Annotated[
        datetime | None, Field(description="after a rotation, the old secret signs too until then")
    ]


class NewWebhook(Webhook):
    secret: Annotated[str, Field(description="whsec_…; shown once")]


class WebhookList(Answer):
    webhooks: list[Webhook]


class Delivery(Answer):
    id: int
    webhook_id: Annotated[str, Field(description="the message's webhook-id header")]
    event_type: WebhookEvent
    endpoint_id: int
    state: DeliveryState
    attempts: int
    next_attempt_at: datetime | None
    last_status: int | None
    last_error: str | None
    created_at: datetime
    finished_at: datetime | None


class DeliveryList(Answer):
    deliveries: list[Delivery]
    next_cursor: str | None


class ChainProblem(Answer):
    sequence: int
    reason: str


class AuditReport(Answer):
    ok: bool
    anchored: Annotated[bool, Field(description="a signed checkpoint pins the chain")]
    records: int
    last_sequence: int
    head_hash: str
    pending: Annotated[int, Field(description="events committed but not yet sealed into the chain")]
    checkpoint: FreeForm | None
    problem: ChainProblem | None
    message: str


class Erasure(Answer):
    pseudonym: Annotated[str, Field(description="replaces the user id everywhere")]
    events: int
    records: Annotated[int, Field(description="other rows that named the user")]


class Reacceptance(Answer):
    policy: str
    users: Annotated[int, Field(description="users who now need to accept again")]
    reason: str
    sequence: Annotated[int, Field(description="the audit record keeping the reason")]


class AcceptanceLink(Answer):
    url: Annotated[str, Field(description="send the user's browser here")]
    expires_at: datetime
