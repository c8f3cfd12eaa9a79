"""Retries against a real flaky proxy in front of the real tracker: backoff, Retry-After,
timeouts, and one Idempotency-Key per logical write, so a retried write is stored once."""

from __future__ import annotations

import time

import pytest

from tests.client.conftest import FAST, Tracker
from tests.client.servers import Seen, closed_port, flaky
from tracker.client import (
    RateLimitedError,
    Retry,
    ServerError,
    TrackerClient,
    TransportError,
)


def one_key(seen: list[Seen]) -> str:
    keys = {s.idempotency_key for s in seen}
    assert len(keys) == 1 and None not in keys, keys
    return str(keys.pop())


def test_a_write_retried_after_a_503_sends_the_same_key(tracker: Tracker, user: str) -> None:
    with (
        flaky(tracker.url, "503", "503") as proxy,
        TrackerClient(proxy.url, tracker.keys["app"], retry=FAST) as client,
    ):
        result = client.accept(user, "privacy", 2)
    assert result.created and not result.replayed
    assert [s.action for s in proxy.seen] == ["503", "503", "forward"]
    one_key(proxy.seen)


def test_a_write_whose_answer_was_lost_is_replayed_not_repeated(
    tracker: Tracker, user: str
) -> None:
    with (
        flaky(tracker.url, "lost") as proxy,
        TrackerClient(proxy.url, tracker.keys["app"], retry=FAST) as client,
    ):
        result = client.decline(user, "terms", 1)
    assert result.replayed and result.event.type == "declined"
    assert [s.action for s in proxy.seen] == ["lost", "forward"]
    one_key(proxy.seen)
    with tracker.client() as direct:
        assert len(list(direct.iter_events(user))) == 1


def test_each_logical_write_gets_its_own_key(tracker: Tracker, user: str) -> None:
    with (
        flaky(tracker.url) as proxy,
        TrackerClient(proxy.url, tracker.keys["app"], retry=FAST) as client,
    ):
        client.accept(user, "terms", 1)
        client.withdraw(user, "terms")
    keys = [s.idempotency_key for s in proxy.seen]
    assert len(keys) == 2 and len(set(keys)) == 2


def test_a_dropped_connection_is_retried(tracker: Tracker, user: str) -> None:
    with (
        flaky(tracker.url, "close") as proxy,
        TrackerClient(proxy.url, tracker.keys["app"], retry=FAST) as client,
    ):
        assert client.status(user).needs_acceptance
        client.accept(user, "terms", 1)
    assert [s.action for s in proxy.seen] == ["close", "forward", "forward"]


def test_a_timed_out_write_that_lands_late_is_stored_once(tracker: Tracker, user: str) -> None:
    with (
        # Wide margins: the retry must not time out too on a loaded machine.
        flaky(tracker.url, "slow:2.5") as proxy,
        TrackerClient(proxy.url, tracker.keys["app"], retry=FAST, timeout=1.0) as client,
    ):
        result = client.accept(user, "terms", 1)
        assert result.event.version == 1
    # The proxy has closed: the slow first attempt reached the tracker too, with the same key.
    assert [s.action for s in proxy.seen] == ["slow:2.5", "forward"]
    one_key(proxy.seen)
    with tracker.client() as direct:
        assert len(list(direct.iter_events(user))) == 1


def test_retry_after_is_honoured(tracker: Tracker, user: str) -> None:
    with (
        flaky(tracker.url, "429:1") as proxy,
        TrackerClient(proxy.url, tracker.keys["app"], retry=FAST) as client,
    ):
        started = time.monotonic()
        client.status(user)
        waited = time.monotonic() - started
    assert waited >= 0.95, waited
    assert [s.action for s in proxy.seen] == ["429:1", "forward"]


def test_a_retry_after_beyond_the_limit_fails_at_once(tracker: Tracker, user: str) -> None:
    retry = Retry(attempts=3, backoff=0.01, max_retry_after=5)
    with (
        flaky(tracker.url, "429:120") as proxy,
        TrackerClient(proxy.url, tracker.keys["app"], retry=retry) as client,
        pytest.raises(RateLimitedError) as caught,
    ):
        client.status(user)
    assert caught.value.status == 429 and caught.value.retry_after == 120
    assert len(proxy.seen) == 1


def test_giving_up_on_5xx_raises_a_server_error(tracker: Tracker, user: str) -> None:
    with (
        flaky(tracker.url, "503", "503", "503", "503") as proxy,
        TrackerClient(proxy.url, tracker.keys["app"], retry=FAST) as client,
        pytest.raises(ServerError) as caught,
    ):
        client.accept(user, "terms", 1)
    assert caught.value.status == 503 and caught.value.message == "try later"
    assert len(proxy.seen) == 3
    one_key(proxy.seen)


def test_retries_can_be_turned_off(tracker: Tracker, user: str) -> None:
    with (
        flaky(tracker.url, "lost") as proxy,
        TrackerClient(proxy.url, tracker.keys["app"], retry=Retry(attempts=1)) as client,
        pytest.raises(ServerError) as caught,
    ):
        client.accept(user, "terms", 1)
    # A non-JSON error body still makes a readable error.
    assert caught.value.code == "http_503" and "bad gateway" in caught.value.message
    assert len(proxy.seen) == 1


def test_no_server_is_a_transport_error(user: str) -> None:
    with (
        TrackerClient(closed_port(), "ptk_x", retry=FAST) as client,
        pytest.raises(TransportError) as caught,
    ):
        client.status(user)
    assert caught.value.status is None and caught.value.code == "connection_error"
    assert "3 attempts" in caught.value.message
