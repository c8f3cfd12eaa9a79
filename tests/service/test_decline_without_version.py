"""``POST /v1/declines`` without ``version`` declines the version in force."""

from __future__ import annotations

from datetime import date
from typing import Any

from tests.api import Api
from tests.service.helpers import Clock, payload, policy, version


def decline(api: Api, slug: str = "privacy") -> Any:
    return api.post("/v1/declines", json={"user_id": "u1", "policy": slug}, key="write")


def test_a_decline_without_version_records_the_version_in_force(api: Api, clock: Clock) -> None:
    upcoming = version(3, "major", effective=date(2025, 2, 1))
    body = payload(policy("privacy", version(1, "major"), version(2, "minor"), upcoming))
    assert api.post("/v1/admin/versions", json=body).status_code == 201

    r = decline(api)
    assert r.status_code == 201, r.text
    got = r.json()
    assert got["event"]["type"] == "declined" and got["event"]["version"] == 2
    assert got["event"]["sha256"] == body["policies"][0]["versions"][1]["sha256"]
    assert got["status"]["state"] == "declined"
    again = decline(api)
    assert again.status_code == 200 and again.json()["created"] is False

    clock.advance(31)  # version 3 is in force from 2025-02-01
    later = decline(api)
    assert later.status_code == 201, later.text
    assert later.json()["event"]["version"] == 3
    events = api.get("/v1/users/u1/events").json()["events"]
    assert [(e["type"], e["version"]) for e in events] == [("declined", 2), ("declined", 3)]


def test_a_decline_without_version_before_any_is_in_force_is_422(api: Api) -> None:
    first = version(1, "major", effective=date(2025, 3, 1))
    assert api.post("/v1/admin/versions", json=payload(policy("privacy", first))).status_code == 201
    r = decline(api)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == "version"
    assert "no version in force" in r.json()["detail"]
    events = api.get("/v1/users/u1/events")
    assert events.status_code == 404 or events.json()["events"] == []
