"""``notices``, ``ack`` and ``acceptance_link`` of both clients against a real tracker.

This module's tracker (its own: the fixture is per module) publishes privacy v3 (major) and
terms v2 (minor) after the users below accepted privacy v2 and terms v1, so each of them has
one notice per policy.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import anyio
import httpx
import pytest

from tests.client.conftest import FAST, Tracker
from tests.service.helpers import T0, payload, policy, version
from tracker.client import (
    AcceptanceLink,
    AsyncTrackerClient,
    AuthError,
    ConflictError,
    NotFoundError,
    Notice,
)

USERS = ("reader", "acker", "closer", "async-reader", "async-acker", "linked")
PRIVACY_3 = version(3, "major", summary="We share less")
TERMS_2 = version(2, "minor", title="Terms", summary="Clearer words")
RETURN = "http://127.0.0.1:8123/back?to=%2Fhome"


@pytest.fixture(scope="module")
def noticed(tracker: Tracker) -> Tracker:
    with tracker.client() as client:
        for user in USERS:
            client.accept(user, "privacy", 2)
            client.accept(user, "terms", 1)
    body = payload(
        policy("privacy", version(1, "major"), version(2, "minor"), PRIVACY_3, title="Privacy"),
        policy("terms", version(1, "major", title="Terms"), TERMS_2, title="Terms"),
    )
    headers = {"Authorization": f"Bearer {tracker.keys['admin']}"}
    r = httpx.post(f"{tracker.url}/v1/admin/versions", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return tracker


def check_pending(notices: list[Notice], user: str) -> None:
    """The two notices every user in USERS has, as typed results."""
    assert all(isinstance(n, Notice) for n in notices)
    privacy, terms = sorted(notices, key=lambda n: n.policy or "")
    assert (privacy.user_id, privacy.policy, privacy.from_version, privacy.to_version) == (
        user,
        "privacy",
        2,
        3,
    )
    assert privacy.significance == "major" and privacy.acceptance_required
    assert privacy.summary == "We share less"
    assert privacy.effective == date.fromisoformat(PRIVACY_3["effective"])
    assert privacy.redline_url == "http://127.0.0.1:8000/privacy/changes/2-3/"
    assert (terms.policy, terms.from_version, terms.to_version) == ("terms", 1, 2)
    assert terms.significance == "minor" and not terms.acceptance_required
    assert terms.summary == "Clearer words"
    for n in notices:
        assert isinstance(n.id, int) and n.id > 0  # as the API states it
        assert n.created_at == T0 and n.acknowledged_at is None and n.state == "pending"


def check_acked(acked: Notice, notice: Notice) -> None:
    assert acked.id == notice.id and acked.user_id == notice.user_id
    assert (acked.policy, acked.to_version) == (notice.policy, notice.to_version)
    assert acked.acknowledged_at == T0  # the tracker's clock
    assert acked.state == "acknowledged"
    assert isinstance(acked.acknowledged_at, datetime)


# The blocking client


def test_notices_are_typed(noticed: Tracker) -> None:
    with noticed.client("read") as reader:  # reading notices needs the read scope only
        check_pending(reader.notices("reader"), "reader")
        assert reader.notices("reader", include_acknowledged=True) == reader.notices("reader")
        assert reader.notices("someone-who-accepted-nothing") == []


def test_ack_returns_the_notice_and_is_idempotent(noticed: Tracker) -> None:
    with noticed.client() as client:
        notices = client.notices("acker")
        privacy = next(n for n in notices if n.policy == "privacy")
        acked = client.ack(privacy.id)
        check_acked(acked, privacy)
        noticed.clock.now = T0 + timedelta(hours=1)
        try:
            again = client.ack(int(privacy.id))  # an int id is the same notice
        finally:
            noticed.clock.now = T0
        assert again == acked  # the first acknowledgement is kept
        assert [n.policy for n in client.notices("acker")] == ["terms"]
        every = client.notices("acker", include_acknowledged=True)
        assert {n.id: n.acknowledged_at for n in every} == {
            n.id: (T0 if n.id == privacy.id else None) for n in notices
        }


def test_all_notices_tell_open_from_closed(noticed: Tracker) -> None:
    with noticed.client() as client:
        client.accept("closer", "privacy", 3)  # closes the privacy notice
        assert [n.policy for n in client.notices("closer")] == ["terms"]
        every = client.notices("closer", include_acknowledged=True)
    assert {n.policy: (n.state, n.acknowledged_at) for n in every} == {
        "privacy": ("accepted", None),
        "terms": ("pending", None),
    }


def test_ack_errors(noticed: Tracker) -> None:
    with noticed.client() as client:
        notice = client.notices("reader")[0]
        with pytest.raises(NotFoundError) as caught:
            client.ack(999_999_999)
        assert caught.value.status == 404 and caught.value.code == "notice_not_found"
        with pytest.raises(NotFoundError):
            client.ack("not-a-number")
    with noticed.client("read") as reader, pytest.raises(AuthError) as denied:
        reader.ack(notice.id)
    assert denied.value.status == 403
    with noticed.client() as client:
        assert len(client.notices("reader")) == 2  # nothing was acknowledged


def test_acceptance_link(noticed: Tracker) -> None:
    with noticed.client() as client:
        link = client.acceptance_link("linked", RETURN, policies=["privacy"], locale="en")
        assert isinstance(link, AcceptanceLink)
        assert link.url.startswith(f"{noticed.url}/accept/") and "linked" not in link.url
        assert link.expires_at == T0 + timedelta(seconds=900)  # the tracker's clock
        everything = client.acceptance_link("linked", RETURN)
        assert everything.url != link.url
    page = httpx.get(link.url, headers={"Accept": "text/html"})
    assert page.status_code == 200 and "Privacy" in page.text, page.text[:500]


def test_acceptance_link_is_idempotent_per_key(noticed: Tracker) -> None:
    with noticed.client() as client:
        first = client.acceptance_link("linked", RETURN, idempotency_key="link-1")
        assert client.acceptance_link("linked", RETURN, idempotency_key="link-1") == first
        with pytest.raises(ConflictError) as caught:
            client.acceptance_link("someone-else", RETURN, idempotency_key="link-1")
        assert caught.value.code == "idempotency_key_reused"


def test_acceptance_link_errors(noticed: Tracker) -> None:
    with noticed.client() as client:
        with pytest.raises(AuthError) as caught:
            client.acceptance_link("linked", "https://elsewhere.example/back")
        assert caught.value.status == 403 and caught.value.code == "return_url_not_allowed"
        with pytest.raises(NotFoundError):
            client.acceptance_link("linked", RETURN, policies=["cookies"])
    with noticed.client("read") as reader, pytest.raises(AuthError):
        reader.acceptance_link("linked", RETURN)


# The asyncio client


def async_client(tracker: Tracker, key: str = "app") -> AsyncTrackerClient:
    return AsyncTrackerClient(tracker.url, tracker.keys.get(key, key), retry=FAST)


@pytest.mark.anyio
async def test_async_notices_ack_and_link(noticed: Tracker) -> None:
    async with async_client(noticed) as client:
        check_pending(await client.notices("async-reader"), "async-reader")
        notices = await client.notices("async-acker")
        terms = next(n for n in notices if n.policy == "terms")
        acked = await client.ack(terms.id)
        check_acked(acked, terms)
        assert await client.ack(terms.id) == acked
        assert [n.policy for n in await client.notices("async-acker")] == ["privacy"]
        every = await client.notices("async-acker", include_acknowledged=True)
        assert sorted(n.acknowledged_at is not None for n in every) == [False, True]
        with pytest.raises(NotFoundError):
            await client.ack(999_999_999)
        link = await client.acceptance_link("linked", RETURN, policies=["terms"])
        assert link.url.startswith(f"{noticed.url}/accept/")
        assert link.expires_at == T0 + timedelta(seconds=900)
    async with async_client(noticed, "read") as reader:
        with pytest.raises(AuthError):
            await reader.ack(terms.id)


def test_the_sync_and_async_clients_parse_alike(noticed: Tracker) -> None:
    with noticed.client() as client:
        sync = client.notices("async-reader")

    async def fetch() -> list[Notice]:
        async with async_client(noticed) as client:
            return await client.notices("async-reader")

    assert anyio.run(fetch) == sync
