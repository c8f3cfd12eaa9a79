"""The OpenAPI 3.1 document, maintained by hand beside the handlers.

``tests/service/test_openapi.py`` runs Schemathesis against it and checks that every route
is documented; ``docs/api.md`` is generated from it (``python -m tracker.service.openapi``).
"""

from __future__ import annotations

import copy
import json
from functools import cache
from typing import Any

NO_NUL = "^[^\\x00]*$"
NULLABLE_INT = {"type": ["integer", "null"]}
NULLABLE_STR = {"type": ["string", "null"]}
#: No control characters (tracker.inputs: C0, DEL, C1, bidirectional overrides).
CONTROL = "\\x00-\\x1f\\x7f-\\x9f\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069"
SHOWN = f"^[^{CONTROL}]*$"
#: 1 to 65535.
PORT = "([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])"
USER_ID = {
    "type": "string",
    "minLength": 1,
    "maxLength": 255,
    "pattern": f"^[^{CONTROL}]+$",
    "description": "an app's own user id; ids starting with `erased:` are reserved",
}
SIGNIFICANCE = {"type": "string", "enum": ["patch", "minor", "major"]}
STATES = ["accepted", "never_accepted", "major_change", "declined", "withdrawn"]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _derived(what: str) -> dict[str, str]:
    """A field of versions.json that the site derives: accepted, whatever its value, and ignored."""
    return {"description": f"{what}; derived by the site and ignored"}


def _obj(props: dict[str, Any], required: list[str] | None = None, **kw: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": props,
        "required": list(props) if required is None else required,
        **kw,
    }


EVENT_FIELDS: dict[str, Any] = {
    "user_id": USER_ID,
    "policy": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": NO_NUL},
    "version": {"type": "integer", "minimum": 1, "maximum": 2147483647},
    "method": {
        "type": "string",
        "enum": ["clickwrap", "continued_use", "api", "import"],
        "default": "api",
    },
    "ip": {
        "anyOf": [
            {"type": "string", "format": "ipv4"},
            {"type": "string", "format": "ipv6"},
            {"type": "null"},
        ]
    },
    "user_agent": {"type": ["string", "null"], "maxLength": 1024, "pattern": NO_NUL},
    "locale": {
        "type": ["string", "null"],
        "maxLength": 64,
        "pattern": "^[A-Za-z]{1,8}([-_][A-Za-z0-9]{1,8})*$",
    },
    "context": {
        "type": ["object", "null"],
        "description": "free-form evidence; at most max_context_bytes as JSON",
        "maxProperties": 20,
    },
}


