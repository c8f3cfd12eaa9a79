"""The status rules, single and batch, and version stats."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from tests.api import Api
from tests.service.helpers import Clock, payload, policy, version


def publish(api: Api, *versions: dict[str, Any], slug: str = "privacy", **settings: Any) -> None:
    r = api.post("/v1/admin/versions", json=payload(policy(slug, *versions, **settings)))
    assert r.status_code in (200, 201), r.text


def event(api: Api, kind: str, number: int | None, user: str = "u1", slug: str = "privacy") -> Any:
    body: dict[str, Any] = {"user_id": user, "policy": slug}
    if number is not None:
        body["version"] = number
    r = api.post(f"/v1/{kind}", json=body, key="write")
    assert r.status_code in (200, 201), r.text
    return r.json()


def status(api: Api, user: str = "u1", slug: str = "privacy") -> dict[str, Any]:
    r = api.get(f"/v1/users/{user}/status", params={"policy": slug}, key="read")
    assert r.status_code == 200, r.text
    got = r.json()["policies"]
    assert len(got) == 1
    return dict(got[0])


def test_never_accepted(api: Api) -> None:
    publish(api, version(1, "major"))
    got = status(api)
    assert got["state"] == "never_accepted" and got["needs_acceptance"] is True
    assert got["current_version"] == 1 and got["accepted_version"] is None


@pytest.mark.parametrize("significance", ["minor", "patch"])
def test_minor_and_patch_never_require_acceptance(api: Api, significance: str) -> None:
    publish(api, version(1, "major"))
    event(api, "acceptances", 1)
    publish(api, version(1, "major"), version(2, significance))
    got = status(api)
    assert got["state"] == "accepted" and got["needs_acceptance"] is False
    assert got["current_version"] == 2 and got["accepted_version"] == 1


def test_major_requires_acceptance_once_effective(api: Api, clock: Clock) -> None:
    publish(api, version(1, "major"))
    event(api, "acceptances", 1)
    publish(api, version(1, "major"), version(2, "major", effective=date(2025, 1, 31)))
    got = status(api)
    assert got["state"] == "accepted" and got["needs_acceptance"] is False
    assert got["upcoming"] == {
        "version": 2,
        "significance": "major",
        "effective": "2025-01-31",
        "summary": "v2",
    }
    assert got["accept_by"] == "2025-01-31"
    clock.advance(30)
    got = status(api)
    assert got["state"] == "major_change" and got["needs_acceptance"] is True
    assert got["upcoming"] is None and got["current_version"] == 2
    event(api, "acceptances", 2)
    got = status(api)
    assert got["state"] == "accepted" and got["needs_acceptance"] is False
    assert got["accept_by"] is None


def test_upcoming_major_may_be_accepted_early(api: Api, clock: Clock) -> None:
    publish(api, version(1, "major"), version(2, "major", effective=date(2025, 1, 31)))
    event(api, "acceptances", 2)
    clock.advance(60)
    got = status(api)
    assert got["state"] == "accepted" and got["accepted_version"] == 2


@pytest.mark.parametrize("kind", ["declines", "withdrawals"])
def test_decline_or_withdrawal_requires_acceptance_again(api: Api, kind: str) -> None:
    publish(api, version(1, "major"))
    event(api, "acceptances", 1)
    event(api, kind, 1)
    got = status(api)
    assert got["state"] == kind.removesuffix("s").replace("withdrawal", "withdrawn").replace(
        "decline", "declined"
    )
    assert got["needs_acceptance"] is True
    assert got["accepted_version"] == 1
    event(api, "acceptances", 1)
    assert status(api)["state"] == "accepted"


def test_acceptance_not_required_reports_state_only(api: Api) -> None:
    publish(api, version(1, "major"), slug="cookies", acceptance_required=False)
    got = status(api, slug="cookies")
    assert got["state"] == "never_accepted" and got["needs_acceptance"] is False


def test_status_of_all_policies(api: Api) -> None:
    publish(api, version(1, "major"))
    publish(api, version(1, "major"), slug="legal/terms")
    event(api, "acceptances", 1, slug="legal/terms")
    got = api.get("/v1/users/u1/status", key="read").json()
    states = {p["policy"]: p["state"] for p in got["policies"]}
    assert states == {"legal/terms": "accepted", "privacy": "never_accepted"}


def test_status_with_unknown_policy_is_404(api: Api) -> None:
    publish(api, version(1, "major"))
    assert api.get("/v1/users/u1/status", params={"policy": "nope"}).status_code == 404


def test_user_ids_with_odd_characters(api: Api) -> None:
    publish(api, version(1, "major"))
    for user in ["a/b", "ü ser", "user@example.org"]:
        event(api, "acceptances", 1, user=user)
        from urllib.parse import quote

        r = api.get(f"/v1/users/{quote(user, safe='')}/status", key="read")
        assert r.status_code == 200, (user, r.text)
        assert r.json()["user_id"] == user
        assert r.json()["policies"][0]["state"] == "accepted"


def test_batch_status(api: Api) -> None:
    publish(api, version(1, "major"))
    event(api, "acceptances", 1, user="a")
    event(api, "declines", 1, user="b")
    users = ["a", "b", "c"] + [f"x{i}" for i in range(9_997)]
    r = api.post("/v1/status/batch", json={"user_ids": users, "policy": "privacy"}, key="read")
    assert r.status_code == 200, r.text
    got = r.json()["users"]
    assert [u["user_id"] for u in got[:3]] == ["a", "b", "c"]
    assert [u["policies"][0]["state"] for u in got[:3]] == [
        "accepted",
        "declined",
        "never_accepted",
    ]
    assert len(got) == 10_000


def test_batch_status_limits(api: Api) -> None:
    publish(api, version(1, "major"))
    r = api.post("/v1/status/batch", json={"user_ids": [f"u{i}" for i in range(10_001)]})
    assert r.status_code == 422 and r.json()["field"] == "user_ids"
    r = api.post("/v1/status/batch", json={"user_ids": []})
    assert r.status_code == 422
    r = api.post("/v1/status/batch", json={"user_ids": ["a", 3]})
    assert r.status_code == 422 and r.json()["field"] == "user_ids[1]"
    r = api.post("/v1/status/batch", json={"user_ids": ["a"], "policy": "nope"})
    assert r.status_code == 404


def test_version_stats(api: Api, clock: Clock) -> None:
    publish(api, version(1, "major"), version(2, "minor"))
    event(api, "acceptances", 1, user="a")
    event(api, "acceptances", 2, user="b")
    event(api, "declines", 2, user="c")
    event(api, "acceptances", 2, user="d")
    event(api, "withdrawals", None, user="d")
    got = api.get("/v1/policies/privacy/versions/2/stats", key="read").json()
    assert got == {
        "policy": "privacy",
        "version": 2,
        "users": 4,
        "accepted": 2,
        "accepted_current": 1,
        "declined": 1,
        "needs_acceptance": 2,
    }
    publish(api, version(1, "major"), version(2, "minor"), version(3, "major"))
    got = api.get("/v1/policies/privacy/versions/3/stats", key="read").json()
    assert got["needs_acceptance"] == 4 and got["accepted"] == 0
