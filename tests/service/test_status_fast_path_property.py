"""Property: over random users, policies and histories, the fast status paths (one user on
SQLite and PostgreSQL, batches on PostgreSQL) answer byte for byte what the router answers,
on both databases."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api import Api
from tests.service.helpers import T0, Clock, payload, policy, version
from tracker.policy import normalise_text, sha256_text
from tracker.service.state import AppState
from tracker.store import Store

USERS = ["ann", "bob", "team/eve", "café", "x" * 255, "u-1", "u-2", "a b"]
SLUGS = ["privacy", "terms", "cookies"]
KINDS = ["acceptances", "declines", "withdrawals"]
#: None: status without a locale; de-DE is served by the German texts of privacy and terms.
LOCALES = [None, "de-DE", "fr"]


def german(*translates: int) -> dict[str, Any]:
    """A German translation whose versions translate these source versions."""
    versions = []
    for number, source in enumerate(translates, start=1):
        text = normalise_text("Datenschutz", f"Fassung {number}.\n")
        published = T0 - timedelta(days=90 - number)
        versions.append(
            {
                "number": number,
                "translates": source,
                "text": text,
                "sha256": sha256_text(text),
                "commit": f"{number:040x}",
                "published": published.isoformat(),
                "effective": published.date().isoformat(),
            }
        )
    return {"language": "de", "title": "Datenschutz", "versions": versions}


def _publish(api: Api, clock: Clock) -> None:
    soon = (clock.now + timedelta(days=10)).date()
    later = (clock.now + timedelta(days=30)).date()
    body = payload(
        policy(
            "privacy",
            version(1, "major"),
            version(2, "minor"),
            version(3, "patch"),
            translations=[german(1, 2)],
        ),
        policy(
            "terms",
            version(1, "major", title="Terms"),
            version(2, "major", title="Terms"),
            version(3, "patch", title="Terms", effective=later),
            version(4, "major", title="Terms", effective=soon),
            translations=[german(1)],
        ),
        policy("cookies", version(1, "major", title="Cookies"), acceptance_required=False),
    )
    r = api.post("/v1/admin/versions", json=body)
    assert r.status_code in (200, 201), r.text


def _major(api: Api, slug: str, count: int) -> None:
    """A new major version of ``slug``: notices for those who accepted an earlier one."""
    versions = [version(n, "major" if n == 1 else "minor") for n in range(1, count)]
    versions.append(version(count, "major", summary="More"))
    current = {p["slug"]: p for p in api.get("/v1/policies").json()["policies"]}
    assert slug in current
    body = payload(policy(slug, *versions, title=current[slug]["title"]))
    r = api.post("/v1/admin/versions", json=body)
    assert r.status_code in (200, 201), r.text


def _localised(plain: bytes, answer: bytes) -> bytes:
    """The answer without a locale with the localised answer's ``translation`` of each
    policy and notice and its ``locale`` added last, as orjson writes that object."""
    data, found = orjson.loads(plain), orjson.loads(answer)
    data["locale"] = found["locale"]
    for entry, other in zip(data["policies"], found["policies"], strict=True):
        for notice, translated in zip(entry["notices"], other["notices"], strict=True):
            notice["translation"] = translated["translation"]
        entry["translation"] = other["translation"]
    return orjson.dumps(data)


def _state(api: Api) -> AppState:
    state: AppState = api.client.app.state.tracker  # type: ignore[attr-defined]
    return state


events = st.lists(
    st.tuples(
        st.sampled_from(USERS),
        st.sampled_from(["privacy", "cookies"]),
        st.sampled_from(KINDS),
        st.integers(1, 3),
        st.integers(0, 999_999),  # the microseconds of the clock (0: none in isoformat)
    ),
    max_size=12,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    history=events,
    asks=st.lists(
        st.tuples(
            st.sampled_from(USERS), st.sampled_from([None, *SLUGS]), st.sampled_from(LOCALES)
        ),
        max_size=6,
    ),
    batch=st.lists(st.sampled_from(USERS), min_size=1, max_size=12),
    batch_policy=st.sampled_from([None, *SLUGS]),
    publish_major=st.booleans(),
    ack=st.booleans(),
)
def test_fast_paths_answer_what_the_router_answers(
    two_apps: tuple[Api, Api],
    clock: Clock,
    store: Store,
    history: list[tuple[str, str, str, int, int]],
    asks: list[tuple[str, str | None, str | None]],
    batch: list[str],
    batch_policy: str | None,
    publish_major: bool,
    ack: bool,
) -> None:
    fast, routed = two_apps
    if not fast.get("/v1/policies").json()["policies"]:
        _publish(fast, clock)
    for user, slug, kind, number, micro in history:
        clock.now = T0.replace(microsecond=micro) + timedelta(seconds=len(user))
        body: dict[str, Any] = {"user_id": user, "policy": slug, "version": number}
        r = fast.post(f"/v1/{kind}", json=body, key="write")
        assert r.status_code in (200, 201, 404, 409, 422), r.text
    if publish_major:
        count = len(fast.get("/v1/policies/privacy").json()["versions"]) + 1
        _major(fast, "privacy", count)
    if ack:
        notices = fast.get("/v1/users/ann/notices", key="read").json()["notices"]
        if notices:
            r = fast.post(f"/v1/notices/{notices[0]['id']}/ack", key="write")
            assert r.status_code in (200, 201)
    clock.now = T0
    # Both apps trust their catalog for 600 s: as if that long had passed since a publish.
    for api in (fast, routed):
        _state(api).snapshots.expire()
    # The router reads the key and the catalog first, so that the fast path may answer.
    assert routed.get("/v1/users/warm/status", key="read").status_code == 200
    assert fast.get("/v1/users/warm/status", key="read").status_code == 200
    before = _state(fast).fast_answers
    for user, asked, locale in asks:
        query = {"policy": asked, "locale": locale}
        params = {k: value for k, value in query.items() if value}
        url = f"/v1/users/{user}/status"
        a, b = fast.get(url, params=params, key="read"), routed.get(url, params=params, key="read")
        assert (a.status_code, a.content) == (b.status_code, b.content), params
        assert a.status_code == 200
        if locale:
            plain = routed.get(url, params={"policy": asked} if asked else {}, key="read")
            assert a.content == _localised(plain.content, a.content)
    body = {"user_ids": batch, **({"policy": batch_policy} if batch_policy else {})}
    a = fast.post("/v1/status/batch", json=body, key="read")
    b = routed.post("/v1/status/batch", json=body, key="read")
    assert (a.status_code, a.content) == (b.status_code, b.content), body
    assert a.status_code == 200
    batches = 1 if store.dialect == "postgresql" else 0
    assert _state(fast).fast_answers - before == len(asks) + batches
    assert _state(routed).fast_answers == 0
