"""An acceptance imported from another system keeps its original time: ``accepted_at`` only
with method ``import``, only with an ``admin`` key, never in the future; chained like any
event."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.api import Api
from tests.service.helpers import T0, Clock, payload, policy, version
from tracker import audit
from tracker.settings import Settings
from tracker.store import Store

ORIGINAL = T0 - timedelta(days=400, hours=3)


def _publish(api: Api) -> None:
    body = payload(policy("privacy", version(1, "major"), version(2, "major")))
    assert api.post("/v1/admin/versions", json=body).status_code == 201


def test_an_imported_acceptance_keeps_its_time_and_is_chained(
    api: Api, store: Store, settings: Settings
) -> None:
    _publish(api)
    body = {
        "user_id": "ann",
        "policy": "privacy",
        "version": 1,
        "method": "import",
        "ip": "192.0.2.7",
        # Another zone: stored and answered in UTC.
        "accepted_at": ORIGINAL.astimezone().isoformat(),
    }
    answer = api.post("/v1/acceptances", json=body)
    assert answer.status_code == 201, answer.text
    event = answer.json()["event"]
    assert (event["method"], event["ip"], event["recorded_at"]) == (
        "import",
        "192.0.2.7",
        ORIGINAL.isoformat(),
    )
    status = api.get("/v1/users/ann/status", key="read").json()["policies"][0]
    assert (status["accepted_version"], status["needs_acceptance"]) == (1, True)
    assert status["accepted_at"] == ORIGINAL.isoformat()
    listed = api.get("/v1/users/ann/events", key="read").json()["events"]
    assert [e["recorded_at"] for e in listed] == [ORIGINAL.isoformat()]
    # A later acceptance through the app chains after it.
    later = {"user_id": "ann", "policy": "privacy", "version": 2}
    assert api.post("/v1/acceptances", json=later, key="write").status_code == 201
    assert audit.verify(store, settings).ok


@pytest.mark.parametrize(
    ("change", "key", "status", "line"),
    [
        ({"method": "api"}, "admin", 422, "accepted_at: is taken only with method import"),
        ({}, "write", 403, "an original accepted_at needs an API key with the 'admin' scope"),
        (
            {"accepted_at": (T0 + timedelta(seconds=1)).isoformat()},
            "admin",
            422,
            "accepted_at: must not be in the future",
        ),
        ({"accepted_at": "2024-01-01T00:00:00"}, "admin", 422, "accepted_at: must include"),
    ],
)
def test_refused_original_times_record_nothing(
    api: Api, clock: Clock, change: dict[str, str], key: str, status: int, line: str
) -> None:
    _publish(api)
    body = {
        "user_id": "bo",
        "policy": "privacy",
        "version": 1,
        "method": "import",
        "accepted_at": ORIGINAL.isoformat(),
        **change,
    }
    answer = api.post("/v1/acceptances", json=body, key=key)
    assert answer.status_code == status, answer.text
    problem = answer.json()
    said = problem["detail"]
    assert said.startswith(line), said
    assert "\n" not in said
    assert api.get("/v1/users/bo/events", key="read").status_code == 404


def test_declines_take_no_original_time(api: Api) -> None:
    _publish(api)
    body = {"user_id": "cy", "policy": "privacy", "method": "import"}
    answer = api.post("/v1/declines", json={**body, "accepted_at": ORIGINAL.isoformat()})
    assert answer.status_code == 422
    assert answer.json()["field"] == "accepted_at"
