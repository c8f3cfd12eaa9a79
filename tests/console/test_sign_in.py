"""Signing in with a console link: once, before it expires, untampered; sessions that end;
forms that only this site can post; viewers who see and admins who act."""

from __future__ import annotations

from datetime import timedelta

from starlette.applications import Starlette

from tests.api import Api, TestClient
from tests.console.helpers import audit_entries, csrf, link_path, populate, sign_in
from tests.service.helpers import Clock
from tracker.settings import Settings
from tracker.store import Store


def test_a_link_signs_in_once_and_starts_a_strict_session(
    api: Api, store: Store, settings: Settings, clock: Clock
) -> None:
    client = api.client
    path = link_path(store, settings, clock, "admin", "Dana")
    assert client.get("/console/").status_code == 401
    shown = client.get(path)
    assert shown.status_code == 200 and "Sign in" in shown.text
    assert shown.headers["content-security-policy"].startswith("default-src 'none'")
    assert "script" not in shown.headers["content-security-policy"]
    assert client.get(path).status_code == 200  # looking does not use the link up
    r = client.post(path, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/console/"
    cookie = r.headers["set-cookie"].lower()
    for part in ("httponly", "samesite=strict", "path=/console", "max-age=43200"):
        assert part in cookie, cookie
    assert "secure" not in cookie  # plain http here
    page = client.get("/console/")
    assert page.status_code == 200 and "Dana · admin" in page.text
    # Used: refused, and the session already open is not touched.
    again = client.post(path, follow_redirects=False)
    assert again.status_code == 410 and "already been used" in again.text
    assert client.get(path).status_code == 410
    assert [e["action"] for e in audit_entries(store)] == [
        "console.link_created",
        "console.sign_in",
    ]
    assert audit_entries(store)[1]["by"].startswith("Dana (admin, console session ")


def test_tampered_and_expired_links_are_refused(
    app: Starlette, store: Store, settings: Settings, clock: Clock
) -> None:
    with TestClient(app) as client:
        path = link_path(store, settings, clock, "viewer", "Eve")
        token = path.rsplit("/", 1)[1]
        tampered = path[: -len(token)] + token[:-1] + ("A" if token[-1] != "A" else "B")
        for bad in (tampered, "/console/sign-in/x", "/console/sign-in/" + "%00" * 30):
            for method in ("GET", "POST"):
                r = client.request(method, bad, follow_redirects=False)
                assert r.status_code == 404 and "not valid" in r.text, (bad, method)
        clock.now += timedelta(seconds=settings.console_link_seconds)
        r = client.post(path, follow_redirects=False)
        assert r.status_code == 410 and "expired" in r.text
        assert "set-cookie" not in r.headers
        assert client.get("/console/").status_code == 401
    assert [e["action"] for e in audit_entries(store)] == ["console.link_created"]


def test_the_cookie_is_secure_over_https(
    app: Starlette, store: Store, settings: Settings, clock: Clock
) -> None:
    with TestClient(app, base_url="https://testserver") as client:
        path = link_path(store, settings, clock, "viewer", "Eve")
        r = client.post(path, follow_redirects=False)
        assert r.status_code == 303 and "secure" in r.headers["set-cookie"].lower()


def test_sessions_end_when_idle_after_their_life_and_on_sign_out(
    app: Starlette, store: Store, settings: Settings, clock: Clock
) -> None:
    with TestClient(app) as client:
        sign_in(client, store, settings, clock, "viewer")
        clock.now += timedelta(seconds=settings.console_idle_seconds - 60)
        assert client.get("/console/").status_code == 200
        clock.now += timedelta(seconds=settings.console_idle_seconds)
        assert client.get("/console/").status_code == 401
        # Busy all day: still ends after console_session_seconds.
        sign_in(client, store, settings, clock, "viewer")
        step = timedelta(seconds=settings.console_idle_seconds // 2)
        for _ in range(settings.console_session_seconds // step.seconds - 1):
            clock.now += step
            assert client.get("/console/").status_code == 200
        clock.now += step
        assert client.get("/console/").status_code == 401
        # Sign out: the cookie no longer opens a page.
        sign_in(client, store, settings, clock, "admin")
        token = csrf(client.get("/console/").text)
        cookie = client.cookies.get("pt_console")
        assert client.post("/console/sign-out", data={"csrf": token}).status_code == 200
        client.cookies.set("pt_console", str(cookie), path="/console")
        assert client.get("/console/").status_code == 401
    assert audit_entries(store)[-1]["action"] == "console.sign_out"


def test_viewers_posts_and_forms_without_the_token_change_nothing(
    api: Api, app: Starlette, store: Store, settings: Settings, clock: Clock
) -> None:
    populate(api)
    before = api.get("/v1/users/u-anna/status").json()
    keys = api.get("/v1/admin/keys").json()
    chained = len(audit_entries(store))
    base = "/console/policies/privacy/versions/3"
    with TestClient(app) as viewer:
        sign_in(viewer, store, settings, clock, "viewer")
        page = viewer.get(base)
        assert page.status_code == 200 and "Request re-acceptance" not in page.text
        token = csrf(page.text)
        for path, form in [
            (base + "/reacceptance", {"reason": "r"}),
            ("/console/keys", {"name": "k", "scope_read": "on"}),
            ("/console/keys/1/revoke", {}),
            ("/console/webhooks/deliveries/1/replay", {}),
        ]:
            r = viewer.post(path, data={**form, "csrf": token})
            assert r.status_code == 403 and "viewer" in r.text, path
    with TestClient(app) as admin:
        sign_in(admin, store, settings, clock, "admin")
        token = csrf(admin.get(base).text)
        for form in ({"reason": "r"}, {"reason": "r", "csrf": "x" * 43}, {"csrf": token[:-1]}):
            r = admin.post(base + "/reacceptance", data=form)
            assert r.status_code == 403 and "could not be confirmed" in r.text
        r = admin.post(
            base + "/reacceptance",
            data={"reason": "r", "csrf": token},
            headers={"Sec-Fetch-Site": "cross-site"},
        )
        assert r.status_code == 403
        r = admin.post(base + "/reacceptance", content=b"reason=" + b"x" * 70_000)
        assert r.status_code == 413
    assert api.get("/v1/users/u-anna/status").json() == before
    assert len(audit_entries(store)) == chained + 4  # the two links made and their sign-ins
    assert api.get("/v1/admin/keys").json() == keys
