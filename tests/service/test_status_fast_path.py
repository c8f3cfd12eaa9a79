"""The status lookup answered in front of the router (``tracker.service.fast``) sends the
same bytes as the routed endpoint, for good and bad requests alike, on both databases."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from tests.api import Api
from tests.servers import serve
from tests.service.helpers import T0, Clock, payload, policy, version
from tracker.service import create_app
from tracker.service.fast_pg import UserReads
from tracker.service.state import AppState
from tracker.settings import Settings
from tracker.store import Store
from tracker.store.engine import StoreUnavailable
from tracker.store.keys import KeyInfo
from tracker.store.sql_sqlite import ONE_USER_STATUS


def _state(api: Api) -> AppState:
    state: AppState = api.client.app.state.tracker  # type: ignore[attr-defined]
    return state


def _populate(api: Api, clock: Clock) -> None:
    upcoming = (clock.now + timedelta(days=20)).date()
    body = payload(
        policy("privacy", version(1, "major"), version(2, "minor")),
        policy(
            "terms",
            version(1, "major", title="Terms"),
            version(2, "major", title="Terms", effective=upcoming),
        ),
    )
    assert api.post("/v1/admin/versions", json=body).status_code in (200, 201)
    for user, slug, number, kind in [
        ("ann", "privacy", 1, "acceptances"),
        ("ann", "terms", 1, "acceptances"),
        ("bob", "privacy", 2, "acceptances"),
        ("cy", "privacy", 1, "acceptances"),
        ("cy", "privacy", 1, "declines"),
        ("dee", "terms", 1, "acceptances"),
        ("dee", "terms", 1, "withdrawals"),
        ("team/eve", "privacy", 1, "acceptances"),
    ]:
        event = {"user_id": user, "policy": slug, "version": number}
        r = api.post(f"/v1/{kind}", json=event, key="write")
        assert r.status_code in (200, 201), r.text
    # A major version of privacy: notices for everyone who accepted an earlier one.
    body = payload(
        policy(
            "privacy",
            version(1, "major"),
            version(2, "minor"),
            version(3, "major", summary="New sharing rules"),
        )
    )
    assert api.post("/v1/admin/versions", json=body).status_code in (200, 201)


GOOD = [
    "/v1/users/ann/status",
    "/v1/users/bob/status",
    "/v1/users/cy/status",
    "/v1/users/dee/status",
    "/v1/users/nobody/status",
    "/v1/users/team/eve/status",
    "/v1/users/ann/status?policy=privacy",
    "/v1/users/ann/status?policy=terms",
    "/v1/users/ann/status?policy=PRIVACY",
    "/v1/users/ann/status?other=1",
    "/v1/users/caf%C3%A9/status",
]
BAD = [
    "/v1/users/ann/status?policy=nope",
    "/v1/users/a%01b/status",
    "/v1/users/" + "x" * 256 + "/status",
    "/v1/users//status",
]


def _same(fast: Api, routed: Api, url: str, key: str | None) -> Any:
    a = fast.get(url, key=key)
    b = routed.get(url, key=key)
    assert (a.status_code, a.content) == (b.status_code, b.content), url
    for header in ("content-type", "content-length"):
        assert a.headers.get(header) == b.headers.get(header), (url, header)
    return a


def test_fast_answers_are_the_routed_answers(
    two_apps: tuple[Api, Api], store: Store, clock: Clock
) -> None:
    fast, routed = two_apps
    _populate(fast, clock)
    _same(fast, routed, "/v1/users/warm/status", "read")  # the key and catalog, cached
    before = _state(fast).fast_answers
    answers = {url: _same(fast, routed, url, "read").json() for url in GOOD}
    for url in BAD:
        assert _same(fast, routed, url, "read").status_code in (400, 404, 422), url
    for key in ("write", "revoked", None, "not-a-key"):
        assert _same(fast, routed, "/v1/users/ann/status", key).status_code in (401, 403)
    served = _state(fast).fast_answers - before
    assert _state(routed).fast_answers == 0
    assert served == len(GOOD)
    # The answers themselves: states, the upcoming version, the pending notices.
    states = {
        url: {p["policy"]: p["state"] for p in answer["policies"]}
        for url, answer in answers.items()
    }
    assert states["/v1/users/ann/status"] == {"privacy": "major_change", "terms": "accepted"}
    assert states["/v1/users/cy/status"]["privacy"] == "declined"
    assert states["/v1/users/dee/status"]["terms"] == "withdrawn"
    assert states["/v1/users/team/eve/status"]["privacy"] == "major_change"
    assert states["/v1/users/ann/status?policy=terms"] == {"terms": "accepted"}
    ann = {p["policy"]: p for p in answers["/v1/users/ann/status"]["policies"]}
    assert [n["to_version"] for n in ann["privacy"]["notices"]] == [3]
    assert ann["terms"]["upcoming"]["version"] == 2
    # ann accepted terms v1 after v2 (major, upcoming) was published: told of it all the same
    assert [n["to_version"] for n in ann["terms"]["notices"]] == [2]
    assert answers["/v1/users/team/eve/status"]["user_id"] == "team/eve"


def test_an_acknowledged_notice_and_a_new_acceptance_show_at_once(
    two_apps: tuple[Api, Api], clock: Clock
) -> None:
    """The fast path keeps no answer: each one reads the store."""
    fast, routed = two_apps
    _populate(fast, clock)
    first = _same(fast, routed, "/v1/users/bob/status", "read").json()["policies"]
    notice = next(p for p in first if p["policy"] == "privacy")["notices"][0]
    assert fast.post(f"/v1/notices/{notice['id']}/ack", key="write").status_code == 201
    after_ack = _same(fast, routed, "/v1/users/bob/status", "read").json()["policies"]
    assert next(p for p in after_ack if p["policy"] == "privacy")["notices"] == []
    event = {"user_id": "bob", "policy": "privacy", "version": 3}
    assert fast.post("/v1/acceptances", json=event, key="write").status_code in (200, 201)
    after = _same(fast, routed, "/v1/users/bob/status?policy=privacy", "read").json()
    assert after["policies"][0]["state"] == "accepted"
    assert after["policies"][0]["accepted_version"] == 3


def test_a_key_revoked_in_this_process_stops_at_once(
    two_apps: tuple[Api, Api], store: Store, clock: Clock, keys: dict[str, str]
) -> None:
    fast, _ = two_apps
    _populate(fast, clock)
    r = fast.post("/v1/admin/keys", json={"name": "short-lived", "scopes": ["read"]})
    assert r.status_code == 201, r.text
    made = r.json()
    assert fast.get("/v1/users/ann/status", key=made["key"]).status_code == 200
    assert fast.get("/v1/users/ann/status", key=made["key"]).status_code == 200
    assert fast.delete(f"/v1/admin/keys/{made['id']}").status_code in (200, 204)
    assert fast.get("/v1/users/ann/status", key=made["key"]).status_code == 401


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # SQLite's own statement
@pytest.mark.parametrize("with_policy", [False, True])
def test_the_one_statement_lookup_uses_both_indexes(store: Store, with_policy: bool) -> None:
    sql = ONE_USER_STATUS[with_policy]
    params = ("user-7", 1) if with_policy else ("user-7",)
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params).all()
    plan = "\n".join(str(row[-1]) for row in rows)
    assert "SEARCH consents USING INDEX sqlite_autoindex_consents_1 (user_id=?" in plan, plan
    assert "SEARCH notices USING INDEX ix_notices_user_id_policy_id (user_id=?" in plan, plan
    assert "SCAN" not in plan and "TEMP B-TREE" not in plan, plan


BATCHES: list[Any] = [
    {"user_ids": ["ann", "bob", "cy", "dee", "nobody", "team/eve"]},
    {"user_ids": ["ann", "ann", "bob"], "policy": "privacy"},
    {"user_ids": ["café"], "policy": "TERMS"},
    {"user_ids": ["ann"], "policy": None},
    # Read in parts on PostgreSQL (``fast.BATCH_PART`` users a statement), run at once.
    {"user_ids": ["dee", *(f"u{i}" for i in range(6_000)), "ann", "dee", "bob", "team/eve"]},
]
BAD_BATCHES: list[Any] = [
    {"user_ids": []},
    {"user_ids": "ann"},
    {"user_ids": ["ann"], "policy": "nope"},
    {"user_ids": ["ann"], "other": 1},
    {"user_ids": ["a\x01b"]},
    {"user_ids": ["ann"], "policy": 7},
    [1, 2],
]


def _same_batch(fast: Api, routed: Api, body: Any, key: str | None = "read") -> Any:
    a = fast.post("/v1/status/batch", json=body, key=key)
    b = routed.post("/v1/status/batch", json=body, key=key)
    assert (a.status_code, a.content) == (b.status_code, b.content), body
    for header in ("content-type", "content-length"):
        assert a.headers.get(header) == b.headers.get(header), (body, header)
    return a


def test_fast_batches_are_the_routed_batches(
    two_apps: tuple[Api, Api], store: Store, clock: Clock
) -> None:
    fast, routed = two_apps
    _populate(fast, clock)
    _same(fast, routed, "/v1/users/warm/status", "read")  # the key and catalog, cached
    before = _state(fast).fast_answers
    for body in BATCHES:
        assert _same_batch(fast, routed, body).status_code == 200
    for body in BAD_BATCHES:
        assert _same_batch(fast, routed, body).status_code in (400, 404, 422), body
    for key in ("write", "revoked", None):
        assert _same_batch(fast, routed, BATCHES[0], key).status_code in (401, 403)
    for raw in (b"", b"{", b'{"user_ids": [NaN]}'):
        a = fast.post("/v1/status/batch", content=raw, key="read")
        b = routed.post("/v1/status/batch", content=raw, key="read")
        assert (a.status_code, a.content) == (b.status_code, b.content) and a.status_code == 400
    served = _state(fast).fast_answers - before
    # SQLite answers batches through the router (its fast path is the one-user lookup).
    assert served == (len(BATCHES) if store.dialect == "postgresql" else 0)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_postgresql_sees_revocations_and_versions_of_other_processes_at_once(
    two_apps: tuple[Api, Api], store: Store, clock: Clock, keys: dict[str, str]
) -> None:
    """On PostgreSQL the fast path's statement reads the key's row and the catalog's
    revision: a key revoked or a version published through another process (here, the
    store directly) shows at once, even with caches of 600 s."""
    from tracker.store.keys import create_key, revoke_key

    fast, _ = two_apps
    _populate(fast, clock)
    made, info = store.write(lambda s: create_key(s, "elsewhere", frozenset({"read"})))
    assert fast.get("/v1/users/ann/status", key=made).status_code == 200
    before = _state(fast).fast_answers
    assert fast.get("/v1/users/ann/status", key=made).status_code == 200
    assert _state(fast).fast_answers == before + 1
    store.write(lambda s: revoke_key(s, str(info.id)))
    assert fast.get("/v1/users/ann/status", key=made).status_code == 401
    assert fast.post("/v1/status/batch", json=BATCHES[0], key=made).status_code == 401
    # A version published by another process: the next answer already names it.
    other = create_app(replace(_state(fast).settings), store=store, clock=clock)
    with TestClient(other) as client:
        body = payload(
            policy(
                "privacy",
                version(1, "major"),
                version(2, "minor"),
                version(3, "major", summary="New sharing rules"),
                version(4, "minor", summary="Clearer words"),
            )
        )
        r = client.post("/v1/admin/versions", json=body, headers=_auth(keys["admin"]))
        assert r.status_code in (200, 201), r.text
    answer = fast.get("/v1/users/bob/status?policy=privacy", key="read").json()
    assert answer["policies"][0]["current_version"] == 4


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


ALONE = [*GOOD, "/v1/users/ann/status?locale=de-DE", "/v1/users/bob/status?locale=de-DE"]


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_concurrent_reads_share_statements_and_answer_as_alone(
    two_apps: tuple[Api, Api], cached: Settings, store: Store, clock: Clock, keys: dict[str, str]
) -> None:
    """Many single-user reads at once over real HTTP: PostgreSQL gets statements for
    several users (``fast_pg.UserReads``), and each answer is the routed answer's bytes."""
    fast, routed = two_apps
    _populate(fast, clock)
    expected = {url: routed.get(url, key="read").content for url in ALONE}
    app = create_app(cached, store=store, clock=clock)
    asked = ALONE * 40
    with serve(app) as base, httpx.Client(base_url=base, headers=_auth(keys["read"])) as http:
        http.get("/v1/users/warm/status")  # the key and catalog, cached
        state: AppState = app.state.tracker
        before = state.fast_answers
        with ThreadPoolExecutor(16) as pool:
            answers = list(pool.map(lambda url: http.get(url), asked))
        reads = state.postgres_users
        assert reads is not None
        assert [(a.status_code, a.content) for a in answers] == [
            (200, expected[url]) for url in asked
        ]
        assert state.fast_answers - before == len(asked)
        assert reads.shared > 0 and reads.busy == 0 and reads.waiting == {}


