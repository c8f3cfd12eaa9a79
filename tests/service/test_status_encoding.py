"""The status answer: its hand-assembled JSON, and reads that see every committed write."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st
from starlette.testclient import TestClient

from tests.api import Api
from tests.service.helpers import Clock, payload, policy, version
from tracker.answers.status import iso_utc
from tracker.service.app import create_app
from tracker.settings import Settings


@given(st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(9999, 12, 31)))
def test_sqlite_text_is_rewritten_as_isoformat_would(naive: datetime) -> None:
    # SQLAlchemy's SQLite storage format for a naive UTC datetime.
    stored = naive.strftime("%Y-%m-%d %H:%M:%S.%f")
    assert iso_utc(stored) == naive.replace(tzinfo=UTC).isoformat()
    assert iso_utc(naive.replace(tzinfo=UTC)) == naive.replace(tzinfo=UTC).isoformat()


def test_other_forms_take_the_general_path() -> None:
    assert iso_utc(None) is None
    assert iso_utc("2024-05-01 10:00:00") == "2024-05-01T10:00:00+00:00"


def test_status_sees_an_acceptance_written_by_another_process(
    api: Api, settings: Settings, keys: dict[str, str], clock: Clock
) -> None:
    """Quick reads keep their connection between requests, never their transaction."""
    body = payload(policy("privacy", version(1, "major")))
    assert api.post("/v1/admin/versions", json=body).status_code in (200, 201)
    before = api.get("/v1/users/u1/status", key="read").json()["policies"][0]
    assert before["state"] == "never_accepted"
    # Another app with its own store (its own engine and connections), as another process.
    with TestClient(create_app(settings, clock=clock)) as other:
        accepted = other.post(
            "/v1/acceptances",
            json={"user_id": "u1", "policy": "privacy", "version": 1},
            headers={"Authorization": f"Bearer {keys['write']}"},
        )
        assert accepted.status_code in (200, 201), accepted.text
    after = api.get("/v1/users/u1/status", key="read").json()["policies"][0]
    assert (after["state"], after["accepted_version"]) == ("accepted", 1)
    batch = api.post("/v1/status/batch", json={"user_ids": ["u1", "u2"]}, key="read").json()
    assert [u["policies"][0]["state"] for u in batch["users"]] == ["accepted", "never_accepted"]