SCHEMAS: dict[str, Any] = {
    "Problem": _obj(
        {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "code": {"type": "string"},
            "detail": {"type": "string"},
            "field": {"type": "string", "description": "the invalid field (422 only)"},
        },
        ["type", "title", "status", "code", "detail"],
    ),
    "Policy": _obj(
        {
            "slug": {"type": "string"},
            "title": {"type": "string"},
            "path": {"type": "string"},
            "aliases": {"type": "array", "items": {"type": "string"}},
            "acceptance_required": {"type": "boolean"},
            "notice_days": {"type": "integer"},
            "withdrawn": {"type": "boolean"},
            "current_version": NULLABLE_INT,
            "latest_version": NULLABLE_INT,
        }
    ),
    "Version": _obj(
        {
            "policy": {"type": "string"},
            "version": {"type": "integer"},
            "title": {"type": "string"},
            "commit": {"type": "string"},
            "published": {"type": "string", "format": "date-time"},
            "effective": {"type": "string", "format": "date"},
            "in_force": {"type": "boolean"},
            "significance": SIGNIFICANCE,
            "summary": {"type": "string"},
            "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            "url": {"type": "string"},
        }
    ),
    "PolicyStatus": _obj(
        {
            "policy": {"type": "string"},
            "title": {"type": "string"},
            "acceptance_required": {"type": "boolean"},
            "current_version": NULLABLE_INT,
            "accepted_version": NULLABLE_INT,
            "accepted_at": {"type": ["string", "null"], "format": "date-time"},
            "state": {"type": "string", "enum": STATES},
            "needs_acceptance": {"type": "boolean"},
            "accept_by": {"type": ["string", "null"], "format": "date"},
            "upcoming": {
                "oneOf": [
                    {"type": "null"},
                    _obj(
                        {
                            "version": {"type": "integer"},
                            "significance": SIGNIFICANCE,
                            "effective": {"type": "string", "format": "date"},
                            "summary": {"type": "string"},
                        }
                    ),
                ]
            },
        }
    ),
    "UserStatus": _obj(
        {
            "user_id": {"type": "string"},
            "policies": {"type": "array", "items": _ref("PolicyStatus")},
        }
    ),
    "Event": _obj(
        {
            "id": {"type": "integer"},
            "type": {"type": "string", "enum": ["accepted", "declined", "withdrawn"]},
            "user_id": {"type": "string"},
            "policy": NULLABLE_STR,
            "version": NULLABLE_INT,
            "sha256": NULLABLE_STR,
            "method": {"type": "string"},
            "api_key_id": NULLABLE_INT,
            "ip": NULLABLE_STR,
            "user_agent": NULLABLE_STR,
            "locale": NULLABLE_STR,
            "context": {"type": ["object", "null"]},
            "recorded_at": {"type": "string", "format": "date-time"},
        }
    ),
    "EventRequest": _obj(
        EVENT_FIELDS, ["user_id", "policy", "version"], additionalProperties=False
    ),
    "EventRequestOptionalVersion": _obj(
        {
            **EVENT_FIELDS,
            "version": {
                **EVENT_FIELDS["version"],
                "description": "default: the version in force (a decline) or the version the "
                "user accepted (a withdrawal)",
            },
        },
        ["user_id", "policy"],
        additionalProperties=False,
    ),
    "EventResult": _obj(
        {
            "event": _ref("Event"),
            "created": {
                "type": "boolean",
                "description": "false when the same event was already the user's latest",
            },
            "status": _ref("PolicyStatus"),
        }
    ),
    "BatchStatusRequest": _obj(
        {
            "user_ids": {"type": "array", "items": USER_ID, "minItems": 1, "maxItems": 10000},
            "policy": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": NO_NUL},
        },
        ["user_ids"],
        additionalProperties=False,
    ),
    "EventsPage": _obj(
        {
            "user_id": {"type": "string"},
            "events": {"type": "array", "items": _ref("Event")},
            "next_cursor": NULLABLE_STR,
        }
    ),
    "VersionStats": _obj(
        {
            "policy": {"type": "string"},
            "version": {"type": "integer"},
            "users": {"type": "integer", "description": "users with any event for the policy"},
            "accepted": {"type": "integer", "description": "users who ever accepted it"},
            "accepted_current": {
                "type": "integer",
                "description": "users whose standing acceptance is this version",
            },
            "declined": {"type": "integer", "description": "users whose latest event declined it"},
            "needs_acceptance": {
                "type": "integer",
                "description": "users not up to date with this version",
            },
        }
    ),
    "PublishVersion": _obj(
        {
            "number": {"type": "integer", "minimum": 1, "maximum": 2147483647},
            "commit": {"type": "string", "minLength": 1, "maxLength": 64},
            "published": {"type": "string", "format": "date-time"},
            "effective": {"type": "string", "format": "date"},
            "significance": SIGNIFICANCE,
            "significance_source": {"type": "string", "enum": ["declared", "classified"]},
            "summary": {"type": "string", "maxLength": 5000, "pattern": SHOWN},
            "title": {"type": "string", "maxLength": 500, "pattern": SHOWN},
            "author": {"type": "string", "maxLength": 500, "pattern": SHOWN},
            "path": {"type": "string", "maxLength": 500, "pattern": NO_NUL},
            "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            "text": {"type": "string"},
            "status": _derived("current, archived or upcoming on the site's as_of"),
            "url": _derived("the version's page"),
            "changes_from_previous_url": _derived("the redline from the previous version"),
            "changes_to_current_url": _derived("the redline to the version in force"),
            "changes_to_latest_url": _derived("the redline to the newest version"),
        },
        ["number", "commit", "published", "effective", "significance", "sha256", "text"],
        additionalProperties=False,
    ),
    "PublishPolicy": _obj(
        {
            "slug": {"type": "string", "minLength": 1, "maxLength": 200},
            "title": {"type": "string", "minLength": 1, "maxLength": 500, "pattern": SHOWN},
            "path": {"type": "string", "maxLength": 500, "pattern": NO_NUL},
            "aliases": {"type": "array", "items": {"type": "string"}},
            "acceptance_required": {"type": "boolean"},
            "notice_days": {"type": "integer", "minimum": 0, "maximum": 2147483647},
            "withdrawn": {"type": "boolean"},
            "versions": {"type": "array", "items": _ref("PublishVersion")},
            "url": _derived("the current page"),
            "history_url": _derived("the history page"),
            "current_version": _derived("the version in force on the site's as_of"),
            "latest_version": _derived("the newest version"),
            "upcoming_versions": _derived("versions not yet effective on the site's as_of"),
            "redlines": _derived("the redline pages"),
        },
        ["slug", "title", "versions"],
        additionalProperties=False,
    ),
    "PublishRequest": _obj(
        {
            "policies": {"type": "array", "items": _ref("PublishPolicy")},
            "format": {"const": 1, "description": "versions.json's format; only 1 is read"},
            "generated": {"type": "string"},
            "site_url": {"type": ["string", "null"]},
            "head": {"type": "string"},
            "$schema": _derived("the address of versions.schema.json"),
            "as_of": _derived("the day the site was built for"),
            "commit": _derived("the commit the site was built from"),
        },
        ["policies"],
        additionalProperties=False,
    ),
    "PublishResult": _obj(
        {
            "created": {
                "type": "array",
                "items": _obj({"policy": {"type": "string"}, "version": {"type": "integer"}}),
            },
            "unchanged": {"type": "integer"},
            "policies_created": {"type": "array", "items": {"type": "string"}},
            "policies_updated": {"type": "array", "items": {"type": "string"}},
        }
    ),
    "ApiKey": _obj(
        {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "prefix": {"type": "string"},
            "scopes": {"type": "array", "items": {"type": "string"}},
            "created_at": {"type": "string", "format": "date-time"},
            "revoked_at": {"type": ["string", "null"], "format": "date-time"},
            "app": {
                "oneOf": [{"type": "null"}, _ref("KeyApp")],
                "description": "what the hosted acceptance page shows and allows for the app "
                "behind the key; null when none is set",
            },
        }
    ),
}
SCHEMAS["PolicyDetail"] = {
    "allOf": [
        _ref("Policy"),
        _obj({"versions": {"type": "array", "items": _ref("Version")}}),
    ]
}
SCHEMAS["VersionDetail"] = {
    "allOf": [
        _ref("Version"),
        _obj({"markdown": {"type": "string"}, "html": {"type": "string"}}),
    ]
}
SCHEMAS["Changes"] = _obj(
    {
        "policy": {"type": "string"},
        "from": _ref("Version"),
        "to": _ref("Version"),
        "changed": {"type": "boolean"},
        "suggested_significance": {"type": "string"},
        "reasons": {"type": "array", "items": {"type": "string"}},
        "html": {"type": "string", "description": "the redline, ready to show"},
        "diff": {"type": "object", "description": "the structured diff (tracker.redline)"},
    }
)
SCHEMAS["NewApiKey"] = {
    "allOf": [
        _ref("ApiKey"),
        _obj({"key": {"type": "string", "description": "shown once; store it now"}}),
    ]
}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": _ref("Problem")}},
    }


