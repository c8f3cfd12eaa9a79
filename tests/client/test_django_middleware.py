"""The Django and WSGI counterparts of RequireAcceptance, against a real tracker over HTTP: a
Django app (its own process, served on 127.0.0.1) redirects a user who must accept, lets an
exempt user and exempt paths through, and refuses to start with ``/`` exempt; the plain WSGI
middleware and the ASGI one take the same exemptions."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.client.conftest import FAST, Tracker
from tests.servers import free_port
from tracker.client import AsyncTrackerClient, TrackerClient
from tracker.client.gate import ConfigurationError
from tracker.client.middleware import RequireAcceptance
from tracker.client.wsgi import RequireAcceptanceWSGI

ROOT = Path(__file__).parents[2]


def _start(tracker: Tracker, tmp: Path, extra: dict[str, Any] | None = None) -> Any:
    port = free_port()
    args = [str(port), tracker.url, tracker.keys["app"], str(tmp / "app.sqlite3")]
    if extra is not None:
        args.append(json.dumps(extra))
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.django_app.site", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return process, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def django_app(tracker: Tracker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    process, url = _start(tracker, tmp_path_factory.mktemp("django"))
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.strip() == "serving", process.stderr.read() if process.stderr else ""
        yield url
    finally:
        process.terminate()
        process.communicate(timeout=10)  # and closes the pipes


@contextmanager
def _signed_in(url: str, name: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=url, headers={"Accept": "text/html"}) as client:
        assert client.get(f"/login/{name}/").status_code == 200
        yield client


def _pk(client: httpx.Client, name: str) -> str:
    text = client.get(f"/login/{name}/").text
    found = re.search(r"\((\d+)\)", text)
    assert found
    return found.group(1)


def test_a_user_who_must_accept_is_sent_to_accept_and_back(
    tracker: Tracker, django_app: str
) -> None:
    with _signed_in(django_app, "alice") as b:
        r = b.get("/?tab=2")
        assert r.status_code == 303
        link = r.headers["location"]
        assert link.startswith(f"{tracker.url}/accept/")
        page = b.get(link)
        form: dict[str, list[str]] = {"decision": ["accept"]}
        for name, value in re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', page.text):
            form.setdefault(name, []).append(value)
        done = b.post(link, data=form)
        assert done.status_code == 303
        assert done.headers["location"].startswith(f"{django_app}/?tab=2")
        home = b.get("/?tab=2")
        assert (home.status_code, home.text) == (200, "Welcome, alice")
        # The user id the tracker knows is the Django user's primary key.
        with tracker.client() as client:
            assert not client.status(_pk(b, "alice")).needs_acceptance


def test_exempt_users_and_paths_get_through(django_app: str) -> None:
    with _signed_in(django_app, "staff") as staff:
        assert staff.get("/").text == "Welcome, staff"
    with _signed_in(django_app, "bob") as bob:
        assert bob.get("/").status_code == 303
        for path in ("/about/", "/static/site.css", "/p/public/page"):
            r = bob.get(path)
            assert (r.status_code, r.text) == (200, f"open page {path}"), path
        # Exact paths are exact; a prefix is a path segment.
        assert bob.get("/about/more").status_code in (303, 404)
        assert bob.get("/staticfiles").status_code == 303
        api = bob.get("/api/data", headers={"Accept": "application/json"})
        assert api.status_code == 403
        assert api.headers["content-type"] == "application/problem+json"
        assert {p["policy"] for p in api.json()["policies"]} == {"privacy", "terms"}
    with httpx.Client(base_url=django_app) as anonymous:
        assert anonymous.get("/").text == "Welcome, guest"


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        ({"EXEMPT": ["/"]}, "exempt='/' would let every request through"),
        ({"EXEMPT_CONTAINS": ["/"]}, "exempt_contains='/' is in every path"),
        ({"EXEMPT_PATH": ["/about/"]}, "POLICY_TRACKER has unknown key(s) EXEMPT_PATH"),
        ({"EXEMPT_USER": "nowhere.rule"}, "POLICY_TRACKER['EXEMPT_USER']: "),
        ({"URL": ""}, "POLICY_TRACKER['URL']: the tracker's base URL"),
    ],
)
def test_the_app_refuses_to_start_with_a_setting_that_cannot_work(
    tracker: Tracker, tmp_path: Path, extra: dict[str, Any], said: str
) -> None:
    process, _ = _start(tracker, tmp_path, extra)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 1, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and said in lines[0], err
    assert "serving" not in out


def _wsgi_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"app"]


def test_the_wsgi_middleware(tracker: Tracker) -> None:
    with TrackerClient(tracker.url, tracker.keys["app"], retry=FAST) as client:
        gated = RequireAcceptanceWSGI(
            _wsgi_app,
            client=client,
            user_id=lambda environ: environ.get("HTTP_X_USER"),
            exempt_user=lambda environ, user: user.startswith("staff-"),
            exempt_paths=["/health"],
            exempt_contains=[".well-known"],
            acceptance_url=lambda user, slugs, back: f"https://accept.test/{user}?r={back}",
        )
        transport = httpx.WSGITransport(app=gated)
        with httpx.Client(transport=transport, base_url="http://app.test") as http:
            r = http.get("/cart?x=1", headers={"X-User": "carol"})
            assert (r.status_code, r.headers["location"]) == (
                303,
                "https://accept.test/carol?r=http://app.test/cart?x=1",
            )
            assert http.get("/cart", headers={"X-User": "staff-dan"}).text == "app"
            assert http.get("/health", headers={"X-User": "carol"}).text == "app"
            assert http.get("/x/.well-known/y", headers={"X-User": "carol"}).text == "app"
            assert http.get("/cart").text == "app"  # no user
            api = http.get("/api/orders", headers={"X-User": "carol"})
            assert api.status_code == 403
            client.accept("carol", "privacy", 2)
            client.accept("carol", "terms", 1)
            assert http.get("/cart", headers={"X-User": "carol"}).text == "app"
        with pytest.raises(ConfigurationError, match="exempt='/' would let every request"):
            RequireAcceptanceWSGI(_wsgi_app, client=client, user_id=lambda e: None, exempt=["/"])


def test_a_broken_exempt_user_rule_keeps_users_out(tracker: Tracker) -> None:
    def broken(environ: dict[str, Any], user: str) -> bool:
        raise KeyError("role")

    with TrackerClient(tracker.url, tracker.keys["app"], retry=FAST) as client:
        gated = RequireAcceptanceWSGI(
            _wsgi_app, client=client, user_id=lambda e: "erin", exempt_user=broken
        )
        with httpx.Client(transport=httpx.WSGITransport(app=gated), base_url="http://a") as http:
            r = http.get("/")
            assert r.status_code == 500
            assert r.json()["code"] == "tracker_misconfigured"


@pytest.mark.anyio
async def test_the_asgi_middleware_takes_the_same_exemptions(tracker: Tracker) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"app"})

    async def staff(scope: Any, user: str) -> bool:
        return user == "staff"

    async with AsyncTrackerClient(tracker.url, tracker.keys["app"], retry=FAST) as client:
        gated = RequireAcceptance(
            app,
            client=client,
            user_id=lambda scope: "frank" if scope["path"] != "/as-staff" else "staff",
            exempt_user=staff,
            exempt_paths=["/about"],
            exempt_contains=["/public/"],
            acceptance_url=lambda user, slugs, back: "https://accept.test/",
        )
        transport = httpx.ASGITransport(app=gated)
        async with httpx.AsyncClient(transport=transport, base_url="http://app.test") as http:
            assert (await http.get("/")).status_code == 303
            assert (await http.get("/about/x")).status_code == 303
            for path in ("/about", "/a/public/b", "/as-staff"):
                assert (await http.get(path)).text == "app", path
        with pytest.raises(ConfigurationError):
            RequireAcceptance(app, client=client, user_id=lambda s: None, exempt=("/",))
