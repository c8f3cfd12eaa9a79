"""RequireAcceptance: the example app served by uvicorn, and the middleware on its own."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import anyio
import httpx
import pytest

from examples.app import create_app
from tests.client.conftest import FAST, Tracker
from tests.client.servers import closed_port
from tests.servers import serve
from tracker.client import AsyncTrackerClient, Retry
from tracker.client.middleware import RequireAcceptance


@pytest.fixture(scope="module")
def example(tracker: Tracker) -> Iterator[str]:
    with serve(create_app(tracker.url, tracker.keys["app"])) as url:
        yield url


def browser(example: str, user: str | None) -> httpx.Client:
    cookies = {"user": user} if user else None
    return httpx.Client(base_url=example, cookies=cookies, headers={"Accept": "text/html"})


def test_a_user_who_must_accept_is_sent_to_accept_and_back(
    tracker: Tracker, example: str, user: str
) -> None:
    with browser(example, user) as b:
        r = b.get("/?tab=2")
        assert r.status_code == 303
        link = r.headers["location"]
        assert link.startswith(f"{tracker.url}/accept/") and user not in link
        page = b.get(link)
        assert page.status_code == 200 and "Privacy" in page.text and "Terms" in page.text
        form: dict[str, list[str]] = {"decision": ["accept"]}
        for name, value in re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', page.text):
            form.setdefault(name, []).append(value)
        assert form["policy"] == ["privacy", "terms"] and form["version"] == ["2", "1"]
        done = b.post(link, data=form, headers={"User-Agent": "ExampleBrowser/1.0"})
        assert done.status_code == 303
        back = urlsplit(done.headers["location"])
        assert f"{back.scheme}://{back.netloc}{back.path}" == f"{example}/policy-return"
        assert parse_qs(back.query) == {
            "next": [f"{example}/?tab=2"],
            "policy_tracker": ["accepted"],
        }
        returned = b.get(done.headers["location"])
        assert returned.status_code == 303 and returned.headers["location"] == "/?tab=2"
        home = b.get("/?tab=2")
        assert home.status_code == 200 and f"Welcome, {user}" in home.text
    with tracker.client() as client:
        privacy = client.status(user, "privacy").policies[0]
        assert privacy.state == "accepted" and privacy.accepted_version == 2
        event = next(iter(client.iter_events(user)))
        assert event.method == "clickwrap" and event.user_agent == "ExampleBrowser/1.0"
        assert event.ip == "127.0.0.1"


def test_a_user_who_accepted_gets_through(tracker: Tracker, example: str, user: str) -> None:
    with tracker.client() as client:
        client.accept(user, "privacy", 2)
        client.accept(user, "terms", 1)
    with browser(example, user) as b:
        assert b.get("/").status_code == 200
        assert b.get("/api/me").json() == {"user": user}


def test_api_requests_get_a_403_problem_naming_the_policies(
    tracker: Tracker, example: str, user: str
) -> None:
    with tracker.client() as client:
        client.accept(user, "terms", 1)
    with browser(example, user) as b:
        for r in (b.get("/api/me"), b.get("/", headers={"Accept": "application/json"})):
            assert r.status_code == 403
            assert r.headers["content-type"] == "application/problem+json"
            problem = r.json()
            assert problem["code"] == "acceptance_required" and problem["status"] == 403
            assert problem["policies"] == [
                {
                    "policy": "privacy",
                    "title": "Privacy Policy",
                    "version": 2,
                    "state": "never_accepted",
                }
            ]
            assert "privacy (version 2)" in problem["detail"]


def test_anonymous_and_exempt_requests_are_not_checked(example: str, user: str) -> None:
    with browser(example, None) as anonymous:
        assert anonymous.get("/").text == "<h1>Welcome, stranger</h1>"
    with browser(example, user) as b:
        declined = b.get("/policy-return?policy_tracker=declined&next=/")
        assert declined.status_code == 200 and "You declined" in declined.text


def test_recording_through_the_client_clears_the_cache(
    tracker: Tracker, example: str, user: str
) -> None:
    with tracker.client() as client:
        client.accept(user, "privacy", 2)
        client.accept(user, "terms", 1)
    with browser(example, user) as b:
        assert b.get("/").status_code == 200  # now cached as up to date
        assert b.post("/api/withdraw/terms").json() == {"state": "withdrawn"}
        r = b.get("/")
        assert r.status_code == 303 and r.headers["location"].startswith(tracker.url)
        page = b.get(r.headers["location"])
        assert "Terms" in page.text and "Privacy" not in page.text


class Recorder:
    """A tiny ASGI app that says OK and counts what got through."""

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.calls += 1
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def gate(client: AsyncTrackerClient, **kw: Any) -> tuple[RequireAcceptance, httpx.AsyncClient]:
    async def to_accept(user_id: str, policies: tuple[str, ...], return_url: str) -> str:
        return f"https://accept.example/{user_id}?p={','.join(policies)}&r={return_url}"

    kw.setdefault("acceptance_url", to_accept)
    middleware = RequireAcceptance(
        Recorder(), client=client, user_id=lambda scope: _header(scope, b"x-user"), **kw
    )
    transport = httpx.ASGITransport(app=middleware)
    return middleware, httpx.AsyncClient(transport=transport, base_url="http://app.test")


def _header(scope: Any, name: bytes) -> str | None:
    return next((v.decode() for k, v in scope["headers"] if k == name), None)


@pytest.mark.anyio
async def test_up_to_date_users_are_cached_until_forget_or_ttl(tracker: Tracker, user: str) -> None:
    with tracker.client() as other:  # another process: the middleware does not hear of it
        other.accept(user, "privacy", 2)
        other.accept(user, "terms", 1)
        async with AsyncTrackerClient(tracker.url, tracker.keys["app"], retry=FAST) as client:
            middleware, http = gate(client, ttl=0.5)
            async with http:
                headers = {"X-User": user}
                assert (await http.get("/", headers=headers)).status_code == 200
                other.withdraw(user, "privacy")
                assert (await http.get("/", headers=headers)).status_code == 200  # cached
                middleware.forget(user)
                r = await http.get("/page?x=1", headers=headers)
                assert r.status_code == 303
                assert r.headers["location"] == (
                    f"https://accept.example/{user}?p=privacy&r=http://app.test/page?x=1"
                )
                other.accept(user, "privacy", 2)
                # Users who must accept are not cached: accepting elsewhere lets them in.
                assert (await http.get("/", headers=headers)).status_code == 200
                other.withdraw(user, "privacy")
                started = time.monotonic()
                await anyio.sleep(0.6)
                assert time.monotonic() - started >= 0.5
                assert (await http.get("/", headers=headers)).status_code == 303  # expired


@pytest.mark.anyio
async def test_only_the_required_policies_count(tracker: Tracker, user: str) -> None:
    async with AsyncTrackerClient(tracker.url, tracker.keys["app"], retry=FAST) as client:
        await client.accept(user, "terms", 1)
        middleware, http = gate(client, policies=["terms"])
        async with http:
            assert (await http.get("/", headers={"X-User": user})).status_code == 200
        assert (await middleware.pending(user)) == ()


@pytest.mark.anyio
async def test_a_form_post_returns_to_the_page_it_came_from(tracker: Tracker, user: str) -> None:
    async with AsyncTrackerClient(tracker.url, tracker.keys["app"], retry=FAST) as client:
        _, http = gate(client, api_prefixes=())
        async with http:
            headers = {"X-User": user, "Referer": "http://app.test/cart"}
            r = await http.post("/checkout", headers=headers)
            assert r.status_code == 303 and r.headers["location"].endswith(
                "&r=http://app.test/cart"
            )
            r = await http.post("/checkout", headers={**headers, "Referer": "https://evil.test/"})
            assert r.headers["location"].endswith("&r=http://app.test/")


@pytest.mark.anyio
@pytest.mark.parametrize("fail_open", [True, False])
async def test_when_the_tracker_is_down(user: str, fail_open: bool) -> None:
    async with AsyncTrackerClient(closed_port(), "ptk_x", retry=Retry(attempts=1)) as client:
        middleware, http = gate(client, fail_open=fail_open)
        async with http:
            r = await http.get("/", headers={"X-User": user})
    if fail_open:
        assert r.status_code == 200 and r.text == "ok"
    else:
        assert r.status_code == 503 and r.json()["code"] == "tracker_unavailable"
        assert middleware.app.calls == 0  # type: ignore[attr-defined]


@pytest.mark.anyio
@pytest.mark.parametrize("fail_open", [True, False])
@pytest.mark.parametrize(
    "case,fix",
    [
        ("bad key", "the API key is missing, wrong or revoked"),
        ("read-only key", "lacks a scope"),
        ("return URL not allowed", "policy-tracker keys app KEY_ID --return-url"),
        ("unknown policy", "is unknown to the tracker"),
    ],
)
async def test_a_misconfigured_app_lets_nobody_in(
    tracker: Tracker,
    user: str,
    fail_open: bool,
    case: str,
    fix: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A 4xx from the tracker is a configuration error, not an outage: with fail_open too,
    the user is kept out and the log says what to fix."""
    key = {"bad key": "ptk_wrong", "read-only key": tracker.keys["read"]}.get(
        case, tracker.keys["app"]
    )
    kw: dict[str, Any] = {"fail_open": fail_open}
    if case in ("return URL not allowed", "read-only key"):
        # The hosted page: its link needs the write scope, and the app key allows returns
        # to 127.0.0.1 only.
        kw["acceptance_url"] = None
    if case == "unknown policy":
        kw["policies"] = ["privacy", "no-such-policy"]
    async with AsyncTrackerClient(tracker.url, key, retry=FAST) as client:
        middleware, _ = gate(client, **kw)
        transport = httpx.ASGITransport(app=middleware)
        async with httpx.AsyncClient(transport=transport, base_url="https://shop.test") as http:
            with caplog.at_level("ERROR", logger="tracker.client.middleware"):
                r = await http.get("/", headers={"X-User": user, "Accept": "text/html"})
    assert r.status_code == 500 and r.json()["code"] == "tracker_misconfigured", r.text
    assert middleware.app.calls == 0  # type: ignore[attr-defined]
    assert fix in caplog.text, caplog.text
    assert user in caplog.text and "kept out" in caplog.text


@pytest.mark.anyio
async def test_an_outage_with_fail_open_lets_in_and_logs(
    user: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with AsyncTrackerClient(closed_port(), "ptk_x", retry=Retry(attempts=1)) as client:
        _, http = gate(client, fail_open=True)
        async with http:
            with caplog.at_level("WARNING", logger="tracker.client.middleware"):
                r = await http.get("/", headers={"X-User": user})
    assert r.status_code == 200
    assert "let in without an acceptance check" in caplog.text
