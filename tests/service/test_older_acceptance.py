"""An acceptance of an older version than the one the user accepted last is recorded but
does not lower the user's state, and the answer says so."""

from __future__ import annotations

from tests.api import Api
from tests.service.helpers import payload, policy, version


def test_an_older_acceptance_keeps_the_newer_one(api: Api) -> None:
    body = payload(policy("privacy", version(1, "major"), version(2, "major")))
    assert api.post("/v1/admin/versions", json=body).status_code == 201
    accept = {"user_id": "ann", "policy": "privacy"}
    newer = api.post("/v1/acceptances", json={**accept, "version": 2}, key="write").json()
    assert newer["kept_version"] is None
    older = api.post("/v1/acceptances", json={**accept, "version": 1}, key="write")
    assert older.status_code == 201, older.text
    answer = older.json()
    assert answer["created"] is True  # recorded: the audit trail has it
    assert answer["event"]["version"] == 1
    assert answer["kept_version"] == 2
    status = answer["status"]
    assert (status["state"], status["accepted_version"], status["needs_acceptance"]) == (
        "accepted",
        2,
        False,
    )
    assert status["accepted_at"] == newer["status"]["accepted_at"]
    again = api.get("/v1/users/ann/status", key="read").json()["policies"][0]
    assert (again["state"], again["accepted_version"]) == ("accepted", 2)
    assert again["notices"] == []
    events = api.get("/v1/users/ann/events", key="read").json()["events"]
    assert [e["version"] for e in events if e["type"] == "accepted"] == [2, 1]


def test_after_a_decline_an_older_acceptance_counts(api: Api) -> None:
    body = payload(policy("privacy", version(1, "major"), version(2, "major")))
    assert api.post("/v1/admin/versions", json=body).status_code == 201
    accept = {"user_id": "bo", "policy": "privacy"}
    api.post("/v1/acceptances", json={**accept, "version": 2}, key="write")
    api.post("/v1/declines", json={**accept, "version": 2}, key="write")
    answer = api.post("/v1/acceptances", json={**accept, "version": 1}, key="write").json()
    assert answer["kept_version"] is None
    assert (answer["status"]["state"], answer["status"]["accepted_version"]) == (
        "major_change",
        1,
    )
