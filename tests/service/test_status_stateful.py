"""Hypothesis drives publish / accept / decline / withdraw / time passing through the API and
checks every status answer against a small reference model.

The model gives every field of the status rules (current and accepted version, accepted_at,
state, needs_acceptance, accept_by, upcoming) and the pending notices, for policies that
require acceptance and policies that do not, with versions effective now or later.

``upcoming`` is the next version to take effect (of several due the same day, the one that
will govern), and ``accept_by`` the first date a newer major version takes effect.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from tests.api import Api
from tests.service.helpers import T0, Clock, payload, policy, version

USERS = ["ann", "bob", "cy"]
SIGNIFICANT = ("minor", "major")
# What the model says of a pending notice (the rest are addresses and ids).
NOTICE_KEYS = (
    "from_version",
    "to_version",
    "significance",
    "summary",
    "effective",
    "acceptance_required",
    "state",
    "created_at",
)


@dataclass(frozen=True)
class Published:
    significance: str
    effective: date


@dataclass(frozen=True)
class Notice:
    from_version: int
    to_version: int
    significance: str
    summary: str
    effective: date
    acceptance_required: bool
    created_at: datetime

    def answer(self, effective: date) -> dict[str, Any]:
        """The notice as the API gives it: ``effective`` is the day its version's text comes
        into force (later publications may bring it forward: ``Model.in_force_from``)."""
        return {
            "from_version": self.from_version,
            "to_version": self.to_version,
            "significance": self.significance,
            "summary": self.summary,
            "effective": effective.isoformat(),
            "acceptance_required": self.acceptance_required,
            "state": "pending",
            "created_at": self.created_at.isoformat(),
        }


@dataclass
class Person:
    last_kind: str | None = None
    accepted: int | None = None
    accepted_at: datetime | None = None
    last_version: int | None = None  # of the latest event
    notices: list[Notice] = field(default_factory=list)  # pending, oldest first
    # A user is told of a version once (notices are unique per user and version).
    told: set[int] = field(default_factory=set)


class Model:
    """One policy and its users by the rules of docs/api.md (status) and docs/webhooks.md
    (notices)."""

    def __init__(self, required: bool) -> None:
        self.required = required
        self.versions: list[Published] = []
        self.people = {u: Person() for u in USERS}

    def publish(self, significance: str, effective: date, now: datetime) -> None:
        self.versions.append(Published(significance, effective))
        if significance in SIGNIFICANT:
            for person in self.people.values():
                if person.last_kind == "accepted":
                    self._tell(person, len(self.versions), now)

    def in_force_from(self, number: int) -> date:
        """The first day version ``number``'s text (or a later one's, which contains it) is in
        force: a later version with an earlier effective date overtakes it."""
        return min(v.effective for v in self.versions[number - 1 :])

    def accept(self, person: Person, number: int, now: datetime) -> None:
        if person.last_kind == "accepted" and person.last_version == number:
            return  # the same event as the latest: nothing is stored
        person.last_version = number
        if person.last_kind == "accepted" and person.accepted and person.accepted > number:
            number = person.accepted  # an older version's acceptance keeps the newer one
        else:
            person.accepted, person.accepted_at = number, now
        person.last_kind = "accepted"
        person.notices = [n for n in person.notices if n.to_version > number]
        later = [
            n
            for n, v in enumerate(self.versions, 1)
            if n > number and v.significance in SIGNIFICANT
        ]
        if later and later[-1] not in person.told:
            self._tell(person, later[-1], now)  # a stale acceptance

    def _tell(self, person: Person, to: int, now: datetime) -> None:
        """A notice from the user's accepted version to ``to``; it supersedes the others."""
        assert person.accepted is not None
        covered = [(n, v) for n, v in enumerate(self.versions, 1) if person.accepted < n <= to]
        major = any(v.significance == "major" for _, v in covered)
        summary = "; ".join(f"v{n}" for n, v in covered if v.significance in SIGNIFICANT)
        person.notices = [
            Notice(
                person.accepted,
                to,
                "major" if major else "minor",
                summary,
                self.versions[to - 1].effective,
                major and self.required,
                now,
            )
        ]
        person.told.add(to)

    def status(self, person: Person, today: date) -> tuple[dict[str, Any], dict[str, list[Any]]]:
        """The status answer (but notices), and the unsettled fields of this situation with
        the values allowed for them."""
        numbered = list(enumerate(self.versions, 1))
        current = max((n for n, v in numbered if v.effective <= today), default=None)
        loose: dict[str, list[Any]] = {}
        accept_by = None
        if person.last_kind in ("declined", "withdrawn"):
            state, needs = person.last_kind, True
        elif person.accepted is None:
            state, needs = "never_accepted", True
        else:
            majors = [
                self.in_force_from(n)
                for n, v in numbered
                if n > person.accepted and v.significance == "major"
            ]
            state = "major_change" if any(eff <= today for eff in majors) else "accepted"
            needs = state == "major_change"
            # Acceptance is due from the first of the newer major versions to take effect.
            accept_by = min(majors, default=None)
        if current is None or not self.required:
            needs = False
        # The next version to take effect (the newest of those effective on the soonest day).
        pending = [(n, v) for n, v in numbered if v.effective > today and n > (current or 0)]
        upcoming = None
        if pending:
            soonest = min(v.effective for _, v in pending)
            upcoming = max(n for n, v in pending if v.effective == soonest)
        want = {
            "acceptance_required": self.required,
            "current_version": current,
            "accepted_version": person.accepted,
            "accepted_at": person.accepted_at.isoformat() if person.accepted_at else None,
            "state": state,
            "needs_acceptance": needs,
            "accept_by": accept_by.isoformat() if accept_by else None,
            "upcoming": self._upcoming(upcoming) if upcoming else None,
        }
        return want, loose

    def _upcoming(self, number: int) -> dict[str, Any]:
        v = self.versions[number - 1]
        return {
            "version": number,
            "significance": v.significance,
            "effective": v.effective.isoformat(),
            "summary": f"v{number}",
        }


