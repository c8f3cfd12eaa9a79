"""What both clients share: the calls as data, the retry policy and response handling.

The sync and async clients differ only in how they send a ``Call`` and how they sleep.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypedDict, TypeVar, get_args
from urllib.parse import quote

import httpx
from pydantic import BaseModel

from tracker.client.errors import (
    TrackerClientError,
    ValidationError,
    error_for,
    transport_error,
)
from tracker.client.models import (
    AcceptanceLink,
    EventsPage,
    Notice,
    RecordResult,
    UserStatus,
)
from tracker.contract import (
    AcceptanceLinkRequest,
    BatchStatusRequest,
    EventRequest,
    EventRequestOptionalVersion,
    refusals,
)
from tracker.contract.requests import Method
from tracker.inputs import retry_after_wait

T = TypeVar("T")

METHODS = get_args(Method)
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
USER_AGENT = "policy-tracker-client/0.1"


@dataclass(frozen=True)
class Retry:
    """How hard to try. Every call is safe to retry: reads are, and writes carry an
    Idempotency-Key generated once per call and sent again with each attempt."""

    #: Attempts in all, the first included (1 turns retries off).
    attempts: int = 3
    #: First backoff in seconds; doubled each attempt, with jitter, up to ``max_backoff``.
    backoff: float = 0.25
    max_backoff: float = 5.0
    #: A ``Retry-After`` longer than this is not waited for: the call fails at once.
    max_retry_after: float = 30.0

    def delay(self, attempt: int, response: httpx.Response | None) -> float | None:
        """Seconds to wait before attempt ``attempt + 1``, or None to give up."""
        if attempt >= self.attempts:
            return None
        wanted = retry_after(response) if response is not None else None
        if wanted is not None:
            return wanted if wanted <= self.max_retry_after else None
        ceiling = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
        return random.uniform(ceiling / 2, ceiling)


def retry_after(response: httpx.Response) -> float | None:
    """``Retry-After`` in seconds (delta-seconds or an HTTP date), if the response has one."""
    wait = retry_after_wait(response.headers.get("retry-after"), datetime.now(UTC))
    return None if wait is None else wait.total_seconds()


@dataclass
class Call(Generic[T]):
    """One logical API call: sent once or more, parsed once."""

    method: str
    path: str
    parse: Callable[[httpx.Response], T]
    params: dict[str, str] | None = None
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    #: The user whose status this call changes (clients tell their listeners).
    changes_user: str | None = None


def should_retry(response: httpx.Response) -> bool:
    return response.status_code in RETRY_STATUSES


def finish(call: Call[T], response: httpx.Response) -> T:
    if response.is_success:
        return call.parse(response)
    raise error_for(response, retry_after(response))


def give_up(exc: httpx.TransportError, attempts: int) -> TrackerClientError:
    return transport_error(exc, attempts)


def segment(value: str) -> str:
    """A path segment: user ids are opaque, so every reserved character is escaped."""
    return quote(value, safe="")


def idempotency_key(given: str | None) -> dict[str, str]:
    return {"Idempotency-Key": given or str(uuid.uuid4())}


def _json(response: httpx.Response) -> Any:
    return response.json()


def body(model: type[BaseModel], **fields: Any) -> dict[str, Any]:
    """A request body checked against the contract's type before it is sent: what the
    tracker would refuse raises the ``ValidationError`` (422) it would answer, worded the
    same; fields left as None are left out."""
    given = {k: v for k, v in fields.items() if v is not None}
    try:
        checked = refusals.parse(model, json.dumps(given))
    except refusals.Refused as exc:
        raise ValidationError(
            str(exc), status=422, code="invalid_input", field=exc.field, body=None
        ) from None
    return checked.model_dump(mode="json", by_alias=True, exclude_unset=True)


def status_call(user_id: str, policy: str | None, locale: str | None = None) -> Call[UserStatus]:
    params = {k: v for k, v in (("policy", policy), ("locale", locale)) if v is not None}
    return Call(
        "GET",
        f"/v1/users/{segment(user_id)}/status",
        lambda r: UserStatus.model_validate(_json(r)),
        params=params or None,
    )


def batch_status_call(user_ids: Sequence[str], policy: str | None) -> Call[list[UserStatus]]:
    return Call(
        "POST",
        "/v1/status/batch",
        lambda r: [UserStatus.model_validate(u) for u in _json(r)["users"]],
        json=body(BatchStatusRequest, user_ids=list(user_ids), policy=policy),
    )


def events_call(
    user_id: str, policy: str | None, cursor: str | None, limit: int | None
) -> Call[EventsPage]:
    params = {"policy": policy, "cursor": cursor, "limit": str(limit) if limit else None}
    return Call(
        "GET",
        f"/v1/users/{segment(user_id)}/events",
        lambda r: EventsPage.model_validate(_json(r)),
        params={k: v for k, v in params.items() if v is not None},
    )


class EventDetails(TypedDict, total=False):
    """What an acceptance, decline or withdrawal may carry besides the user, the policy and
    the version, as keyword arguments of ``accept``, ``decline`` and ``withdraw``."""

    #: How the user agreed: ``clickwrap``, ``continued_use``, ``api`` (the default) or
    #: ``import``.
    method: str
    ip: str | None
    user_agent: str | None
    locale: str | None
    #: Free-form evidence kept with the event (JSON).
    context: Mapping[str, Any] | None
    #: Sent as ``Idempotency-Key``; without it one is made per call (kept across retries).
    idempotency_key: str | None


def record_call(
    kind: str, user_id: str, policy: str, version: int | None, details: EventDetails
) -> Call[RecordResult]:
    """``kind`` is the endpoint: ``acceptances``, ``declines`` or ``withdrawals``."""
    method = details.get("method", "api")
    context = details.get("context")
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    model = EventRequest if kind == "acceptances" else EventRequestOptionalVersion
    sent = body(
        model,
        user_id=user_id,
        policy=policy,
        version=version,
        method=method,
        ip=details.get("ip"),
        user_agent=details.get("user_agent"),
        locale=details.get("locale"),
        context=dict(context) if context is not None else None,
    )
    return Call(
        "POST",
        f"/v1/{kind}",
        lambda r: RecordResult.from_response(
            _json(r), replayed=r.headers.get("idempotent-replayed") == "true"
        ),
        json=sent,
        headers=idempotency_key(details.get("idempotency_key")),
        changes_user=user_id,
    )


def _notices(data: Any) -> list[Notice]:
    items = data.get("notices", []) if isinstance(data, Mapping) else data
    return [Notice.model_validate(n) for n in items]


def notices_call(user_id: str, include_acknowledged: bool) -> Call[list[Notice]]:
    return Call(
        "GET",
        f"/v1/users/{segment(user_id)}/notices",
        lambda r: _notices(_json(r)),
        params={"state": "all"} if include_acknowledged else None,
    )


def _notice(data: Any) -> Notice:
    return Notice.model_validate(data.get("notice", data))


def ack_call(notice_id: str | int, key: str | None) -> Call[Notice]:
    return Call(
        "POST",
        f"/v1/notices/{segment(str(notice_id))}/ack",
        lambda r: _notice(_json(r)),
        headers=idempotency_key(key),
    )


def acceptance_link_call(
    user_id: str,
    return_url: str,
    policies: Sequence[str] | None,
    locale: str | None,
    key: str | None,
) -> Call[AcceptanceLink]:
    sent = body(
        AcceptanceLinkRequest,
        user_id=user_id,
        return_url=return_url,
        policies=list(policies) if policies is not None else None,
        locale=locale,
    )
    return Call(
        "POST",
        "/v1/acceptance-links",
        lambda r: AcceptanceLink.model_validate(_json(r)),
        json=sent,
        headers=idempotency_key(key),
    )


def current_version(status: UserStatus, policy: str) -> int:
    """The version in force, for accept/decline calls that name none."""
    number = status.policy(policy).current_version
    if number is None:
        raise TrackerClientError(
            f"policy {policy!r} has no version in force; pass version=", code="no_current_version"
        )
    return number


def client_headers(api_key: str, user_agent: str | None) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {api_key}",
        "Accept": "application/json",
        "User-Agent": user_agent or USER_AGENT,
    }