AUTH_ERRORS = {
    "401": _problem("missing, unknown or revoked API key"),
    "403": _problem("the API key lacks the scope"),
}
BODY_ERRORS = {
    "400": _problem("malformed JSON"),
    "413": _problem("the body is larger than the limit"),
    "422": _problem("an invalid field (named in `field`)"),
}

SLUG = {
    "name": "slug",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "description": "the policy's slug; may contain `/` (legal/terms)",
}
VERSION_N = {"name": "n", "in": "path", "required": True, "schema": {"type": "integer"}}
USER = {"name": "user_id", "in": "path", "required": True, "schema": USER_ID}
POLICY_QUERY = {
    "name": "policy",
    "in": "query",
    "required": False,
    "schema": {"type": "string"},
    "description": "only this policy",
}
IDEMPOTENCY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
    "description": "retries with the same key and body return the original response; "
    "the same key with another body is a 409",
}


KEY_ID = {
    "name": "key_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "description": "the key's id or prefix",
}


def _op(
    summary: str,
    ok: dict[str, Any],
    *,
    status: str = "200",
    params: list[dict[str, Any]] | None = None,
    body: str | None = None,
    errors: dict[str, Any] | None = None,
    scope: str,
    description: str = "",
) -> dict[str, Any]:
    responses: dict[str, Any] = {status: {"description": "OK", "content": _json(ok)}}
    responses.update(AUTH_ERRORS)
    if body is not None:
        responses.update(BODY_ERRORS)
    responses.update(errors or {})
    op: dict[str, Any] = {
        "summary": summary,
        "description": (description + f"\n\nScope: `{scope}`.").strip(),
        "parameters": params or [],
        "responses": responses,
        "x-scope": scope,
    }
    if body is not None:
        op["requestBody"] = {"required": True, "content": _json(_ref(body))}
    return op


NOT_FOUND = {"404": _problem("unknown policy, version or user")}
UNKNOWN_QUERY = {"404": _problem("unknown policy"), "422": _problem("an invalid parameter")}


def _event_op(kind: str, description: str, body: str = "EventRequest") -> dict[str, Any]:
    op = _op(
        f"Record a {kind}",
        _ref("EventResult"),
        status="201",
        params=[IDEMPOTENCY],
        body=body,
        errors={**NOT_FOUND, "409": _problem("Idempotency-Key reused with another body")},
        scope="write",
        description=description,
    )
    op["responses"]["200"] = {
        "description": "the same event was already the user's latest, or an idempotent replay",
        "content": _json(_ref("EventResult")),
    }
    return op


