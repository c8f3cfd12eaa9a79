"""TrackerClient against a real tracker over real HTTP: typed results and clear errors."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.client.conftest import Tracker
from tracker.client import (
    AuthError,
    ConflictError,
    NotFoundError,
    TrackerClient,
    ValidationError,
)


def test_status_of_a_new_user(client: TrackerClient, user: str) -> None:
    got = client.status(user)
    assert got.user_id == user and got.needs_acceptance
    assert [p.policy for p in got.pending] == ["privacy", "terms"]
    privacy = got.policy("privacy")
    assert privacy.state == "never_accepted" and privacy.current_version == 2
    assert privacy.accepted_version is None and privacy.upcoming is None
    with pytest.raises(KeyError):
        got.policy("cookies")


def test_status_for_one_policy(client: TrackerClient, user: str) -> None:
    got = client.status(user, policy="terms")
    assert [p.policy for p in got.policies] == ["terms"]


def test_accept_records_evidence_and_returns_the_new_status(
    client: TrackerClient, user: str
) -> None:
    result = client.accept(
        user,
        "privacy",
        2,
        method="clickwrap",
        ip="192.0.2.7",
        user_agent="Mozilla/5.0",
        locale="pt-BR",
        context={"screen": "checkout"},
    )
    assert result.created and not result.replayed
    event = result.event
    assert (event.type, event.user_id, event.policy, event.version) == (
        "accepted",
        user,
        "privacy",
        2,
    )
    assert event.method == "clickwrap" and event.ip == "192.0.2.7"
    assert event.user_agent == "Mozilla/5.0" and event.locale == "pt-BR"
    assert event.context == {"screen": "checkout"}
    assert event.sha256 is not None and len(event.sha256) == 64
    assert isinstance(event.recorded_at, datetime)
    assert result.status.state == "accepted" and not result.status.needs_acceptance
    assert isinstance(result.status.accepted_at, datetime)
    assert client.status(user).pending[0].policy == "terms"


def test_the_same_acceptance_twice_is_stored_once(client: TrackerClient, user: str) -> None:
    first = client.accept(user, "terms", 1)
    second = client.accept(user, "terms", 1)
    assert first.created and not second.created
    assert second.event.id == first.event.id


def test_accept_without_a_version_records_the_one_in_force(
    client: TrackerClient, user: str
) -> None:
    assert client.accept(user, "privacy").event.version == 2


def test_decline_and_withdraw(client: TrackerClient, user: str) -> None:
    client.accept(user, "privacy", 2)
    withdrawn = client.withdraw(user, "privacy")
    assert withdrawn.event.type == "withdrawn" and withdrawn.event.version == 2
    assert withdrawn.status.state == "withdrawn" and withdrawn.status.needs_acceptance
    declined = client.decline(user, "privacy")
    assert declined.event.type == "declined" and declined.status.state == "declined"


def test_batch_status_keeps_the_order_given(client: TrackerClient, user: str) -> None:
    client.accept(user, "terms", 1)
    got = client.batch_status(["someone-else", user], policy="terms")
    assert [u.user_id for u in got] == ["someone-else", user]
    assert got[0].needs_acceptance and not got[1].needs_acceptance


def test_events_page_by_page(client: TrackerClient, user: str) -> None:
    client.accept(user, "privacy", 2)
    client.accept(user, "terms", 1)
    client.decline(user, "terms", 1)
    first = client.events(user, limit=2)
    assert [e.type for e in first.events] == ["accepted", "accepted"]
    assert first.next_cursor is not None
    rest = client.events(user, cursor=first.next_cursor, limit=2)
    assert [e.type for e in rest.events] == ["declined"] and rest.next_cursor is None
    assert [e.policy for e in client.iter_events(user)] == ["privacy", "terms", "terms"]
    assert [e.type for e in client.iter_events(user, policy="terms")] == ["accepted", "declined"]


def test_user_ids_are_opaque(client: TrackerClient) -> None:
    odd = "tenant/42 ünïcode?&#%"
    client.accept(odd, "terms", 1)
    assert client.status(odd, "terms").policies[0].state == "accepted"
    assert [e.user_id for e in client.iter_events(odd)] == [odd]


def test_listeners_hear_of_recorded_events(client: TrackerClient, user: str) -> None:
    heard: list[str] = []
    client.on_record(heard.append)
    client.status(user)
    client.accept(user, "terms", 1)
    client.withdraw(user, "terms")
    assert heard == [user, user]


def test_a_bad_key_is_an_auth_error(tracker: Tracker, user: str) -> None:
    with tracker.client("ptk_nope_nope") as bad, pytest.raises(AuthError) as caught:
        bad.status(user)
    assert caught.value.status == 401 and caught.value.code == "unauthorized"
    assert "API key" in caught.value.message


def test_a_missing_scope_is_an_auth_error(tracker: Tracker, user: str) -> None:
    with tracker.client("read") as reader, pytest.raises(AuthError) as caught:
        reader.accept(user, "terms", 1)
    assert caught.value.status == 403 and "write" in caught.value.message


def test_unknown_policy_and_version_are_not_found(client: TrackerClient, user: str) -> None:
    with pytest.raises(NotFoundError) as caught:
        client.status(user, policy="cookies")
    assert caught.value.status == 404 and "cookies" in caught.value.message
    with pytest.raises(NotFoundError):
        client.accept(user, "privacy", 9)
    with pytest.raises(NotFoundError):
        client.events(user)  # no events yet


def test_invalid_fields_are_validation_errors_naming_the_field(
    client: TrackerClient, user: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        client.accept(user, "privacy", 2, ip="not-an-ip")
    assert caught.value.status == 422 and caught.value.field == "ip"
    assert str(caught.value).startswith("422 ")
    with pytest.raises(ValidationError) as caught:
        client.batch_status([])
    assert caught.value.field == "user_ids"
    with pytest.raises(ValueError, match="method must be one of"):
        client.accept(user, "privacy", 2, method="telepathy")


def test_an_idempotency_key_reused_for_another_request_is_a_conflict(
    client: TrackerClient, user: str
) -> None:
    first = client.accept(user, "privacy", 2, idempotency_key=f"k-{user}")
    again = client.accept(user, "privacy", 2, idempotency_key=f"k-{user}")
    assert again.replayed and again.event == first.event
    with pytest.raises(ConflictError) as caught:
        client.accept(user, "terms", 1, idempotency_key=f"k-{user}")
    assert caught.value.status == 409 and caught.value.code == "idempotency_key_reused"