def test_user_reads_queue_by_key_and_pass_on_errors() -> None:
    """``UserReads`` on its own: the first ``limit`` requests go at once; the rest wait by
    key and go together (at most ``most`` users a statement) as statements return; an error
    reaches every request of its statement, and nothing is left waiting."""
    sent: list[list[str]] = []
    gate = asyncio.Event()

    async def read(checked: Any, users: list[str], how: Any) -> list[bytes] | None:
        sent.append(users)
        await gate.wait()
        if "boom" in users:
            raise StoreUnavailable("down")
        return None if "router" in users else [u.encode() for u in users]

    def key(ident: int) -> Any:
        return (None, KeyInfo(ident, "k", "ptk_k", frozenset({"read"}), T0, None), "token")

    async def scenario() -> list[Any]:
        reads = UserReads(read, limit=1, most=3)
        first = asyncio.ensure_future(reads(key(1), "a"))
        await asyncio.sleep(0)
        rest = [
            asyncio.ensure_future(reads(key(k), user))
            for k, user in [(1, "b"), (2, "x"), (1, "c"), (1, "b"), (1, "d"), (1, "e")]
        ]
        await asyncio.sleep(0)
        gate.set()
        done = await asyncio.gather(first, *rest)
        gate.clear()
        boom = [asyncio.ensure_future(reads(key(3), u)) for u in ("ok", "boom", "router")]
        await asyncio.sleep(0)
        gate.set()
        found = await asyncio.gather(*boom, return_exceptions=True)
        assert reads.busy == 0 and reads.waiting == {}
        return [*done, *found]

    answers = asyncio.run(scenario())
    assert sent[:4] == [["a"], ["b", "c"], ["x"], ["d", "e"]]  # b twice: read once
    assert answers[:7] == [b"a", b"b", b"x", b"c", b"b", b"d", b"e"]
    assert sent[4:] == [["ok"], ["boom", "router"]]
    assert answers[7] == b"ok" and isinstance(answers[8], StoreUnavailable)
    assert isinstance(answers[9], StoreUnavailable)
