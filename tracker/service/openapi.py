"""The OpenAPI 3.1 document: the operations and their prose; every schema comes from the
types of ``tracker.contract``.

``tests/service/test_openapi.py`` runs Schemathesis against it and checks that every route
is documented; ``docs/api.md`` is generated from it (``python -m tracker.service.apidoc``).
"""

from __future__ import annotations

import copy
import json
from functools import cache
from importlib import resources
from typing import Any

from pydantic import BaseModel

from tracker.contract import requests as rq
from tracker.contract import responses as rs
from tracker.contract.fields import INT64_MAX, LANGUAGE_TAG, UserId
from tracker.contract.openapi import Operation, Param, document

NOT_FOUND = "unknown policy, version or user"
#: Ids the path converters take: digits, as large as a database id.
BIG_ID = {"type": "integer", "minimum": 0, "maximum": INT64_MAX}
SLUG = Param("slug", "path", str, "the policy's slug; may contain `/` (legal/terms)")
N = Param("n", "path", int, "the version number")
USER = Param("user_id", "path", UserId)
POLICY = Param("policy", "query", str, "only this policy", required=False)
LOCALE = Param(
    "locale",
    "query",
    {"type": "string", "minLength": 1, "maxLength": 64, "pattern": LANGUAGE_TAG},
    "the reader's language (de, de-DE, pt-BR): the answer then names the `locale` and each "
    "policy carries `translation` (see `Translation`), or null when it has no text in that "
    "language or that text was withdrawn",
    required=False,
)
NOTICE_LOCALE = Param(
    "locale",
    "query",
    LOCALE.schema,
    "the user's language for each notice's `translation` (its redline in that language); "
    "by default the locale the user accepted the notice's `from_version` in",
    required=False,
)
CURSOR = Param(
    "cursor",
    "query",
    {"type": "string", "pattern": "^[0-9]{1,18}$"},
    "next_cursor of the previous page (opaque)",
)
LIMIT = Param("limit", "query", {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100})
KEY_ID = Param("key_id", "path", str, "the key's id or prefix")
WEBHOOK_ID = Param("webhook_id", "path", str, "the endpoint's id")
IDEMPOTENCY = Param(
    "Idempotency-Key",
    "header",
    {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
    "retries with the same key and body return the original response; the same key with "
    "another body is a 409",
)
REPLAYED = {
    "Idempotent-Replayed": {
        "description": "`true` when the answer is the stored one of an earlier request with "
        "the same Idempotency-Key",
        "schema": {"type": "string", "enum": ["true"]},
    }
}
REUSED = "Idempotency-Key reused with another body"
BAD_USER = "an invalid user id (a control character)"


def _event(kind: str, op_id: str, description: str, body: type[Any]) -> Operation:
    return Operation(
        "post",
        f"/v1/{kind}s" if kind != "withdrawal" else "/v1/withdrawals",
        op_id,
        f"Record a {kind}",
        rs.EventResult,
        scope="write",
        status=201,
        body=body,
        params=[IDEMPOTENCY],
        errors={"404": NOT_FOUND, "409": REUSED},
        description=description,
        headers=REPLAYED,
        also={"200": "the same event was already the user's latest, or an idempotent replay"},
        tags=["events"],
    )


OPERATIONS: list[Operation] = [
    Operation(
        "get",
        "/healthz",
        "health",
        "Health: whether the database answers",
        rs.Health,
        scope=None,
        errors={
            "503": {
                "description": "the database does not answer (Retry-After: when to ask again)",
                "headers": {
                    "Retry-After": {
                        "description": "seconds to wait before asking again",
                        "schema": {"type": "integer"},
                    }
                },
                "content": {
                    "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
                },
            }
        },
        tags=["service"],
    ),
    Operation(
        "get", "/v1/policies", "listPolicies", "List policies", rs.PolicyList, tags=["policies"]
    ),
    Operation(
        "get",
        "/v1/policies/{slug}",
        "getPolicy",
        "One policy and its versions",
        rs.PolicyDetail,
        params=[SLUG],
        errors={"404": NOT_FOUND},
        tags=["policies"],
    ),
    Operation(
        "get",
        "/v1/policies/{slug}/versions",
        "listVersions",
        "A policy's versions, oldest first",
        rs.VersionList,
        params=[SLUG],
        errors={"404": NOT_FOUND},
        tags=["policies"],
    ),
    Operation(
        "get",
        "/v1/policies/{slug}/versions/{n}",
        "getVersion",
        "One version: metadata, exact Markdown, rendered HTML",
        rs.VersionDetail,
        params=[SLUG, N],
        errors={"404": NOT_FOUND},
        tags=["policies"],
    ),
    Operation(
        "get",
        "/v1/policies/{slug}/versions/{n}/stats",
        "getVersionStats",
        "How many users accepted, declined or still need to accept a version",
        rs.VersionStats,
        params=[SLUG, N],
        errors={"404": NOT_FOUND},
        tags=["policies"],
    ),
    Operation(
        "get",
        "/v1/policies/{slug}/changes/{a}-{b}",
        "getChanges",
        "The redline between versions a and b",
        rs.Changes,
        params=[SLUG, Param("a", "path", int), Param("b", "path", int)],
        errors={"404": NOT_FOUND, "422": "a equals b"},
        tags=["policies"],
    ),
    _event(
        "acceptance",
        "recordAcceptance",
        "Records that the user accepted the version. Recording the same acceptance twice in "
        "a row stores it once (200, `created: false`). An acceptance imported from another "
        "system keeps its original time: `accepted_at` with method `import` and an `admin` "
        "key (`403` without one; `422` naming `accepted_at` for another method or a time in "
        "the future); the event's `recorded_at` is that time and it is chained like any "
        "other.",
        rq.EventRequest,
    ),
    _event(
        "decline",
        "recordDecline",
        "Records that the user declined the version; `version` is optional (default: the "
        "version in force; `422` naming `version` when the policy has none in force yet).",
        rq.EventRequestOptionalVersion,
    ),
    _event(
        "withdrawal",
        "recordWithdrawal",
        "Records that the user withdrew their acceptance; `version` is optional (default: "
        "the version they accepted).",
        rq.EventRequestOptionalVersion,
    ),
    Operation(
        "get",
        "/v1/users/{user_id}/status",
        "getUserStatus",
        "Must this user (re-)accept?",
        rs.UserStatus,
        params=[USER, POLICY, LOCALE],
        errors={"404": "unknown policy", "422": BAD_USER},
        description="A user the tracker has never seen is `never_accepted`.",
        tags=["status"],
    ),
    Operation(
        "post",
        "/v1/status/batch",
        "getBatchStatus",
        "Status of up to 10,000 users",
        rs.BatchStatus,
        body=rq.BatchStatusRequest,
        errors={"404": "unknown policy"},
        tags=["status"],
    ),
    Operation(
        "get",
        "/v1/users/{user_id}/events",
        "listUserEvents",
        "The user's events, oldest first, cursor-paginated",
        rs.EventsPage,
        params=[USER, POLICY, CURSOR, LIMIT],
        errors={
            "404": "unknown user or policy",
            "422": "an invalid user id, cursor or limit",
        },
        tags=["events"],
    ),
    Operation(
        "post",
        "/v1/admin/versions",
        "publishVersions",
        "Publish versions (the site's versions.json plus texts)",
        rs.PublishResult,
        scope="admin",
        status=201,
        body=rq.PublishRequest,
        errors={"409": "a stored version's SHA-256 differs"},
        also={"200": "nothing new: every version was already stored"},
        description="The body may be the site's `versions.json` itself with a `text` added to "
        "each version (and optionally `author` and `path`): the fields the site derives "
        "(addresses, statuses) are accepted and ignored, any other unknown field is a `422`. "
        "`policy-tracker sync --to URL` builds and sends it from the repository. "
        "Idempotent: versions already stored answer 200 with `created: []`.",
        tags=["admin"],
    ),
    Operation(
        "get",
        "/v1/admin/keys",
        "listKeys",
        "List API keys",
        rs.KeyList,
        scope="admin",
        tags=["admin"],
    ),
    Operation(
        "post",
        "/v1/admin/keys",
        "createKey",
        "Create an API key (the key is shown once)",
        rs.NewApiKey,
        scope="admin",
        status=201,
        body=rq.NewApiKeyRequest,
        tags=["admin"],
    ),
    Operation(
        "delete",
        "/v1/admin/keys/{key_id}",
        "revokeKey",
        "Revoke an API key (by id or prefix)",
        rs.ApiKey,
        scope="admin",
        params=[KEY_ID],
        errors={"404": "unknown key"},
        tags=["admin"],
    ),
    Operation(
        "put",
        "/v1/admin/keys/{key_id}/app",
        "setKeyApp",
        "Replace the app settings of an API key (by id or prefix)",
        rs.ApiKey,
        scope="admin",
        params=[KEY_ID],
        body=rq.KeyAppRequest,
        errors={"404": "unknown key", "409": "the key is revoked (`key_revoked`)"},
        description="The body replaces every setting: a field left out (or null) is cleared, "
        "and a key left with none answers `app: null`. A change applies to the next "
        "acceptance link; links already made keep the `return_url` they were made with. A "
        "revoked key is a `409`: it can make no more links.",
        tags=["admin"],
    ),
    Operation(
        "get",
        "/v1/admin/audit/verify",
        "verifyAudit",
        "Verify the audit chain",
        rs.AuditReport,
        scope="admin",
        description="Recomputes the hash chain against the stored checkpoints. `ok` is false "
        "with the first bad record and why; without a checkpoint the message says that "
        "truncation cannot be ruled out.",
        tags=["audit"],
    ),
    Operation(
        "get",
        "/v1/admin/export",
        "exportEvents",
        "Export events (streamed JSON Lines or CSV)",
        None,
        scope="admin",
        params=[
            POLICY,
            Param(
                "since",
                "query",
                {"type": "string", "format": "date"},
                "only events recorded on or after this day (UTC)",
            ),
            Param("user_id", "query", UserId, required=False),
            Param(
                "format",
                "query",
                {"type": "string", "enum": ["jsonl", "csv"], "default": "jsonl"},
            ),
        ],
        errors={"404": "unknown policy", "422": "an invalid parameter"},
        content={
            "application/x-ndjson": {"schema": {"type": "string"}},
            "text/csv": {"schema": {"type": "string"}},
        },
        description="One event a line, in chain order, with the version's SHA-256, its "
        "permanent site URL and the chain fields (sequence, prev_hash, hash).",
        tags=["audit"],
    ),
    Operation(
        "delete",
        "/v1/admin/users/{user_id}",
        "eraseUser",
        "Erase a user: personal data removed, id replaced by a pseudonym",
        rs.Erasure,
        scope="admin",
        params=[USER],
        errors={"404": "no data for this user", "422": BAD_USER},
        description="Counts and the audit chain stay verifiable; the erasure is recorded in "
        "the chain without the id. Afterwards no endpoint returns the old id.",
        tags=["audit"],
    ),
    Operation(
        "post",
        "/v1/admin/reacceptance",
        "forceReacceptance",
        "Force re-acceptance of a policy",
        rs.Reacceptance,
        scope="admin",
        body=rq.ReacceptanceRequest,
        errors={"404": "unknown policy"},
        description="The named users (`user_ids`) or, with `all: true`, every user whose "
        "latest event accepted the policy need to accept again (give one of the two); the "
        "reason is kept in the audit chain.",
        tags=["audit"],
    ),
    Operation(
        "post",
        "/v1/acceptance-links",
        "createAcceptanceLink",
        "A link to the hosted acceptance page for one user",
        rs.AcceptanceLink,
        scope="write",
        status=201,
        body=rq.AcceptanceLinkRequest,
        params=[IDEMPOTENCY],
        headers=REPLAYED,
        also={"200": "an idempotent replay"},
        errors={
            "403": "the API key lacks the scope, or `return_url` is not on its allow-list "
            "(`return_url_not_allowed`)",
            "404": "unknown policy",
            "409": REUSED,
        },
        description="The link is signed, single-use and short-lived "
        "(`POLICY_TRACKER_ACCEPTANCE_LINK_SECONDS`); it does not reveal the user id. The page "
        "shows what changed since the version the user accepted, records a `clickwrap` "
        "acceptance or decline with the browser's address and user agent, and redirects to "
        "`return_url`. See docs/hosted.md.",
        tags=["events"],
    ),
    Operation(
        "get",
        "/v1/users/{user_id}/notices",
        "listUserNotices",
        "The user's notices (pending by default)",
        rs.NoticeList,
        params=[
            USER,
            POLICY,
            NOTICE_LOCALE,
            Param(
                "state",
                "query",
                {
                    "type": "string",
                    "enum": ["pending", "acknowledged", "superseded", "accepted", "all"],
                    "default": "pending",
                },
            ),
        ],
        errors={"404": "unknown policy", "422": "an invalid user id or state"},
        tags=["notices"],
    ),
    Operation(
        "post",
        "/v1/notices/{notice_id}/ack",
        "acknowledgeNotice",
        "Acknowledge a notice (the app showed it)",
        rs.Notice,
        scope="write",
        status=201,
        params=[Param("notice_id", "path", BIG_ID)],
        errors={"404": "unknown notice"},
        also={"200": "already acknowledged"},
        description="Idempotent: the first acknowledgement (when, which API key) is kept; "
        "repeating it answers 200.",
        tags=["notices"],
    ),
    Operation(
        "get",
        "/v1/policies/{slug}/versions/{n}/notices/stats",
        "getNoticeStats",
        "Notices a version created: acknowledged, pending, closed",
        rs.NoticeStats,
        params=[SLUG, N],
        errors={"404": NOT_FOUND},
        tags=["notices"],
    ),
    Operation(
        "get",
        "/v1/admin/webhooks",
        "listWebhooks",
        "List webhook endpoints",
        rs.WebhookList,
        scope="admin",
        tags=["webhooks"],
    ),
    Operation(
        "post",
        "/v1/admin/webhooks",
        "createWebhook",
        "Subscribe a URL to webhooks (the secret is shown once)",
        rs.NewWebhook,
        scope="admin",
        status=201,
        body=rq.WebhookRequest,
        description="Only https, and no private or loopback address, unless the host is in "
        "`webhook_allowed_hosts` (then plain http and such addresses are allowed too). "
        "Without `events`, every event type is sent. The payloads are under `webhooks`.",
        tags=["webhooks"],
    ),
    Operation(
        "delete",
        "/v1/admin/webhooks/{webhook_id}",
        "removeWebhook",
        "Remove a webhook endpoint (its pending deliveries are cancelled)",
        rs.Webhook,
        scope="admin",
        params=[WEBHOOK_ID],
        errors={"404": "unknown webhook endpoint"},
        tags=["webhooks"],
    ),
    Operation(
        "post",
        "/v1/admin/webhooks/{webhook_id}/rotate",
        "rotateWebhookSecret",
        "Rotate an endpoint's secret (the new one is shown once)",
        rs.NewWebhook,
        scope="admin",
        params=[WEBHOOK_ID],
        errors={"404": "unknown webhook endpoint"},
        description="The old secret keeps signing beside the new one for "
        "`webhook_rotation_overlap_hours`.",
        tags=["webhooks"],
    ),
    Operation(
        "get",
        "/v1/admin/deliveries",
        "listDeliveries",
        "Webhook deliveries in a state (dead by default), oldest first",
        rs.DeliveryList,
        scope="admin",
        params=[
            Param(
                "state",
                "query",
                {
                    "type": "string",
                    "enum": ["pending", "delivered", "dead", "cancelled"],
                    "default": "dead",
                },
            ),
            CURSOR,
            LIMIT,
        ],
        errors={"422": "an invalid state, cursor or limit"},
        tags=["webhooks"],
    ),
    Operation(
        "post",
        "/v1/admin/deliveries/{delivery_id}/replay",
        "replayDelivery",
        "Send a dead delivery again (same webhook-id, a fresh retry schedule)",
        rs.Delivery,
        scope="admin",
        params=[Param("delivery_id", "path", BIG_ID)],
        errors={
            "404": "unknown delivery",
            "409": "the delivery is not dead, or its endpoint is disabled",
        },
        tags=["webhooks"],
    ),
]

REQUESTS: list[type[BaseModel]] = [
    rq.EventRequest,
    rq.EventRequestOptionalVersion,
    rq.BatchStatusRequest,
    rq.PublishRequest,
    rq.NewApiKeyRequest,
    rq.KeyAppRequest,
    rq.ReacceptanceRequest,
    rq.ReacceptanceOfUsers,
    rq.ReacceptanceOfAll,
    rq.AcceptanceLinkRequest,
    rq.WebhookRequest,
]

INFO = {
    "title": "policy-tracker",
    "version": "1",
    "summary": "Versioned policies and who accepted which version.",
    "description": "Every answer that is not a success is `application/problem+json` "
    "(`Problem`): a path under `/v1` that names no resource is a `404`, a method a path "
    "does not take is a `405` with an `Allow` header.",
    "license": {"name": "MIT", "identifier": "MIT"},
}
TAGS = [
    {"name": "service", "description": "Liveness"},
    {"name": "policies", "description": "Policies, versions and redlines"},
    {"name": "events", "description": "Acceptances, declines and withdrawals"},
    {"name": "status", "description": "Who must (re-)accept"},
    {"name": "notices", "description": "Per-user notices of new versions"},
    {"name": "webhooks", "description": "Webhook endpoints and deliveries"},
    {"name": "audit", "description": "The audit chain, export, erasure, re-acceptance"},
    {"name": "admin", "description": "Publishing and API keys"},
]

#: Standard Webhooks headers, sent with every payload.
_WEBHOOK_HEADERS = [
    Param("webhook-id", "header", str, "the message id; the same on every retry", True),
    Param("webhook-timestamp", "header", str, "Unix seconds when the message was signed", True),
    Param(
        "webhook-signature",
        "header",
        str,
        "`v1,<base64 HMAC-SHA256 of id.timestamp.body>`, one per active secret; verify it "
        "over the raw body bytes (see docs/webhooks.md)",
        True,
    ),
]


def _payloads() -> dict[str, Any]:
    """The webhook payload schemas shipped with the package, as components."""
    out = {}
    folder = resources.files("tracker.notices") / "schemas"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            schema = json.loads(entry.read_text(encoding="utf-8"))
            schema.pop("$schema", None)
            schema.pop("$id", None)
            out[_payload_name(entry.name.removesuffix(".json"))] = schema
    return out


def _payload_name(event: str) -> str:
    return "".join(part.title() for part in event.replace("_", ".").split(".")) + "Payload"


def _webhooks(payloads: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for name, schema in payloads.items():
        event = schema["title"]
        out[event] = {
            "post": {
                "operationId": "webhook" + name.removesuffix("Payload"),
                "summary": schema.get("description", event),
                "parameters": [p.to_json() for p in _WEBHOOK_HEADERS],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}
                    },
                },
                "responses": {
                    "200": {"description": "any 2xx: delivered; anything else is retried"}
                },
                "security": [],
            }
        }
    return out


@cache
def _document() -> dict[str, Any]:
    payloads = _payloads()
    return document(
        OPERATIONS,
        info=INFO,
        requests=REQUESTS,
        answers=[op.answer for op in OPERATIONS if op.answer is not None],
        webhooks=_webhooks(payloads),
        extra_schemas=payloads,
        servers=[{"url": "/", "description": "the tracker serving this document"}],
        tags=TAGS,
    )


def openapi_document() -> dict[str, Any]:
    return copy.deepcopy(_document())


if __name__ == "__main__":  # pragma: no cover
    print(json.dumps(openapi_document(), indent=2))
