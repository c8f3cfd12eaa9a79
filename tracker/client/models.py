"""Typed results of the tracker's API: the contract's answer types
(``tracker.contract.responses``), with what the client adds to a few of them.

Parsing is forward compatible: fields a newer tracker adds are ignored.
"""

from __future__ import annotations

from typing import Any

from tracker.contract import responses as answers

Upcoming = answers.Upcoming
PolicyStatus = answers.PolicyStatus
Event = answers.Event
EventsPage = answers.EventsPage
Notice = answers.Notice
AcceptanceLink = answers.AcceptanceLink


class UserStatus(answers.UserStatus):
    """A user's standing with every policy asked about."""

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


class RecordResult(answers.EventResult):
    """What recording an event returned."""

    #: True when the tracker replayed the answer to an earlier request with the same
    #: Idempotency-Key (a retry whose first attempt had reached the tracker): the
    #: ``Idempotent-Replayed`` header, not a field of the body.
    replayed: bool = False

    @classmethod
    def from_response(cls, data: Any, *, replayed: bool) -> RecordResult:
        return cls.model_validate({**data, "replayed": replayed})


__all__ = [
    "AcceptanceLink",
    "Event",
    "EventsPage",
    "Notice",
    "PolicyStatus",
    "RecordResult",
    "Upcoming",
    "UserStatus",
]
