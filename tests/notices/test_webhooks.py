"""Webhooks end to end on a real receiver (every request verified with ``standardwebhooks``),
and each fault on a controllable clock: 500, timeout, 410, 429 + Retry-After, a dropped
connection, a redirect, an expired lease."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import jsonschema
import pytest
from sqlalchemy import select

from tests.api import Api
from tests.notices.helpers import accept, publish
from tests.notices.receiver import Receiver
from tests.service.helpers import Clock, version
from tracker.notices.dispatch import Dispatcher
from tracker.notices.payloads import schema
from tracker.notices.retries import MAX_RETRY_AFTER
from tracker.settings import Settings
from tracker.store import Store
from tracker.store.notices import AttemptRow, DeliveryRow, EndpointRow


@pytest.fixture
def dispatcher(store: Store, settings: Settings, clock: Clock) -> Iterator[Dispatcher]:
    worker = Dispatcher(store, settings, clock=clock, rng=random.Random(1), name="test")
    yield worker
    worker.close()


def subscribe(api: Api, receiver: Receiver, path: str = "/ok", **body: Any) -> dict[str, Any]:
    r = api.post("/v1/admin/webhooks", json={"url": receiver.url(path), **body})
    assert r.status_code == 201, r.text
    receiver.secrets.append(r.json()["secret"])
    return dict(r.json())


def drain(dispatcher: Dispatcher) -> int:
    return dispatcher.run(once=True)


def deliveries(store: Store) -> list[DeliveryRow]:
    with store.read() as session:
        return list(session.scalars(select(DeliveryRow).order_by(DeliveryRow.id)))


def test_publishing_a_major_version_sends_signed_webhooks(
    api: Api, receiver: Receiver, dispatcher: Dispatcher
) -> None:
    hook = subscribe(api, receiver)
    assert hook["secret"].startswith("whsec_") and hook["enabled"] is True
    assert "secret" not in api.get("/v1/admin/webhooks").json()["webhooks"][0]
    publish(api, version(1, "major"))
    for user in ("alice", "bob"):
        accept(api, user, 1)
    publish(api, version(1, "major"), version(2, "major", summary="New rules"))
    assert drain(dispatcher) == 5  # 2 published, 2 acceptances, 1 notice batch
    got = {r.json()["type"]: r.json() for r in receiver.received}
    assert all(r.verified for r in receiver.received)
    assert sorted(got) == ["acceptance.recorded", "notice.created", "policy.version_published"]
    for event_type, body in got.items():
        jsonschema.validate(body, schema(event_type))
    # A batch is sent several requests at a time: arrival order is not delivery order.
    published = sorted(
        (r.json() for r in receiver.received if r.json()["type"].startswith("policy")),
        key=lambda p: p["data"]["version"],
    )
    assert [p["data"]["version"] for p in published] == [1, 2]
    assert published[1]["data"]["notices_created"] == 2
    notice = got["notice.created"]["data"]
    assert sorted(notice["user_ids"]) == ["alice", "bob"]
    assert notice["redline_url"] == "https://policies.example.com/privacy/changes/1-2/"
    assert notice["significance"] == "major" and notice["summary"] == "New rules"
    assert all(d.state == "delivered" for d in deliveries(dispatcher.store))
    assert drain(dispatcher) == 0


def test_notice_created_batches_hold_at_most_1000_users(
    api: Api, store: Store, receiver: Receiver, dispatcher: Dispatcher
) -> None:
    publish(api, version(1, "major"))
    with store.engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO consents (user_id, policy_id, last_kind, last_version_id, "
            "accepted_version_id) WITH RECURSIVE g(v) AS (SELECT 0 UNION ALL "
            "SELECT v + 1 FROM g WHERE v < 2499) SELECT 'u' || v, 1, 'accepted', 1, 1 FROM g"
        )
    subscribe(api, receiver, events=["notice.created"])
    publish(api, version(1, "major"), version(2, "minor"))
    drain(dispatcher)
    batches = [r.json()["data"]["user_ids"] for r in receiver.received]
    assert all(0 < len(b) <= 1000 for b in batches) and len(batches) <= 4
    assert sorted(u for b in batches for u in b) == sorted(f"u{i}" for i in range(2500))


def test_rotation_signs_with_both_secrets_during_the_overlap(
    api: Api, receiver: Receiver, dispatcher: Dispatcher, clock: Clock
) -> None:
    hook = subscribe(api, receiver)
    old = receiver.secrets.pop()
    rotated = api.post(f"/v1/admin/webhooks/{hook['id']}/rotate").json()
    assert rotated["previous_secret_until"] is not None
    for secret in (old, rotated["secret"]):
        receiver.secrets[:] = [secret]
        publish(api, version(1, "major")) if not receiver.received else accept(api, "a", 1)
        drain(dispatcher)
        assert receiver.received[-1].verified
        assert len(receiver.received[-1].signature.split(" ")) == 2
    clock.advance(2)  # past the 24 h overlap: only the new secret signs
    accept(api, "b", 1)
    drain(dispatcher)
    assert receiver.received[-1].verified
    assert len(receiver.received[-1].signature.split(" ")) == 1


def test_urls_are_checked(api: Api) -> None:
    for url, field in [
        ("http://example.com/hook", "url"),
        ("https://10.1.2.3/hook", "url"),
        ("https://[::1]/hook", "url"),
        ("ftp://example.com/", "url"),
        ("https://user:pw@example.com/", "url"),
    ]:
        r = api.post("/v1/admin/webhooks", json={"url": url})
        assert r.status_code == 422 and r.json()["field"] == field, (url, r.text)
    r = api.post("/v1/admin/webhooks", json={"url": "https://example.com/", "events": ["nope"]})
    assert r.status_code == 422 and r.json()["field"] == "events"
    assert api.post("/v1/admin/webhooks", json={"url": "https://example.com/"}).status_code == 201
    assert api.post("/v1/admin/webhooks", key="write", json={"url": "x"}).status_code == 403


def test_a_failing_receiver_is_retried_on_the_schedule_then_dead_then_replayed(
    api: Api, receiver: Receiver, dispatcher: Dispatcher, clock: Clock, store: Store
) -> None:
    subscribe(api, receiver, "/status/500", events=["policy.version_published"])
    publish(api, version(1, "major"))
    assert drain(dispatcher) == 1
    (d,) = deliveries(store)
    assert d.state == "pending" and d.attempts == 1 and d.last_status == 500
    wait = (d.next_attempt_at - clock.now).total_seconds()
    assert 4 <= wait <= 6  # 5 s ± 20 %
    assert drain(dispatcher) == 0  # not due yet
    total = wait
    for _ in range(dispatcher.max_attempts - 1):
        clock.now = deliveries(store)[0].next_attempt_at
        assert drain(dispatcher) == 1
    (d,) = deliveries(store)
    total = (clock.now - d.created_at).total_seconds()
    assert d.state == "dead" and d.attempts == dispatcher.max_attempts
    assert 2 * 86400 < total < 4 * 86400  # about three days
    ids = {r.webhook_id for r in receiver.received}
    assert len(ids) == 1 and len(receiver.received) == dispatcher.max_attempts
    dead = api.get("/v1/admin/deliveries?state=dead").json()["deliveries"]
    assert [x["id"] for x in dead] == [d.id]
    # Fixed receiver: replay delivers the same message.
    with store.engine.begin() as conn:
        conn.exec_driver_sql(f"UPDATE webhook_endpoints SET url = '{receiver.url('/ok')}'")
    assert api.post(f"/v1/admin/deliveries/{d.id}/replay").status_code == 200
    assert api.post(f"/v1/admin/deliveries/{d.id}/replay").status_code == 409
    assert drain(dispatcher) == 1
    assert deliveries(store)[0].state == "delivered"
    assert receiver.received[-1].webhook_id in ids
    assert api.get("/v1/admin/deliveries?state=dead").json()["deliveries"] == []


@pytest.mark.parametrize("path", ["/slow", "/close", "/redirect", "/status/503"])
def test_timeouts_dropped_connections_and_redirects_are_retried(
    api: Api, receiver: Receiver, dispatcher: Dispatcher, store: Store, path: str
) -> None:
    subscribe(api, receiver, path, events=["policy.version_published"])
    publish(api, version(1, "major"))
    drain(dispatcher)
    (d,) = deliveries(store)
    assert d.state == "pending" and d.attempts == 1 and d.last_error
    assert [r.path for r in receiver.received if r.ended] in ([], [path])
    assert not any(r.path == "/ok" for r in receiver.received)  # redirects not followed


def test_retry_after_is_honoured(
    api: Api, receiver: Receiver, dispatcher: Dispatcher, store: Store, clock: Clock
) -> None:
    subscribe(api, receiver, "/status/429?retry_after=120", events=["policy.version_published"])
    publish(api, version(1, "major"))
    drain(dispatcher)
    (d,) = deliveries(store)
    assert d.next_attempt_at == clock.now + timedelta(seconds=120)


@pytest.mark.parametrize(
    ("when", "form", "wait"),
    [
        (timedelta(minutes=5), "%a, %d %b %Y %H:%M:%S GMT", timedelta(minutes=5)),  # IMF-fixdate
        (timedelta(minutes=7), "%A, %d-%b-%y %H:%M:%S GMT", timedelta(minutes=7)),  # RFC 850
        (timedelta(hours=2), "%a %b %e %H:%M:%S %Y", timedelta(hours=2)),  # asctime
        (-timedelta(hours=1), "%a, %d %b %Y %H:%M:%S GMT", None),  # past: the schedule's wait
        (timedelta(days=30), "%a, %d %b %Y %H:%M:%S GMT", MAX_RETRY_AFTER),  # capped
    ],
)
def test_retry_after_as_an_http_date_is_read_on_the_dispatchers_clock(
    api: Api,
    receiver: Receiver,
    dispatcher: Dispatcher,
    store: Store,
    clock: Clock,
    when: timedelta,
    form: str,
    wait: timedelta | None,
) -> None:
    # The controllable clock is far from the real one: a date read against real time
    # would be long past and ask for no wait at all.
    date = (clock.now + when).strftime(form)
    subscribe(
        api, receiver, f"/status/503?retry_after={quote(date)}", events=["policy.version_published"]
    )
    publish(api, version(1, "major"))
    assert dispatcher.run_once() == 1
    (d,) = deliveries(store)
    assert (d.state, d.attempts, d.last_status) == ("pending", 1, 503)
    if wait is None:  # never sooner than the schedule's first wait (5 s ± 20%)
        assert d.next_attempt_at is not None
        assert timedelta(seconds=4) <= d.next_attempt_at - clock.now <= timedelta(seconds=6)
    else:
        assert d.next_attempt_at == clock.now + wait, date


def test_retry_after_zero_never_spends_the_attempts_at_once(
    api: Api, receiver: Receiver, dispatcher: Dispatcher, store: Store, clock: Clock
) -> None:
    subscribe(api, receiver, "/status/429?retry_after=0", events=["policy.version_published"])
    publish(api, version(1, "major"))
    for _ in range(5):
        dispatcher.run_once()
    (d,) = deliveries(store)
    assert (d.state, d.attempts) == ("pending", 1)
    assert d.next_attempt_at is not None and d.next_attempt_at > clock.now


def test_410_disables_the_endpoint(
    api: Api, receiver: Receiver, dispatcher: Dispatcher, store: Store
) -> None:
    subscribe(api, receiver, "/status/410")
    publish(api, version(1, "major"))
    accept(api, "alice", 1)
    dispatcher.run_once(limit=1)
    states = sorted(d.state for d in deliveries(store))
    assert states == ["cancelled", "dead"]
    with store.read() as session:
        endpoint = session.scalars(select(EndpointRow)).one()
    assert endpoint.enabled is False and "410" in (endpoint.disabled_reason or "")
    accept(api, "bob", 1)
    assert len(deliveries(store)) == 2  # nothing more is queued for it
    dead = api.get("/v1/admin/deliveries?state=dead").json()["deliveries"][0]
    assert api.post(f"/v1/admin/deliveries/{dead['id']}/replay").status_code == 409


def test_a_worker_whose_lease_expired_changes_nothing(
    api: Api,
    receiver: Receiver,
    store: Store,
    settings: Settings,
    clock: Clock,
    dispatcher: Dispatcher,
) -> None:
    subscribe(api, receiver, events=["policy.version_published"])
    publish(api, version(1, "major"))
    (claim,) = dispatcher.claim()
    late = dispatcher.attempt(claim)  # sent, then the worker stalls past its lease
    clock.now += timedelta(seconds=settings.webhook_lease_seconds + 1)
    with Dispatcher(store, settings, clock=clock, name="other") as other:
        (again,) = other.claim()
        assert again.webhook_id == claim.webhook_id and again.token != claim.token
        assert other.finish([other.attempt(again)]) == 1
    before = deliveries(store)[0]
    assert dispatcher.finish([late]) == 0
    after = deliveries(store)[0]
    assert (after.state, after.attempts, after.finished_at) == (
        before.state,
        before.attempts,
        before.finished_at,
    )


def test_removing_an_endpoint_cancels_its_deliveries(
    api: Api, receiver: Receiver, store: Store
) -> None:
    hook = subscribe(api, receiver)
    publish(api, version(1, "major"))
    assert api.delete(f"/v1/admin/webhooks/{hook['id']}").status_code == 200
    assert [d.state for d in deliveries(store)] == ["cancelled"]
    assert api.get("/v1/admin/webhooks").json()["webhooks"] == []
    assert api.delete(f"/v1/admin/webhooks/{hook['id']}").status_code == 404
    assert api.delete("/v1/admin/webhooks/99999999999999").status_code == 404


def test_a_batch_is_sent_concurrently_and_recorded_in_one_fenced_write(
    api: Api, receiver: Receiver, store: Store, settings: Settings, clock: Clock
) -> None:
    subscribe(api, receiver, "/ok", events=["acceptance.recorded"])
    subscribe(api, receiver, "/status/500", events=["acceptance.recorded"])
    publish(api, version(1, "major"))
    for user in ("alice", "bob"):
        accept(api, user, 1)
    receiver.gather = threading.Barrier(4, timeout=10)
    with Dispatcher(store, replace(settings, dispatch_concurrency=4), clock=clock, name="w") as w:
        claims = w.claim()
        assert len(claims) == 4
        outcomes = [f.result() for f in w.send(claims)]
        assert [r.gathered for r in receiver.received] == [True] * 4  # all four in flight at once
        # One outcome comes from a worker that no longer holds the lease: it changes nothing.
        stolen = replace(outcomes[0], claim=replace(outcomes[0].claim, token="not-the-lease"))
        assert w.finish([stolen, *outcomes[1:]]) == 3
    rows = {d.id: d for d in deliveries(store)}
    first = rows[outcomes[0].claim.delivery_id]
    assert first.lease_token == claims[0].token and first.last_status is None
    for o in outcomes[1:]:
        row = rows[o.claim.delivery_id]
        assert row.lease_token is None and row.attempts == 1 and row.last_status == o.status
        if o.status == 200:
            assert row.state == "delivered" and row.finished_at == clock.now
        else:
            assert row.state == "pending" and row.next_attempt_at > clock.now
    with store.read() as session:
        logged = session.scalars(select(AttemptRow.delivery_id)).all()
    assert sorted(logged) == sorted(o.claim.delivery_id for o in outcomes[1:])


def test_a_claim_given_back_unsent_keeps_its_attempt_count(
    api: Api, receiver: Receiver, store: Store, dispatcher: Dispatcher, clock: Clock
) -> None:
    subscribe(api, receiver, events=["policy.version_published"])
    publish(api, version(1, "major"))
    (claim,) = dispatcher.claim()
    clock.now = claim.lease_until - timedelta(seconds=0.5)  # too late to send within the lease
    outcome = dispatcher.attempt(claim)
    assert not outcome.sent and dispatcher.finish([outcome]) == 1
    (d,) = deliveries(store)
    assert (d.state, d.attempts, d.lease_token) == ("pending", 0, None)
    assert d.next_attempt_at == clock.now
    assert receiver.received == []
