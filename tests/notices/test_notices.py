"""Notices: created with the version (set-based, idempotent), listed, acknowledged,
superseded, shown in the status answer, counted; a failed publish stores nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from tests.api import Api
from tests.notices.helpers import accept, publish
from tests.service.helpers import payload, policy, version
from tracker.store import Store
from tracker.store.models import VersionRow
from tracker.store.notices import DeliveryRow, MessageRow, NoticeRow


@pytest.fixture
def accepted(api: Api) -> Api:
    """alice and bob accepted v1, carol v2 (minor); dave declined v1."""
    publish(api, version(1, "major"))
    accept(api, "alice", 1)
    accept(api, "bob", 1)
    accept(api, "dave", 1)
    body = {"user_id": "dave", "policy": "privacy", "version": 1}
    assert api.post("/v1/declines", json=body, key="write").status_code == 201
    publish(api, version(1, "major"), version(2, "patch"))
    accept(api, "carol", 2)
    return api


def _count(store: Store, model: Any) -> int:
    with store.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_major_version_creates_one_notice_per_user_who_accepted_an_earlier_one(
    accepted: Api, store: Store
) -> None:
    publish(accepted, version(1, "major"), version(2, "patch"), version(3, "major", summary="New"))
    notices = accepted.get("/v1/users/alice/notices").json()["notices"]
    assert len(notices) == 1
    n = notices[0]
    assert (n["from_version"], n["to_version"], n["significance"]) == (1, 3, "major")
    assert n["acceptance_required"] is True and n["summary"] == "New"
    assert n["redline_url"] == "https://policies.example.com/privacy/changes/1-3/"
    assert n["state"] == "pending"
    carol = accepted.get("/v1/users/carol/notices").json()["notices"]
    assert [(c["from_version"], c["to_version"]) for c in carol] == [(2, 3)]
    assert accepted.get("/v1/users/dave/notices").json()["notices"] == []
    assert _count(store, NoticeRow) == 3
    # Publishing the same version again creates nothing more.
    publish(accepted, version(1, "major"), version(2, "patch"), version(3, "major", summary="New"))
    assert _count(store, NoticeRow) == 3
    stats = accepted.get("/v1/policies/privacy/versions/3/notices/stats").json()
    assert stats == {
        "policy": "privacy",
        "version": 3,
        "created": 3,
        "acknowledged": 0,
        "pending": 3,
        "superseded": 0,
        "accepted": 0,
    }


def test_patch_versions_create_no_notice(accepted: Api, store: Store) -> None:
    publish(accepted, version(1, "major"), version(2, "patch"), version(3, "patch"))
    assert _count(store, NoticeRow) == 0


def test_status_shows_pending_notices(accepted: Api) -> None:
    publish(accepted, version(1, "major"), version(2, "patch"), version(3, "minor"))
    status = accepted.get("/v1/users/alice/status").json()["policies"][0]
    assert [n["to_version"] for n in status["notices"]] == [3]
    assert status["notices"][0]["significance"] == "minor"
    assert status["notices"][0]["acceptance_required"] is False
    # The status answer carries the same notice object as the notices listing.
    assert status["notices"] == accepted.get("/v1/users/alice/notices").json()["notices"]
    batch = accepted.post("/v1/status/batch", json={"user_ids": ["alice", "zed"]}).json()
    assert [len(u["policies"][0]["notices"]) for u in batch["users"]] == [1, 0]


def test_ack_is_idempotent_and_records_when_and_which_app(accepted: Api, api: Api) -> None:
    publish(accepted, version(1, "major"), version(2, "patch"), version(3, "minor"))
    notice = accepted.get("/v1/users/alice/notices").json()["notices"][0]
    first = accepted.post(f"/v1/notices/{notice['id']}/ack", key="write")
    assert first.status_code == 201, first.text
    again = accepted.post(f"/v1/notices/{notice['id']}/ack", key="admin")
    assert again.status_code == 200
    assert again.json()["acknowledged_at"] == first.json()["acknowledged_at"]
    assert again.json()["acknowledged_by"] == first.json()["acknowledged_by"] is not None
    assert accepted.get("/v1/users/alice/notices").json()["notices"] == []
    every = accepted.get("/v1/users/alice/notices?state=all").json()["notices"]
    assert [n["state"] for n in every] == ["acknowledged"]
    assert accepted.post("/v1/notices/999999/ack", key="write").status_code == 404
    assert accepted.post(f"/v1/notices/{notice['id']}/ack", key="read").status_code == 403
    stats = accepted.get("/v1/policies/privacy/versions/3/notices/stats").json()
    assert (stats["acknowledged"], stats["pending"]) == (1, 2)


def test_a_later_version_supersedes_an_unacknowledged_notice(accepted: Api) -> None:
    publish(accepted, version(1, "major"), version(2, "patch"), version(3, "major", summary="A"))
    publish(
        accepted,
        version(1, "major"),
        version(2, "patch"),
        version(3, "major", summary="A"),
        version(4, "minor", summary="B"),
    )
    pending = accepted.get("/v1/users/alice/notices").json()["notices"]
    assert len(pending) == 1
    one = pending[0]
    assert (one["from_version"], one["to_version"], one["significance"]) == (1, 4, "major")
    assert one["summary"] == "A; B"
    assert one["redline_url"].endswith("/privacy/changes/1-4/")
    states = [
        n["state"] for n in accepted.get("/v1/users/alice/notices?state=all").json()["notices"]
    ]
    assert states == ["superseded", "pending"]


def test_accepting_the_new_version_closes_its_notice(accepted: Api) -> None:
    publish(accepted, version(1, "major"), version(2, "patch"), version(3, "major"))
    accept(accepted, "alice", 3)
    assert accepted.get("/v1/users/alice/notices").json()["notices"] == []
    closed = accepted.get("/v1/users/alice/notices?state=accepted").json()["notices"]
    assert [n["to_version"] for n in closed] == [3]


def test_bad_notice_queries(accepted: Api) -> None:
    assert accepted.get("/v1/users/alice/notices?state=nope").status_code == 422
    assert accepted.get("/v1/users/alice/notices?policy=nope").status_code == 404
    assert accepted.get("/v1/policies/privacy/versions/9/notices/stats").status_code == 404


def test_publishing_that_fails_half_way_stores_nothing(
    accepted: Api, store: Store, monkeypatch: pytest.MonkeyPatch, receiver: Any
) -> None:
    hook = accepted.post("/v1/admin/webhooks", json={"url": receiver.url()})
    assert hook.status_code == 201, hook.text
    from tracker.store import notices

    real = notices.on_versions_created

    def fail_after_fan_out(*args: Any, **kw: Any) -> int:
        made = real(*args, **kw)
        assert made > 0 and _count_in(args[0], NoticeRow) > 0
        raise RuntimeError("injected failure after the version insert")

    monkeypatch.setattr(notices, "on_versions_created", fail_after_fan_out)
    r = accepted.post(
        "/v1/admin/versions",
        json=payload(
            policy("privacy", version(1, "major"), version(2, "patch"), version(3, "major"))
        ),
    )
    assert r.status_code == 500
    with store.read() as session:
        assert session.scalar(select(func.max(VersionRow.number))) == 2
    assert _count(store, NoticeRow) == 0
    assert _count(store, MessageRow) == 0
    assert _count(store, DeliveryRow) == 0


def _count_in(session: Any, model: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_stale_acceptance_gets_the_notice_the_fan_out_would_have_made(
    accepted: Api, store: Store, receiver: Any
) -> None:
    hook = accepted.post("/v1/admin/webhooks", json={"url": receiver.url()})
    assert hook.status_code == 201, hook.text
    publish(accepted, version(1, "major"), version(2, "patch"), version(3, "minor"))
    # erin's app shows v1 after v3 was published: erin is told of v3 like everyone else.
    accept(accepted, "erin", 1)
    erin = accepted.get("/v1/users/erin/notices").json()["notices"]
    assert [(n["from_version"], n["to_version"], n["significance"]) for n in erin] == [
        (1, 3, "minor")
    ]
    status = accepted.get("/v1/users/erin/status").json()["policies"][0]
    assert [n["to_version"] for n in status["notices"]] == [3]
    with store.read() as session:
        created = session.scalars(
            select(MessageRow.data).where(MessageRow.event_type == "notice.created")
        ).all()
    # the fan-out's (alice and bob from v1, carol from v2), then erin's alone
    assert len(created) == 3
    assert created[-1]["first_notice_id"] == created[-1]["last_notice_id"] == erin[0]["id"]
    # Accepting again, or accepting the newest version, tells nobody anything more.
    accept(accepted, "erin", 1)
    accept(accepted, "frank", 3)
    assert accepted.get("/v1/users/frank/notices").json()["notices"] == []
    assert len(accepted.get("/v1/users/erin/notices?state=all").json()["notices"]) == 1


def test_an_acceptance_racing_the_fan_out_still_gets_its_notice(
    accepted: Api, store: Store
) -> None:
    """PostgreSQL runs both at once: the fan-out must not miss an acceptance that commits
    while it runs (on SQLite, writers take turns)."""
    import threading

    from tracker.service.api.admin import parse_policies
    from tracker.store import publish as store_publish

    policies = parse_policies(
        payload(policy("privacy", version(1, "major"), version(2, "patch"), version(3, "major")))
    )
    fanned_out = threading.Event()
    commit = threading.Event()
    failures: list[BaseException] = []

    def publisher() -> None:
        try:

            def work(session: Any) -> None:
                store_publish(session, policies)
                fanned_out.set()
                assert commit.wait(30)

            store.write(work)
        except BaseException as exc:  # reported by the test
            failures.append(exc)
            fanned_out.set()

    thread = threading.Thread(target=publisher)
    thread.start()
    assert fanned_out.wait(30)
    done = threading.Event()

    def acceptor() -> None:
        accept(accepted, "erin", 1)
        done.set()

    other = threading.Thread(target=acceptor)
    other.start()
    if store.dialect == "postgresql":
        # the acceptance waits for the publication to commit (the fan-out's lock)
        assert not done.wait(0.5)
    commit.set()
    thread.join(30)
    other.join(30)
    assert not failures, failures
    assert done.is_set()
    erin = accepted.get("/v1/users/erin/notices").json()["notices"]
    assert [(n["from_version"], n["to_version"]) for n in erin] == [(1, 3)]