def check(answer: dict[str, Any], want: dict[str, Any], loose: dict[str, list[Any]]) -> None:
    got = {k: answer[k] for k in want}
    if "notices" in got:
        got["notices"] = [{k: n[k] for k in NOTICE_KEYS} for n in got["notices"]]
    for key, allowed in loose.items():
        assert got[key] in allowed, (key, answer)
        got[key] = want[key]
    assert got == want, answer


def test_status_matches_the_reference_model(api: Api, clock: Clock) -> None:
    class StatusMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            clock.now = T0
            self.slug = f"p-{uuid.uuid4().hex[:8]}"
            self.model = Model(required=True)

        def user(self, name: str) -> str:
            return f"{self.slug}-{name}"

        @property
        def versions(self) -> list[Published]:
            return self.model.versions

        @initialize(required=st.booleans())
        def settle(self, required: bool) -> None:
            self.model.required = required

        @rule(significance=st.sampled_from(["patch", "minor", "major"]), delay=st.integers(0, 40))
        def publish(self, significance: str, delay: int) -> None:
            n = len(self.versions) + 1
            if n == 1:
                significance = "major"
            effective = clock.now.date() + timedelta(days=delay)
            v = version(n, significance, published=clock.now, effective=effective)
            body = payload(policy(self.slug, v, acceptance_required=self.model.required))
            r = api.post("/v1/admin/versions", json=body)
            assert r.status_code == 201, r.text
            self.model.publish(significance, effective, clock.now)

        def _event(self, kind: str, name: str, number: int | None) -> None:
            body: dict[str, Any] = {"user_id": self.user(name), "policy": self.slug}
            if number is not None:
                body["version"] = number
            r = api.post(f"/v1/{kind}", json=body, key="write")
            assert r.status_code in (200, 201), r.text
            check(r.json()["status"], *self.model.status(self.model.people[name], self.today))

        @property
        def today(self) -> date:
            return clock.now.date()

        @precondition(lambda self: self.versions)
        @rule(name=st.sampled_from(USERS), data=st.data())
        def accept(self, name: str, data: st.DataObject) -> None:
            n = data.draw(st.integers(1, len(self.versions)))
            self.model.accept(self.model.people[name], n, clock.now)
            self._event("acceptances", name, n)

        @precondition(lambda self: self.versions)
        @rule(name=st.sampled_from(USERS), data=st.data())
        def decline(self, name: str, data: st.DataObject) -> None:
            n = data.draw(st.integers(1, len(self.versions)))
            person = self.model.people[name]
            person.last_kind, person.last_version = "declined", n
            self._event("declines", name, n)

        @precondition(lambda self: self.versions)
        @rule(name=st.sampled_from(USERS))
        def withdraw(self, name: str) -> None:
            person = self.model.people[name]
            person.last_kind, person.last_version = "withdrawn", person.accepted
            self._event("withdrawals", name, None)

        @rule(
            days=st.integers(0, 45),
            seconds=st.integers(0, 86_399),
            microseconds=st.integers(0, 999_999),
        )
        def time_passes(self, days: int, seconds: int, microseconds: int) -> None:
            clock.now += timedelta(days=days, seconds=seconds, microseconds=microseconds)

        @precondition(lambda self: self.versions)
        @invariant()
        def status_matches(self) -> None:
            users = [self.user(u) for u in USERS]
            r = api.post(
                "/v1/status/batch", json={"user_ids": users, "policy": self.slug}, key="read"
            )
            assert r.status_code == 200, r.text
            for name, got in zip(USERS, r.json()["users"], strict=True):
                answer = got["policies"][0]
                person = self.model.people[name]
                want, loose = self.model.status(person, self.today)
                want["notices"] = [
                    n.answer(self.model.in_force_from(n.to_version)) for n in person.notices
                ]
                check(answer, want, loose)
                single = api.get(
                    f"/v1/users/{got['user_id']}/status", params={"policy": self.slug}, key="read"
                ).json()["policies"][0]
                assert single == answer

    run_state_machine_as_test(
        StatusMachine,
        settings=settings(
            max_examples=50,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
