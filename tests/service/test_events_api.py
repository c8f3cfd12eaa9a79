"""Acceptances, declines and withdrawals: evidence, idempotency, dedupe and bad input."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api import Api
from tests.service.helpers import payload, policy, version


@pytest.fixture
def published(api: Api) -> Api:
    body = payload(policy("privacy", version(1, "major"), version(2, "minor")))
    assert api.post("/v1/admin/versions", json=body).status_code == 201
    return api


def accept(api: Api, **fields: Any) -> Any:
    body = {"user_id": "u1", "policy": "privacy", "version": 2, **fields}
    return api.post("/v1/acceptances", json=body, key="write")


def test_acceptance_stores_evidence_and_returns_status(published: Api) -> None:
    r = accept(
        published,
        method="clickwrap",
        ip="2001:db8::1",
        user_agent="Mozilla/5.0",
        locale="pt-BR",
        context={"screen": "signup"},
    )
    assert r.status_code == 201, r.text
    got = r.json()
    event = got["event"]
    assert event["type"] == "accepted" and event["version"] == 2
    assert event["method"] == "clickwrap" and event["ip"] == "2001:db8::1"
    assert event["user_agent"] == "Mozilla/5.0" and event["locale"] == "pt-BR"
    assert event["context"] == {"screen": "signup"}
    assert event["api_key_id"] is not None and len(event["sha256"]) == 64
    assert got["status"]["state"] == "accepted" and got["status"]["needs_acceptance"] is False


def test_same_acceptance_twice_is_stored_once(published: Api) -> None:
    first = accept(published)
    second = accept(published)
    assert first.status_code == 201 and second.status_code == 200
    assert second.json()["created"] is False
    assert second.json()["event"]["id"] == first.json()["event"]["id"]
    events = published.get("/v1/users/u1/events").json()["events"]
    assert len(events) == 1


def test_accept_again_after_a_decline_is_a_new_event(published: Api) -> None:
    accept(published)
    published.post(
        "/v1/declines", json={"user_id": "u1", "policy": "privacy", "version": 2}, key="write"
    )
    assert accept(published).status_code == 201
    kinds = [e["type"] for e in published.get("/v1/users/u1/events").json()["events"]]
    assert kinds == ["accepted", "declined", "accepted"]


def test_idempotency_key_replays_the_original_response(published: Api) -> None:
    headers = {"Idempotency-Key": "abc-1"}
    first = published.post(
        "/v1/acceptances",
        json={"user_id": "u1", "policy": "privacy", "version": 2},
        headers=headers,
        key="write",
    )
    published.post(
        "/v1/declines", json={"user_id": "u1", "policy": "privacy", "version": 2}, key="write"
    )
    again = published.post(
        "/v1/acceptances",
        json={"user_id": "u1", "policy": "privacy", "version": 2},
        headers=headers,
        key="write",
    )
    assert again.status_code == first.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    kinds = [e["type"] for e in published.get("/v1/users/u1/events").json()["events"]]
    assert kinds == ["accepted", "declined"]


def test_idempotency_key_with_another_body_is_409(published: Api) -> None:
    headers = {"Idempotency-Key": "abc-2"}
    body = {"user_id": "u1", "policy": "privacy", "version": 2}
    first = published.post("/v1/acceptances", json=body, headers=headers, key="write")
    assert first.status_code == 201
    r = published.post(
        "/v1/acceptances",
        json={"user_id": "u2", "policy": "privacy", "version": 2},
        headers=headers,
        key="write",
    )
    assert r.status_code == 409 and r.json()["code"] == "idempotency_key_reused"


def test_withdrawal_without_version_withdraws_the_accepted_one(published: Api) -> None:
    accept(published)
    r = published.post("/v1/withdrawals", json={"user_id": "u1", "policy": "privacy"}, key="write")
    assert r.status_code == 201, r.text
    assert r.json()["event"]["version"] == 2
    assert r.json()["status"]["state"] == "withdrawn"
    assert r.json()["status"]["needs_acceptance"] is True


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"user_id": ""}, "user_id"),
        ({"user_id": 5}, "user_id"),
        ({"user_id": "x" * 256}, "user_id"),
        ({"version": "2"}, "version"),
        ({"version": 0}, "version"),
        ({"version": True}, "version"),
        ({"method": "telepathy"}, "method"),
        ({"ip": "999.1.1.1"}, "ip"),
        ({"locale": "en us!"}, "locale"),
        ({"context": [1, 2]}, "context"),
        ({"context": {"blob": "x" * 5000}}, "context"),
        ({"surprise": 1}, "surprise"),
        ({"policy": None}, "policy"),
    ],
)
def test_invalid_fields_are_422_naming_the_field(
    published: Api, fields: dict[str, Any], field: str
) -> None:
    r = accept(published, **fields)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["field"] == field and field in r.json()["detail"]
    assert published.get("/v1/users/u1/events").status_code == 404


def test_missing_version_is_422(published: Api) -> None:
    r = published.post("/v1/acceptances", json={"user_id": "u1", "policy": "privacy"}, key="write")
    assert r.status_code == 422 and r.json()["field"] == "version"


def test_unknown_policy_or_version_is_404(published: Api) -> None:
    assert accept(published, policy="nope").status_code == 404
    assert accept(published, version=7).status_code == 404


@pytest.mark.parametrize("body", [b"{not json", b"", b"\xff\xfe", b"[1,2]", b'"x"'])
def test_malformed_json_is_400_and_non_objects_422(published: Api, body: bytes) -> None:
    r = published.post(
        "/v1/acceptances", content=body, headers={"Content-Type": "application/json"}, key="write"
    )
    assert r.status_code in (400, 422)
    assert r.status_code == (422 if body in (b"[1,2]", b'"x"') else 400)
    assert r.headers["content-type"] == "application/problem+json"


NESTED = (
    b'{"user_id": "u1", "policy": "privacy", "version": 2, "context": {"a": '
    + (b"[" * 3000 + b"]" * 3000)
    + b"}}"
)


@pytest.mark.parametrize(
    "body",
    [
        NESTED,
        b'{"user_id": "u1", "policy": "privacy", "version": 2, "context": {"x": NaN}}',
        b'{"user_id": "u1", "policy": "privacy", "version": 2, "context": {"x": Infinity}}',
        b'{"user_id": "\\ud800", "policy": "privacy", "version": 2}',
    ],
    ids=["nested-3000", "nan", "infinity", "lone-surrogate"],
)
def test_json_that_python_would_take_but_json_forbids_is_400(published: Api, body: bytes) -> None:
    r = published.post(
        "/v1/acceptances", content=body, headers={"Content-Type": "application/json"}, key="write"
    )
    assert r.status_code == 400, r.text
    assert r.json()["code"] == "malformed_json"
    events = published.get("/v1/users/u1/events", key="read")
    assert events.status_code in (200, 404)
    assert events.status_code == 404 or events.json()["events"] == []


def test_a_deeply_nested_context_is_422_naming_it(published: Api) -> None:
    deep: dict[str, object] = {}
    inner = deep
    for _ in range(200):
        inner["a"] = {}
        inner = inner["a"]  # type: ignore[assignment]
    r = accept(published, context=deep)
    assert r.status_code == 422 and r.json()["field"] == "context"
    assert "nested" in r.json()["detail"]
    r = accept(published, context={"a": {"b": [1, {"c": 2}]}})
    assert r.status_code == 201, r.text


def test_oversize_body_is_413(published: Api) -> None:
    limit = published.client.app.state.tracker.settings.max_body_bytes  # type: ignore[attr-defined]
    r = published.post(
        "/v1/acceptances",
        content=b'{"user_id": "' + b"x" * limit + b'"}',
        headers={"Content-Type": "application/json"},
        key="write",
    )
    assert r.status_code == 413 and r.json()["code"] == "too_large"


def test_events_are_cursor_paginated(published: Api) -> None:
    for i in range(5):
        kind = "/v1/acceptances" if i % 2 == 0 else "/v1/declines"
        published.post(kind, json={"user_id": "u1", "policy": "privacy", "version": 2}, key="write")
    seen: list[int] = []
    cursor = None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = published.get("/v1/users/u1/events", params=params).json()
        seen += [e["id"] for e in page["events"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 5 and seen == sorted(seen)


def test_events_bad_cursor_and_limit_are_422(published: Api) -> None:
    accept(published)
    assert published.get("/v1/users/u1/events", params={"cursor": "zz"}).json()["field"] == "cursor"
    assert published.get("/v1/users/u1/events", params={"limit": "0"}).json()["field"] == "limit"


def test_events_of_an_unknown_user_are_404(published: Api) -> None:
    assert published.get("/v1/users/ghost/events").status_code == 404