PATHS: dict[str, Any] = {
    "/healthz": {
        "get": {
            "summary": "Liveness",
            "security": [],
            "responses": {
                "200": {
                    "description": "OK",
                    "content": _json(_obj({"status": {"type": "string", "const": "ok"}})),
                }
            },
        }
    },
    "/v1/policies": {
        "get": _op(
            "List policies",
            _obj({"policies": {"type": "array", "items": _ref("Policy")}}),
            scope="read",
        )
    },
    "/v1/policies/{slug}": {
        "get": _op(
            "One policy and its versions",
            _ref("PolicyDetail"),
            params=[SLUG],
            errors=NOT_FOUND,
            scope="read",
        )
    },
    "/v1/policies/{slug}/versions": {
        "get": _op(
            "A policy's versions, oldest first",
            _obj(
                {
                    "policy": {"type": "string"},
                    "versions": {"type": "array", "items": _ref("Version")},
                }
            ),
            params=[SLUG],
            errors=NOT_FOUND,
            scope="read",
        )
    },
    "/v1/policies/{slug}/versions/{n}": {
        "get": _op(
            "One version: metadata, exact Markdown, rendered HTML",
            _ref("VersionDetail"),
            params=[SLUG, VERSION_N],
            errors=NOT_FOUND,
            scope="read",
        )
    },
    "/v1/policies/{slug}/versions/{n}/stats": {
        "get": _op(
            "How many users accepted, declined or still need to accept a version",
            _ref("VersionStats"),
            params=[SLUG, VERSION_N],
            errors=NOT_FOUND,
            scope="read",
        )
    },
    "/v1/policies/{slug}/changes/{a}-{b}": {
        "get": _op(
            "The redline between versions a and b",
            _ref("Changes"),
            params=[
                SLUG,
                {"name": "a", "in": "path", "required": True, "schema": {"type": "integer"}},
                {"name": "b", "in": "path", "required": True, "schema": {"type": "integer"}},
            ],
            errors={**NOT_FOUND, "422": _problem("a equals b")},
            scope="read",
        )
    },
    "/v1/acceptances": {
        "post": _event_op(
            "acceptance",
            "Records that the user accepted the version. Recording the same acceptance twice "
            "in a row stores it once (200, `created: false`).",
        )
    },
    "/v1/declines": {
        "post": _event_op(
            "decline",
            "Records that the user declined the version; `version` is optional (default: the "
            "version in force; `422` naming `version` when the policy has none in force yet).",
            body="EventRequestOptionalVersion",
        )
    },
    "/v1/withdrawals": {
        "post": _event_op(
            "withdrawal",
            "Records that the user withdrew their acceptance; `version` is optional "
            "(default: the version they accepted).",
            body="EventRequestOptionalVersion",
        )
    },
    "/v1/users/{user_id}/status": {
        "get": _op(
            "Must this user (re-)accept?",
            _ref("UserStatus"),
            params=[USER, POLICY_QUERY],
            errors=UNKNOWN_QUERY,
            scope="read",
            description="A user the tracker has never seen is `never_accepted`.",
        )
    },
    "/v1/status/batch": {
        "post": _op(
            "Status of up to 10,000 users",
            _obj({"users": {"type": "array", "items": _ref("UserStatus")}}),
            body="BatchStatusRequest",
            errors={"404": _problem("unknown policy")},
            scope="read",
        )
    },
    "/v1/users/{user_id}/events": {
        "get": _op(
            "The user's events, oldest first, cursor-paginated",
            _ref("EventsPage"),
            params=[
                USER,
                POLICY_QUERY,
                {
                    "name": "cursor",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string", "pattern": "^[0-9]{1,18}$"},
                    "description": "next_cursor of the previous page (opaque)",
                },
                {
                    "name": "limit",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100},
                },
            ],
            errors={
                "404": _problem("unknown user or policy"),
                "422": _problem("an invalid cursor or limit"),
            },
            scope="read",
        )
    },
    "/v1/admin/versions": {
        "post": _op(
            "Publish versions (the site's versions.json plus texts)",
            _ref("PublishResult"),
            status="201",
            body="PublishRequest",
            errors={"409": _problem("a stored version's SHA-256 differs")},
            scope="admin",
            description="The body may be the site's `versions.json` itself with a `text` added to "
            "each version (and optionally `author` and `path`): the fields the site derives "
            "(addresses, statuses) are accepted and ignored, any other unknown field is a `422`. "
            "`policy-tracker sync --to URL` builds and sends it from the repository. "
            "Idempotent: versions already stored answer 200 with `created: []`.",
        )
    },
    "/v1/admin/keys": {
        "get": _op(
            "List API keys",
            _obj({"keys": {"type": "array", "items": _ref("ApiKey")}}),
            scope="admin",
        ),
        "post": _op(
            "Create an API key (the key is shown once)",
            _ref("NewApiKey"),
            status="201",
            body="NewApiKeyRequest",
            scope="admin",
        ),
    },
    "/v1/admin/keys/{key_id}": {
        "delete": _op(
            "Revoke an API key (by id or prefix)",
            _ref("ApiKey"),
            params=[KEY_ID],
            errors={"404": _problem("unknown key")},
            scope="admin",
        )
    },
    "/v1/admin/keys/{key_id}/app": {
        "put": _op(
            "Replace the app settings of an API key (by id or prefix)",
            _ref("ApiKey"),
            params=[KEY_ID],
            body="KeyAppRequest",
            errors={
                "404": _problem("unknown key"),
                "409": _problem("the key is revoked (`key_revoked`)"),
            },
            scope="admin",
            description="The body replaces every setting: a field left out (or null) is "
            "cleared, and a key left with none answers `app: null`. A change applies to the "
            "next acceptance link; links already made keep the `return_url` they were made "
            "with. A revoked key is a `409`: it can make no more links.",
        )
    },
}
# The audit endpoints (tracker.service.api.audit).
SCHEMAS["AuditReport"] = _obj(
    {
        "ok": {"type": "boolean"},
        "anchored": {"type": "boolean", "description": "a signed checkpoint pins the chain"},
        "records": {"type": "integer"},
        "last_sequence": {"type": "integer"},
        "head_hash": {"type": "string"},
        "pending": {
            "type": "integer",
            "description": "events committed but not yet sealed into the chain",
        },
        "checkpoint": {"type": ["object", "null"]},
        "problem": {
            "oneOf": [
                {"type": "null"},
                _obj({"sequence": {"type": "integer"}, "reason": {"type": "string"}}),
            ]
        },
        "message": {"type": "string"},
    }
)
SCHEMAS["Erasure"] = _obj(
    {
        "pseudonym": {"type": "string", "description": "replaces the user id everywhere"},
        "events": {"type": "integer"},
        "records": {"type": "integer", "description": "other rows that named the user"},
    }
)
_REASON = {
    "type": "string",
    "minLength": 1,
    "maxLength": 2000,
    # Blank means ASCII whitespace only: JSON Schema (ECMA-262) and Python disagree on \s.
    "pattern": "^[^\\x00]*[^\\x00 \\t\\n\\r\\f\\v][^\\x00]*$",
}
_POLICY = {"type": "string", "minLength": 1, "maxLength": 200, "pattern": NO_NUL}
SCHEMAS["ReacceptanceRequest"] = {
    "oneOf": [
        _obj(
            {
                "policy": _POLICY,
                "user_ids": {"type": "array", "items": USER_ID, "minItems": 1, "maxItems": 10000},
                "reason": _REASON,
            },
            additionalProperties=False,
        ),
        _obj(
            {"policy": _POLICY, "all": {"type": "boolean", "const": True}, "reason": _REASON},
            additionalProperties=False,
        ),
    ]
}
SCHEMAS["Reacceptance"] = _obj(
    {
        "policy": {"type": "string"},
        "users": {"type": "integer", "description": "users who now need to accept again"},
        "reason": {"type": "string"},
        "sequence": {"type": "integer", "description": "the audit record keeping the reason"},
    }
)
_EXPORT_TEXT = {"schema": {"type": "string"}}
PATHS["/v1/admin/audit/verify"] = {
    "get": _op(
        "Verify the audit chain",
        _ref("AuditReport"),
        scope="admin",
        description="Recomputes the hash chain against the stored checkpoints. `ok` is false "
        "with the first bad record and why; without a checkpoint the message says that "
        "truncation cannot be ruled out.",
    )
}
PATHS["/v1/admin/export"] = {
    "get": {
        **_op(
            "Export events (streamed JSON Lines or CSV)",
            {"type": "string"},
            params=[
                POLICY_QUERY,
                {
                    "name": "since",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string", "format": "date"},
                    "description": "only events recorded on or after this day (UTC)",
                },
                {"name": "user_id", "in": "query", "required": False, "schema": USER_ID},
                {
                    "name": "format",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string", "enum": ["jsonl", "csv"], "default": "jsonl"},
                },
            ],
            errors=UNKNOWN_QUERY,
            scope="admin",
            description="One event a line, in chain order, with the version's SHA-256, its "
            "permanent site URL and the chain fields (sequence, prev_hash, hash).",
        ),
    }
}
PATHS["/v1/admin/export"]["get"]["responses"]["200"] = {
    "description": "the events, streamed",
    "content": {"application/x-ndjson": _EXPORT_TEXT, "text/csv": _EXPORT_TEXT},
}
PATHS["/v1/admin/users/{user_id}"] = {
    "delete": _op(
        "Erase a user: personal data removed, id replaced by a pseudonym",
        _ref("Erasure"),
        params=[USER],
        errors={
            "404": _problem("no data for this user"),
            "422": _problem("an invalid user id (empty, too long, control characters)"),
        },
        scope="admin",
        description="Counts and the audit chain stay verifiable; the erasure is recorded "
        "in the chain without the id. Afterwards no endpoint returns the old id.",
    )
}
PATHS["/v1/admin/reacceptance"] = {
    "post": _op(
        "Force re-acceptance of a policy",
        _ref("Reacceptance"),
        body="ReacceptanceRequest",
        errors={"404": _problem("unknown policy")},
        scope="admin",
        description="The named users (or, with `all`, every user whose latest event accepted "
        "the policy) need to accept again; the reason is kept in the audit chain.",
    )
}
PATHS["/v1/admin/versions"]["post"]["responses"]["200"] = {
    "description": "nothing new: every version was already stored",
    "content": _json(_ref("PublishResult")),
}
# The hosted acceptance page (tracker.service.hosted).
SCHEMAS["AcceptanceLinkRequest"] = _obj(
    {
        "user_id": USER_ID,
        "return_url": {
            "type": "string",
            "minLength": 1,
            "maxLength": 2048,
            "pattern": NO_NUL,
            "description": "where the page sends the user back, with "
            "`policy_tracker=accepted|declined` added; must be on the key's allow-list",
        },
        "policies": {
            "type": "array",
            "items": {"type": "string", "maxLength": 200},
            "minItems": 1,
            "maxItems": 100,
            "description": "only these policies (default: every policy the user must accept)",
        },
        "locale": {
            "type": "string",
            "maxLength": 64,
            "pattern": "^[A-Za-z]{1,8}([-_][A-Za-z0-9]{1,8})*$",
            "description": "the user's language, recorded with the events",
        },
    },
    ["user_id", "return_url"],
    additionalProperties=False,
)
SCHEMAS["AcceptanceLink"] = _obj(
    {
        "url": {"type": "string", "description": "send the user's browser here"},
        "expires_at": {"type": "string", "format": "date-time"},
    }
)
PATHS["/v1/acceptance-links"] = {
    "post": _op(
        "A link to the hosted acceptance page for one user",
        _ref("AcceptanceLink"),
        status="201",
        params=[IDEMPOTENCY],
        body="AcceptanceLinkRequest",
        errors={
            "403": _problem(
                "the API key lacks the scope, or `return_url` is not on its "
                "allow-list (`return_url_not_allowed`)"
            ),
            "404": _problem("unknown policy"),
            "409": _problem("Idempotency-Key reused with another body"),
        },
        scope="write",
        description="The link is signed, single-use and short-lived "
        "(`POLICY_TRACKER_ACCEPTANCE_LINK_SECONDS`); it does not reveal the user id. "
        "The page shows what changed since the version the user accepted, records a "
        "`clickwrap` acceptance or decline with the browser's address and user agent, and "
        "redirects to `return_url`. See docs/hosted.md.",
    )
}
# The app settings of a key (tracker.store.links): what the schemas allow the service takes.
_CONTROL = CONTROL
# Every character str.strip() removes, spelled out (a generator may read a class as ASCII).
_BLANK = "\\x00-\\x20\\x7f-\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff"
# An absolute http(s) URL without user info, query or fragment (no ?, # or backslash).
RETURN_URL_ENTRY = '^https?://[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:[0-9]{1,4})?(/[!-"$->@-\\[\\]-~]*)?$'
KEY_APP_FIELDS: dict[str, Any] = {
    "return_urls": {
        "type": ["array", "null"],
        "items": {"type": "string", "maxLength": 2048, "pattern": RETURN_URL_ENTRY},
        "maxItems": 100,
        "description": "where the hosted page may send users back to: each URL and the paths "
        "below it, on the same scheme, host and port (a loopback URL without a port allows "
        "any port); no query or fragment",
    },
    "app_name": {
        "type": ["string", "null"],
        "minLength": 1,
        "maxLength": 200,
        "pattern": f"^[^{_CONTROL}]*[^{_BLANK}][^{_CONTROL}]*$",
        "description": "the app's name on the hosted page (default: the key's name)",
    },
    "color": {
        "type": ["string", "null"],
        "pattern": "^#[0-9a-fA-F]{6}$",
        "description": "the app's colour on the hosted page, `#rrggbb`",
    },
}
SCHEMAS["KeyApp"] = _obj(
    {
        "name": NULLABLE_STR,
        "color": {**NULLABLE_STR, "description": "`#rrggbb`, lower case"},
        "return_urls": {"type": "array", "items": {"type": "string"}},
    }
)
SCHEMAS["KeyAppRequest"] = _obj(KEY_APP_FIELDS, [], additionalProperties=False)
SCHEMAS["NewApiKeyRequest"] = _obj(
    {
        "name": {
            "type": "string",
            "minLength": 1,
            "maxLength": 200,
            "pattern": f"^[^{CONTROL}]*[^\\s{CONTROL}][^{CONTROL}]*$",
        },
        "scopes": {
            "type": "array",
            "items": {"type": "string", "enum": ["read", "write", "admin"]},
            "minItems": 1,
        },
        **KEY_APP_FIELDS,
    },
    ["name", "scopes"],
    additionalProperties=False,
)


