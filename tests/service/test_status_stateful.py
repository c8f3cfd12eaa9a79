"""Hypothesis drives publish / accept / decline / withdraw / time passing through the API and
checks every status answer against a small reference model."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from tests.service.conftest import Api
from tests.service.helpers import T0, Clock, payload, policy, version

USERS = ["ann", "bob", "cy"]


@dataclass
class Person:
    last_kind: str | None = None
    accepted: int | None = None


def expected(
    versions: list[tuple[str, date]], person: Person, today: date, required: bool
) -> dict[str, Any]:
    current = max((n for n, (_, eff) in enumerate(versions, 1) if eff <= today), default=None)
    if person.last_kind in ("declined", "withdrawn"):
        state, needs = person.last_kind, True
    elif person.accepted is None:
        state, needs = "never_accepted", True
    else:
        majors = [
            eff
            for n, (sig, eff) in enumerate(versions, 1)
            if n > person.accepted and sig == "major"
        ]
        state = "major_change" if any(eff <= today for eff in majors) else "accepted"
        needs = state == "major_change"
    if current is None or not required:
        needs = False
    return {
        "current_version": current,
        "accepted_version": person.accepted,
        "state": state,
        "needs_acceptance": needs,
    }


def test_status_matches_the_reference_model(api: Api, clock: Clock) -> None:
    class StatusMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            clock.now = T0
            self.slug = f"p-{uuid.uuid4().hex[:8]}"
            self.required = True
            self.versions: list[tuple[str, date]] = []
            self.people = {u: Person() for u in USERS}

        def user(self, name: str) -> str:
            return f"{self.slug}-{name}"

        @rule(significance=st.sampled_from(["patch", "minor", "major"]), delay=st.integers(0, 40))
        def publish(self, significance: str, delay: int) -> None:
            n = len(self.versions) + 1
            if n == 1:
                significance = "major"
            effective = clock.now.date() + timedelta(days=delay)
            v = version(n, significance, published=clock.now, effective=effective)
            r = api.post("/v1/admin/versions", json=payload(policy(self.slug, v)))
            assert r.status_code == 201, r.text
            self.versions.append((significance, effective))

        def _event(self, kind: str, name: str, number: int | None) -> None:
            body: dict[str, Any] = {"user_id": self.user(name), "policy": self.slug}
            if number is not None:
                body["version"] = number
            r = api.post(f"/v1/{kind}", json=body, key="write")
            assert r.status_code in (200, 201), r.text

        @precondition(lambda self: self.versions)
        @rule(name=st.sampled_from(USERS), data=st.data())
        def accept(self, name: str, data: st.DataObject) -> None:
            n = data.draw(st.integers(1, len(self.versions)))
            self._event("acceptances", name, n)
            self.people[name] = Person("accepted", n)

        @precondition(lambda self: self.versions)
        @rule(name=st.sampled_from(USERS), data=st.data())
        def decline(self, name: str, data: st.DataObject) -> None:
            n = data.draw(st.integers(1, len(self.versions)))
            self._event("declines", name, n)
            self.people[name].last_kind = "declined"

        @precondition(lambda self: self.versions)
        @rule(name=st.sampled_from(USERS))
        def withdraw(self, name: str) -> None:
            self._event("withdrawals", name, None)
            self.people[name].last_kind = "withdrawn"

        @rule(days=st.integers(1, 45))
        def time_passes(self, days: int) -> None:
            clock.advance(days)

        @precondition(lambda self: self.versions)
        @invariant()
        def status_matches(self) -> None:
            users = [self.user(u) for u in USERS]
            r = api.post(
                "/v1/status/batch", json={"user_ids": users, "policy": self.slug}, key="read"
            )
            assert r.status_code == 200, r.text
            today = clock.now.date()
            for name, got in zip(USERS, r.json()["users"], strict=True):
                answer = got["policies"][0]
                want = expected(self.versions, self.people[name], today, self.required)
                assert {k: answer[k] for k in want} == want, (name, answer)
            single = api.get(
                f"/v1/users/{users[0]}/status", params={"policy": self.slug}, key="read"
            ).json()["policies"][0]
            assert single == r.json()["users"][0]["policies"][0]

    run_state_machine_as_test(
        StatusMachine,
        settings=settings(
            max_examples=30,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
