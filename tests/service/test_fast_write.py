"""Property: over random histories, ``POST /v1/acceptances`` answered on the event loop
(``tracker.service.fast_write``, PostgreSQL) sends byte for byte what the router sends and
stores the same rows: events, consents, notices and ``acceptance.recorded`` messages. Each
step is sent to both apps, for two users of the same history (``f-…`` and ``r-…``); the
answers are compared with the user and the event id put back. On SQLite the router answers
both (and the test checks nothing was answered in front of it)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from tests.api import Api
from tests.service.helpers import T0, Clock, payload, policy, version
from tracker.notices.urls import AllowList
from tracker.notices.webhooks import add_endpoint
from tracker.service.state import AppState
from tracker.store import Store, sealer

USERS = ["ann", "team/eve", "café", "x" * 250, "a b"]
KINDS = ["acceptances", "acceptances", "acceptances", "declines", "withdrawals"]
CONTEXTS = [None, {"page": "signup", "n": [1, 2]}]
#: (user, policy, what, version, the clock's microseconds, context)
STEPS = st.tuples(
    st.sampled_from(USERS),
    st.sampled_from(["privacy", "terms"]),
    st.sampled_from(KINDS),
    st.integers(1, 3),
    st.integers(0, 999_999),
    st.sampled_from(CONTEXTS),
)


def _state(api: Api) -> AppState:
    state: AppState = api.client.app.state.tracker  # type: ignore[attr-defined]
    return state


def _publish(api: Api, store: Store) -> None:
    # privacy: a patch after the minor v2; terms: a major v3 after v1 and its patch.
    privacy = [version(n, s) for n, s in enumerate(("major", "minor", "patch"), 1)]
    terms = [version(n, s, title="Terms") for n, s in enumerate(("major", "patch", "major"), 1)]
    body = payload(policy("privacy", *privacy), policy("terms", *terms))
    r = api.post("/v1/admin/versions", json=body)
    assert r.status_code in (200, 201), r.text
    now = datetime(2024, 1, 1, tzinfo=UTC)
    store.write(
        lambda s: add_endpoint(
            s, "http://127.0.0.1:9/hook", ("acceptance.recorded",), AllowList("127.0.0.1"), now
        )
    )


def _same(answer: bytes, user: str) -> bytes:
    """The answer with the user's id and its event's id put back (they differ by app)."""
    plain = answer.replace(json.dumps(user, ensure_ascii=False).encode(), b'"USER"')
    return re.sub(rb'"event":\{"id":\d+,', b'"event":{"id":0,', plain)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    history=st.lists(STEPS, min_size=1, max_size=10),
)
def test_the_fast_acceptance_answers_and_stores_what_the_router_does(
    two_apps: tuple[Api, Api],
    clock: Clock,
    store: Store,
    history: list[tuple[str, str, str, int, int, dict[str, Any] | None]],
) -> None:
    fast, routed = two_apps
    if not fast.get("/v1/policies").json()["policies"]:
        _publish(fast, store)
    warm = {"user_id": "warm", "policy": "privacy", "version": 3}
    for api in (fast, routed):  # the router checks the key and reads the catalog first
        assert api.post("/v1/acceptances", json=warm, key="write").status_code in (200, 201)
    run = f"{len(_state(fast).keys)}-{clock.now.timestamp()}"
    before = _state(fast).fast_answers
    accepted = 0
    for user, slug, kind, number, micro, context in history:
        clock.now = T0.replace(microsecond=micro) + timedelta(minutes=len(user))
        answers = []
        for api, who in ((fast, f"f{run}-{user}"), (routed, f"r{run}-{user}")):
            body: dict[str, Any] = {"user_id": who, "policy": slug, "version": number}
            if context is not None:
                body.update(context=context, ip="203.0.113.7", user_agent="test")
            r = api.post(f"/v1/{kind}", json=body, key="write")
            assert r.status_code in (200, 201, 404, 409, 422), r.text
            answers.append((r.status_code, _same(r.content, who)))
        assert answers[0] == answers[1], (user, slug, kind, number)
        accepted += kind == "acceptances" and answers[0][0] == 201
    fast_answers = _state(fast).fast_answers - before
    assert fast_answers <= (accepted if store.dialect == "postgresql" else 0)
    assert _state(routed).fast_answers == 0
    sealer.flush(store.engine)
    assert _rows(store, f"f{run}-") == _rows(store, f"r{run}-")


def _rows(store: Store, prefix: str) -> list[Any]:
    """What the history of the users with ``prefix`` stored, without the user and the ids."""
    like = {"p": prefix + "%", "n": len(prefix) + 1}
    queries = [
        "SELECT substr(user_id, :n), policy_id, version_id, kind, method, api_key_id, ip, "
        "user_agent, locale, CAST(context AS text), created_at, chain_seq IS NOT NULL, "
        "commitments IS NOT NULL, user_id_salt IS NOT NULL FROM events "
        "WHERE user_id LIKE :p ORDER BY id",
        "SELECT substr(user_id, :n), policy_id, last_kind, last_version_id, "
        "accepted_version_id, accepted_at, last_event_id IS NOT NULL FROM consents "
        "WHERE user_id LIKE :p ORDER BY user_id, policy_id",
        "SELECT substr(user_id, :n), policy_id, from_version_id, to_version_id, significance, "
        "acceptance_required, created_at, closed_at, closed_reason FROM notices "
        "WHERE user_id LIKE :p ORDER BY id",
    ]
    with store.engine.connect() as conn:
        found: list[Any] = [conn.execute(text(q), like).all() for q in queries]
        messages = conn.execute(
            text("SELECT CAST(data AS text), created_at FROM outbox_messages ORDER BY id")
        ).all()
    users = []
    for data, at in messages:
        message = json.loads(data)
        if str(message.get("user_id", "")).startswith(prefix):
            message["user_id"] = message["user_id"][len(prefix) :]
            message["id"] = 0
            users.append((message, at, list(json.loads(data))))
    return [*found, users]


def test_an_acceptance_of_the_latest_version_is_answered_in_front_of_the_router(
    two_apps: tuple[Api, Api], store: Store
) -> None:
    """The common case takes the fast path on PostgreSQL (the property above holds it to
    the router's bytes); a repeat, an older version and a version with a later one to tell
    of go to the router."""
    fast, _ = two_apps
    _publish(fast, store)
    warm = {"user_id": "warm", "policy": "privacy", "version": 3}  # the router checks the key
    assert fast.post("/v1/acceptances", json=warm, key="write").status_code == 201
    before = _state(fast).fast_answers
    steps = [("privacy", 3, 201), ("privacy", 3, 200), ("privacy", 1, 201), ("terms", 1, 201)]
    for slug, number, status in steps:
        body = {"user_id": "ann", "policy": slug, "version": number}
        r = fast.post("/v1/acceptances", json=body, key="write")
        assert r.status_code == status, r.text
    fast_answers = _state(fast).fast_answers - before
    assert fast_answers == (1 if store.dialect == "postgresql" else 0)