# Notices and webhooks (tracker.service.api.notices, tracker.service.api.webhooks).
BIG_ID = {"type": "integer", "minimum": 1, "maximum": 9223372036854775807}
NOTICE_STATES = ["pending", "acknowledged", "superseded", "accepted"]
WEBHOOK_EVENTS = ["policy.version_published", "acceptance.recorded", "notice.created"]
SCHEMAS["Notice"] = _obj(
    {
        "id": {"type": "integer"},
        "user_id": {"type": "string"},
        "policy": {"type": "string"},
        "title": {"type": "string"},
        "from_version": {"type": "integer", "description": "the version the user accepted"},
        "to_version": {"type": "integer"},
        "significance": {"type": "string", "enum": ["minor", "major"]},
        "summary": {"type": "string"},
        "effective": {"type": "string", "format": "date"},
        "acceptance_required": {"type": "boolean"},
        "redline_url": {"type": "string", "description": "from_version → to_version on the site"},
        "state": {"type": "string", "enum": NOTICE_STATES},
        "created_at": {"type": "string", "format": "date-time"},
        "acknowledged_at": {"type": ["string", "null"], "format": "date-time"},
        "acknowledged_by": {**NULLABLE_INT, "description": "the API key that acknowledged it"},
    }
)
SCHEMAS["PolicyStatus"]["properties"]["notices"] = {
    "type": "array",
    "items": _ref("Notice"),
    "description": "the user's pending notices for the policy (status answers only)",
}
SCHEMAS["NoticeStats"] = _obj(
    {
        "policy": {"type": "string"},
        "version": {"type": "integer"},
        "created": {"type": "integer"},
        "acknowledged": {"type": "integer"},
        "pending": {"type": "integer"},
        "superseded": {"type": "integer", "description": "covered by a later version's notice"},
        "accepted": {"type": "integer", "description": "closed by an acceptance"},
    }
)
SCHEMAS["Webhook"] = _obj(
    {
        "id": {"type": "integer"},
        "url": {"type": "string"},
        "description": {"type": "string"},
        "events": {"type": "array", "items": {"type": "string", "enum": WEBHOOK_EVENTS}},
        "enabled": {"type": "boolean"},
        "disabled_reason": NULLABLE_STR,
        "created_at": {"type": "string", "format": "date-time"},
        "removed_at": {"type": ["string", "null"], "format": "date-time"},
        "previous_secret_until": {
            "type": ["string", "null"],
            "format": "date-time",
            "description": "after a rotation, the old secret signs too until then",
        },
    }
)
SCHEMAS["NewWebhook"] = {
    "allOf": [
        _ref("Webhook"),
        _obj({"secret": {"type": "string", "description": "whsec_…; shown once"}}),
    ]
}
SCHEMAS["WebhookRequest"] = _obj(
    {
        "url": {
            "type": "string",
            "maxLength": 2000,
            "pattern": f"^https://[a-z]([-a-z0-9.]*[a-z0-9])?(:{PORT})?(/[!-~]*)?$",
            "description": "a public https URL; plain http or an address such as 127.0.0.1 "
            "only for hosts in webhook_allowed_hosts",
        },
        "events": {
            "type": "array",
            "items": {"type": "string", "enum": WEBHOOK_EVENTS},
            "minItems": 1,
        },
        "description": {"type": ["string", "null"], "maxLength": 500, "pattern": SHOWN},
    },
    ["url"],
    additionalProperties=False,
)
SCHEMAS["Delivery"] = _obj(
    {
        "id": {"type": "integer"},
        "webhook_id": {"type": "string", "description": "the message's webhook-id header"},
        "event_type": {"type": "string", "enum": WEBHOOK_EVENTS},
        "endpoint_id": {"type": "integer"},
        "state": {"type": "string", "enum": ["pending", "delivered", "dead", "cancelled"]},
        "attempts": {"type": "integer"},
        "next_attempt_at": {"type": ["string", "null"], "format": "date-time"},
        "last_status": NULLABLE_INT,
        "last_error": NULLABLE_STR,
        "created_at": {"type": "string", "format": "date-time"},
        "finished_at": {"type": ["string", "null"], "format": "date-time"},
    }
)
WEBHOOK_ID = {"name": "webhook_id", "in": "path", "required": True, "schema": {"type": "string"}}
PATHS["/v1/users/{user_id}/notices"] = {
    "get": _op(
        "The user's notices (pending by default)",
        _obj(
            {"user_id": {"type": "string"}, "notices": {"type": "array", "items": _ref("Notice")}}
        ),
        params=[
            USER,
            POLICY_QUERY,
            {
                "name": "state",
                "in": "query",
                "required": False,
                "schema": {"type": "string", "enum": [*NOTICE_STATES, "all"], "default": "pending"},
            },
        ],
        errors=UNKNOWN_QUERY,
        scope="read",
    )
}
PATHS["/v1/notices/{notice_id}/ack"] = {
    "post": _op(
        "Acknowledge a notice (the app showed it)",
        _ref("Notice"),
        status="201",
        params=[{"name": "notice_id", "in": "path", "required": True, "schema": BIG_ID}],
        errors={"404": _problem("unknown notice")},
        scope="write",
        description="Idempotent: the first acknowledgement (when, which API key) is kept; "
        "repeating it answers 200.",
    )
}
PATHS["/v1/notices/{notice_id}/ack"]["post"]["responses"]["200"] = {
    "description": "already acknowledged",
    "content": _json(_ref("Notice")),
}
PATHS["/v1/policies/{slug}/versions/{n}/notices/stats"] = {
    "get": _op(
        "Notices a version created: acknowledged, pending, closed",
        _ref("NoticeStats"),
        params=[SLUG, VERSION_N],
        errors=NOT_FOUND,
        scope="read",
    )
}
PATHS["/v1/admin/webhooks"] = {
    "get": _op(
        "List webhook endpoints",
        _obj({"webhooks": {"type": "array", "items": _ref("Webhook")}}),
        scope="admin",
    ),
    "post": _op(
        "Subscribe a URL to webhooks (the secret is shown once)",
        _ref("NewWebhook"),
        status="201",
        body="WebhookRequest",
        scope="admin",
        description="Only https, and no private or loopback address, unless the host is in "
        "`webhook_allowed_hosts`. Without `events`, every event type is sent.",
    ),
}
PATHS["/v1/admin/webhooks/{webhook_id}"] = {
    "delete": _op(
        "Remove a webhook endpoint (its pending deliveries are cancelled)",
        _ref("Webhook"),
        params=[WEBHOOK_ID],
        errors={"404": _problem("unknown webhook endpoint")},
        scope="admin",
    )
}
PATHS["/v1/admin/webhooks/{webhook_id}/rotate"] = {
    "post": _op(
        "Rotate an endpoint's secret (the new one is shown once)",
        _ref("NewWebhook"),
        params=[WEBHOOK_ID],
        errors={"404": _problem("unknown webhook endpoint")},
        scope="admin",
        description="The old secret keeps signing beside the new one for "
        "`webhook_rotation_overlap_hours`.",
    )
}
PATHS["/v1/admin/deliveries"] = {
    "get": _op(
        "Webhook deliveries in a state (dead by default), oldest first",
        _obj(
            {
                "deliveries": {"type": "array", "items": _ref("Delivery")},
                "next_cursor": NULLABLE_STR,
            }
        ),
        params=[
            {
                "name": "state",
                "in": "query",
                "required": False,
                "schema": {
                    "type": "string",
                    "enum": ["pending", "delivered", "dead", "cancelled"],
                    "default": "dead",
                },
            },
            {
                "name": "cursor",
                "in": "query",
                "required": False,
                "schema": {"type": "string", "pattern": "^[0-9]{1,18}$"},
                "description": "next_cursor of the previous page (opaque)",
            },
            {
                "name": "limit",
                "in": "query",
                "required": False,
                "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100},
            },
        ],
        errors={"422": _problem("an invalid state, cursor or limit")},
        scope="admin",
    )
}
PATHS["/v1/admin/deliveries/{delivery_id}/replay"] = {
    "post": _op(
        "Send a dead delivery again (same webhook-id, a fresh retry schedule)",
        _ref("Delivery"),
        params=[{"name": "delivery_id", "in": "path", "required": True, "schema": BIG_ID}],
        errors={
            "404": _problem("unknown delivery"),
            "409": _problem("the delivery is not dead, or its endpoint is disabled"),
        },
        scope="admin",
    )
}


@cache
def _document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "policy-tracker",
            "version": "1",
            "description": "Versioned policies and who accepted which version.",
        },
        "paths": PATHS,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }


def openapi_document() -> dict[str, Any]:
    return copy.deepcopy(_document())


if __name__ == "__main__":  # pragma: no cover
    print(json.dumps(openapi_document(), indent=2))
