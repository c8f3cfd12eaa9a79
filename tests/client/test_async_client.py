"""AsyncTrackerClient: the same API as TrackerClient, against the real tracker."""

from __future__ import annotations

import pytest

from tests.client.conftest import FAST, Tracker
from tests.client.servers import flaky
from tracker.client import AsyncTrackerClient, AuthError, NotFoundError, ValidationError

pytestmark = pytest.mark.anyio


def client_for(tracker: Tracker, url: str | None = None, key: str = "app") -> AsyncTrackerClient:
    return AsyncTrackerClient(url or tracker.url, tracker.keys.get(key, key), retry=FAST)


async def test_status_accept_and_events(tracker: Tracker, user: str) -> None:
    async with client_for(tracker) as client:
        assert [p.policy for p in (await client.status(user)).pending] == ["privacy", "terms"]
        result = await client.accept(user, "privacy", method="clickwrap", locale="en")
        assert result.created and result.event.version == 2
        assert result.status.state == "accepted"
        await client.decline(user, "terms", 1)
        await client.withdraw(user, "privacy")
        batch = await client.batch_status([user], policy="privacy")
        assert batch[0].policies[0].state == "withdrawn"
        page = await client.events(user, limit=1)
        assert len(page.events) == 1 and page.next_cursor is not None
        kinds = [e.type async for e in client.iter_events(user)]
        assert kinds == ["accepted", "declined", "withdrawn"]


async def test_errors(tracker: Tracker, user: str) -> None:
    async with client_for(tracker, key="ptk_bad_key") as bad:
        with pytest.raises(AuthError):
            await bad.status(user)
    async with client_for(tracker) as client:
        with pytest.raises(NotFoundError):
            await client.accept(user, "cookies", 1)
        with pytest.raises(ValidationError) as caught:
            await client.accept(user, "terms", 1, locale="not a locale!")
        assert caught.value.field == "locale"


async def test_a_retried_write_is_stored_once(tracker: Tracker, user: str) -> None:
    heard: list[str] = []
    with flaky(tracker.url, "close", "lost") as proxy:
        async with client_for(tracker, proxy.url) as client:
            client.on_record(heard.append)
            result = await client.accept(user, "terms", 1)
    assert result.replayed and heard == [user]
    assert [s.action for s in proxy.seen] == ["close", "lost", "forward"]
    assert len({s.idempotency_key for s in proxy.seen}) == 1
    async with client_for(tracker) as client:
        assert len([e async for e in client.iter_events(user)]) == 1
