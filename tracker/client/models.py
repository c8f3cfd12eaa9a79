"""Typed results of the tracker's API: frozen dataclasses parsed from its JSON.

Parsing is forward compatible: fields a newer tracker adds are ignored, and fields an older
one lacks take their documented default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

Json = Mapping[str, Any]


def _dt(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def _date(value: Any) -> date | None:
    return date.fromisoformat(value[:10]) if isinstance(value, str) and value else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


@dataclass(frozen=True, slots=True)
class Upcoming:
    """A published version that is not in force yet."""

    version: int
    significance: str
    effective: date | None
    summary: str

    @classmethod
    def from_json(cls, data: Json) -> Upcoming:
        return cls(
            version=int(data["version"]),
            significance=str(data.get("significance", "")),
            effective=_date(data.get("effective")),
            summary=str(data.get("summary") or ""),
        )


@dataclass(frozen=True, slots=True)
class PolicyStatus:
    """One user's standing with one policy."""

    policy: str
    title: str
    acceptance_required: bool
    current_version: int | None
    accepted_version: int | None
    accepted_at: datetime | None
    #: ``accepted``, ``never_accepted``, ``major_change``, ``declined`` or ``withdrawn``.
    state: str
    needs_acceptance: bool
    #: When a major version the user has not accepted takes effect.
    accept_by: date | None
    upcoming: Upcoming | None

    @classmethod
    def from_json(cls, data: Json) -> PolicyStatus:
        upcoming = data.get("upcoming")
        return cls(
            policy=str(data["policy"]),
            title=str(data.get("title") or data["policy"]),
            acceptance_required=bool(data.get("acceptance_required", True)),
            current_version=_int(data.get("current_version")),
            accepted_version=_int(data.get("accepted_version")),
            accepted_at=_dt(data.get("accepted_at")),
            state=str(data.get("state", "")),
            needs_acceptance=bool(data.get("needs_acceptance", False)),
            accept_by=_date(data.get("accept_by")),
            upcoming=Upcoming.from_json(upcoming) if isinstance(upcoming, Mapping) else None,
        )


@dataclass(frozen=True, slots=True)
class UserStatus:
    """A user's standing with every policy asked about."""

    user_id: str
    policies: tuple[PolicyStatus, ...]

    @property
    def needs_acceptance(self) -> bool:
        return any(p.needs_acceptance for p in self.policies)

    @property
    def pending(self) -> tuple[PolicyStatus, ...]:
        """The policies the user must (re-)accept now."""
        return tuple(p for p in self.policies if p.needs_acceptance)

    def policy(self, slug: str) -> PolicyStatus:
        """The status for one policy; ``KeyError`` if the answer does not include it."""
        for p in self.policies:
            if p.policy == slug:
                return p
        raise KeyError(slug)

    @classmethod
    def from_json(cls, data: Json) -> UserStatus:
        return cls(
            user_id=str(data["user_id"]),
            policies=tuple(PolicyStatus.from_json(p) for p in data.get("policies", ())),
        )


@dataclass(frozen=True, slots=True)
class Event:
    """An acceptance, decline or withdrawal as the tracker stored it (append-only)."""

    id: int
    #: ``accepted``, ``declined`` or ``withdrawn``.
    type: str
    user_id: str
    policy: str | None
    version: int | None
    #: SHA-256 of the exact text of the version.
    sha256: str | None
    method: str
    api_key_id: int | None
    ip: str | None
    user_agent: str | None
    locale: str | None
    context: Mapping[str, Any] | None
    recorded_at: datetime | None

    @classmethod
    def from_json(cls, data: Json) -> Event:
        context = data.get("context")
        return cls(
            id=int(data["id"]),
            type=str(data["type"]),
            user_id=str(data["user_id"]),
            policy=_str(data.get("policy")),
            version=_int(data.get("version")),
            sha256=_str(data.get("sha256")),
            method=str(data.get("method", "")),
            api_key_id=_int(data.get("api_key_id")),
            ip=_str(data.get("ip")),
            user_agent=_str(data.get("user_agent")),
            locale=_str(data.get("locale")),
            context=context if isinstance(context, Mapping) else None,
            recorded_at=_dt(data.get("recorded_at")),
        )


@dataclass(frozen=True, slots=True)
class RecordResult:
    """What recording an event returned."""

    event: Event
    #: False when the same event was already the user's latest (stored once).
    created: bool
    #: The user's status for the policy afterwards.
    status: PolicyStatus
    #: True when the tracker replayed the answer to an earlier request with the same
    #: Idempotency-Key (a retry whose first attempt had reached the tracker).
    replayed: bool = False

    @classmethod
    def from_json(cls, data: Json, *, replayed: bool = False) -> RecordResult:
        return cls(
            event=Event.from_json(data["event"]),
            created=bool(data.get("created", True)),
            status=PolicyStatus.from_json(data["status"]),
            replayed=replayed,
        )


@dataclass(frozen=True, slots=True)
class EventsPage:
    """One page of a user's events, oldest first."""

    user_id: str
    events: tuple[Event, ...]
    #: Pass to ``events(cursor=...)`` for the next page; None on the last page.
    next_cursor: str | None

    @classmethod
    def from_json(cls, data: Json) -> EventsPage:
        return cls(
            user_id=str(data["user_id"]),
            events=tuple(Event.from_json(e) for e in data.get("events", ())),
            next_cursor=_str(data.get("next_cursor")),
        )


@dataclass(frozen=True, slots=True)
class Notice:
    """A per-user record that a minor or major version affects a user."""

    id: str
    user_id: str | None
    policy: str | None
    from_version: int | None
    to_version: int | None
    significance: str | None
    summary: str
    effective: date | None
    acceptance_required: bool
    #: The redline from the user's version to the new one on the published site.
    redline_url: str | None
    created_at: datetime | None
    acknowledged_at: datetime | None
    #: ``pending``, ``acknowledged``, ``superseded`` (by a later version's notice) or
    #: ``accepted`` (closed by an acceptance): what ``notices(include_acknowledged=True)``
    #: needs to tell the open ones from the closed.
    state: str = ""

    @classmethod
    def from_json(cls, data: Json) -> Notice:
        return cls(
            id=str(data["id"]),
            user_id=_str(data.get("user_id")),
            policy=_str(data.get("policy")),
            from_version=_int(data.get("from_version")),
            to_version=_int(data.get("to_version")),
            significance=_str(data.get("significance")),
            summary=str(data.get("summary") or ""),
            effective=_date(data.get("effective")),
            acceptance_required=bool(data.get("acceptance_required", False)),
            redline_url=_str(data.get("redline_url")),
            created_at=_dt(data.get("created_at")),
            acknowledged_at=_dt(data.get("acknowledged_at")),
            state=str(data.get("state") or ""),
        )


@dataclass(frozen=True, slots=True)
class AcceptanceLink:
    """A signed, short-lived, single-use link to the tracker's hosted acceptance page."""

    url: str
    expires_at: datetime | None

    @classmethod
    def from_json(cls, data: Json) -> AcceptanceLink:
        return cls(url=str(data["url"]), expires_at=_dt(data.get("expires_at")))
