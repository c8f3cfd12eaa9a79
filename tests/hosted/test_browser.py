"""The whole journey in headless Chromium (Debian's chromium, driven by Playwright): the example
app sends a user who must re-accept to the hosted page, the page shows the redline, and
Accept (or Decline) records a clickwrap event with the browser's user agent and returns to the
app; a new user answers each of two policies on its own. Runs on SQLite and PostgreSQL.

This test fails (it does not skip) when chromium is missing: `.ci/run` installs it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright

from examples.app import create_app as create_example
from tests.browser import ARTIFACTS, launch
from tests.hosted.conftest import catalog
from tests.servers import serve
from tracker.service import create_app
from tracker.settings import Settings
from tracker.store import Store
from tracker.store.keys import create_key
from tracker.store.links import set_key_app


@dataclass
class Servers:
    tracker: str
    example: str
    admin: str
    app: str
    db: str

    def get(self, path: str) -> Any:
        headers = {"Authorization": f"Bearer {self.app}"}
        r = httpx.get(self.tracker + path, headers=headers)
        assert r.status_code == 200, r.text
        return r.json()

    def accept(self, user: str, slug: str, number: int) -> None:
        body = {"user_id": user, "policy": slug, "version": number}
        headers = {"Authorization": f"Bearer {self.app}"}
        r = httpx.post(f"{self.tracker}/v1/acceptances", json=body, headers=headers)
        assert r.status_code == 201, r.text


@pytest.fixture
def servers(settings: Settings, store: Store) -> Iterator[Servers]:
    def keys(session: Any) -> tuple[str, str]:
        admin, _ = create_key(session, "admin", frozenset({"admin"}))
        app, info = create_key(session, "example", frozenset({"read", "write"}))
        set_key_app(
            session,
            info.id,
            app_name="Example Shop",
            brand_color="#0b57d0",
            return_urls=["http://127.0.0.1/"],  # loopback without a port: any port
        )
        return admin, app

    admin, app = store.write(keys)
    with serve(create_app(settings, store=store)) as tracker:
        r = httpx.post(
            f"{tracker}/v1/admin/versions",
            json=catalog(),
            headers={"Authorization": f"Bearer {admin}"},
        )
        assert r.status_code == 201, r.text
        with serve(create_example(tracker, app)) as example:
            yield Servers(tracker, example, admin, app, store.dialect)


@pytest.fixture
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = launch(playwright)
        try:
            yield launched
        finally:
            launched.close()


def returning_user(servers: Servers) -> str:
    """A user who accepted privacy v1 and terms v1; privacy v2 is a major change."""
    user = f"user-{uuid.uuid4().hex[:8]}"
    servers.accept(user, "privacy", 1)
    servers.accept(user, "terms", 1)
    return user


def open_hosted_page(page: Page, servers: Servers, user: str) -> None:
    page.goto(f"{servers.example}/login?user={user}")
    # The middleware sent the browser from the app to the tracker's page.
    assert page.url.startswith(f"{servers.tracker}/accept/"), page.url
    assert user not in page.url
    expect(page.get_by_role("heading", level=1)).to_have_text("Please review Privacy Policy")
    expect(page.locator(".pt-header")).to_have_text("Example Shop")


def test_accepting_in_the_browser(browser: Browser, servers: Servers) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    user = returning_user(servers)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    agent = str(page.evaluate("navigator.userAgent"))
    open_hosted_page(page, servers, user)
    hosted_url = page.url

    redline = page.locator(".pt-redline")
    expect(redline.locator("ins", has_text="location").first).to_be_visible()
    expect(redline.locator(".redline-added", has_text="payment processors")).to_have_count(1)
    assert "underline" in redline.locator("ins").first.evaluate(
        "e => getComputedStyle(e).textDecorationLine"
    )
    expect(page.get_by_text("We now collect your location")).to_be_visible()
    expect(page.locator(".pt-meta__effective")).to_contain_text("Effective")
    expect(page.get_by_text("Terms of Service")).to_have_count(0)  # accepted, unchanged
    page.screenshot(path=str(ARTIFACTS / f"hosted-page-{servers.db}.png"), full_page=True)

    # Keyboard only. Tab alone reaches Accept (past the skip link, the scrollable text and
    # the links of its summary of changes): nothing traps the focus.
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Accept":
            break
    else:
        pytest.fail("Accept cannot be reached with Tab alone")
    # The skip link goes straight to the answer: Tab, Enter, Tab (at most 3 Tabs in all).
    page.goto(hosted_url)
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to your answer")).to_be_focused()
    page.keyboard.press("Enter")
    tabs = 1
    while page.evaluate("document.activeElement.textContent") != "Accept" and tabs < 60:
        page.keyboard.press("Tab")
        tabs += 1
    assert tabs <= 3, f"Accept took {tabs} Tabs"
    page.keyboard.press("Enter")

    page.wait_for_url(f"{servers.example}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Welcome, {user}")
    privacy = servers.get(f"/v1/users/{user}/status?policy=privacy")["policies"][0]
    assert privacy["state"] == "accepted" and privacy["accepted_version"] == 2
    last = servers.get(f"/v1/users/{user}/events")["events"][-1]
    assert (last["type"], last["policy"], last["version"]) == ("accepted", "privacy", 2)
    assert last["method"] == "clickwrap" and last["user_agent"] == agent
    assert last["ip"] == "127.0.0.1"
    assert last["sha256"] == catalog()["policies"][0]["versions"][1]["sha256"]

    # Back on the page: the link is used up, and nothing more is recorded.
    page.goto(hosted_url)
    expect(page.get_by_role("heading", level=1)).to_have_text("This link has already been used")
    assert len(servers.get(f"/v1/users/{user}/events")["events"]) == 3


def test_declining_in_the_browser(browser: Browser, servers: Servers) -> None:
    user = returning_user(servers)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    agent = str(page.evaluate("navigator.userAgent"))
    open_hosted_page(page, servers, user)
    page.get_by_role("button", name="Decline").click()
    page.wait_for_url(f"{servers.example}/policy-return?*")
    assert "policy_tracker=declined" in page.url
    expect(page.get_by_role("heading", level=1)).to_have_text("You declined our updated policies")
    privacy = servers.get(f"/v1/users/{user}/status?policy=privacy")["policies"][0]
    assert privacy["state"] == "declined" and privacy["needs_acceptance"]
    last = servers.get(f"/v1/users/{user}/events")["events"][-1]
    assert (last["type"], last["method"], last["user_agent"]) == ("declined", "clickwrap", agent)
    # Reviewing again gets a fresh link.
    page.get_by_role("link", name="Review them again").click()
    assert page.url.startswith(f"{servers.tracker}/accept/")
    expect(page.get_by_role("button", name="Accept")).to_be_visible()


def choice(page: Page, title: str, version: int, answer: str) -> Locator:
    """The Accept or Decline radio button of one policy's group."""
    group = page.get_by_role("group", name=f"Do you accept {title} (version {version})?")
    return group.get_by_role("radio", name=answer)


def test_the_page_fits_a_phone(browser: Browser, servers: Servers) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    user = f"new-{uuid.uuid4().hex[:8]}"  # never accepted: the full texts
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True)
    page = context.new_page()
    page.goto(f"{servers.example}/login?user={user}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Please review our policies")
    expect(page.get_by_role("heading", name="Terms of Service", level=2)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    for title, version in (("Privacy Policy", 2), ("Terms of Service", 1)):
        for answer in ("Accept", "Decline"):
            label = choice(page, title, version, answer).locator("xpath=..")
            box = label.bounding_box()
            assert box is not None and box["height"] >= 44 and box["width"] >= 300
        choice(page, title, version, "Accept").check()
    submit = page.get_by_role("button", name="Submit my choices")
    box = submit.bounding_box()
    assert box is not None and box["height"] >= 44 and box["width"] >= 300
    page.screenshot(path=str(ARTIFACTS / f"hosted-page-phone-{servers.db}.png"), full_page=True)
    submit.click()
    page.wait_for_url(f"{servers.example}/")
    context.close()


def test_choosing_policy_by_policy_in_the_browser(browser: Browser, servers: Servers) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    user = f"new-{uuid.uuid4().hex[:8]}"  # never accepted: privacy v2 and terms v1 to answer
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    agent = str(page.evaluate("navigator.userAgent"))
    page.goto(f"{servers.example}/login?user={user}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Please review our policies")

    # Submitting with terms unanswered shows the page again, saying what is missing.
    choice(page, "Privacy Policy", 2, "Accept").check()
    page.get_by_role("button", name="Submit my choices").click()
    alert = page.locator(".pt-message--error")
    expect(alert).to_contain_text("Choose Accept or Decline for each policy.")
    expect(page).to_have_title("Error: Please review our policies · Example Shop")
    expect(choice(page, "Privacy Policy", 2, "Accept")).to_be_checked()
    page.screenshot(path=str(ARTIFACTS / f"hosted-page-unanswered-{servers.db}.png"))
    nothing = httpx.get(
        f"{servers.tracker}/v1/users/{user}/events",
        headers={"Authorization": f"Bearer {servers.app}"},
    )
    assert nothing.status_code == 404  # no events for this user yet

    # The summary's link leads to the question; the keyboard answers it.
    alert.get_by_role("link", name="Terms of Service").click()
    assert page.url.endswith("#policy-2-accept")
    decline = choice(page, "Terms of Service", 1, "Decline")
    expect(
        page.get_by_role("group", name="Do you accept Terms of Service (version 1)?")
    ).to_have_accessible_description("Error: Choose Accept or Decline for Terms of Service.")
    choice(page, "Terms of Service", 1, "Accept").focus()
    page.keyboard.press("ArrowRight")  # radio groups move with the arrow keys
    expect(decline).to_be_checked()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Submit my choices")).to_be_focused()
    page.keyboard.press("Enter")

    page.wait_for_url(f"{servers.example}/policy-return?*")
    assert "policy_tracker=declined" in page.url and "policy_tracker_declined=terms" in page.url
    expect(page.get_by_role("heading", level=1)).to_have_text("You declined our updated policies")
    got = servers.get(f"/v1/users/{user}/events")["events"]
    assert [(e["policy"], e["version"], e["type"]) for e in got] == [
        ("privacy", 2, "accepted"),
        ("terms", 1, "declined"),
    ]
    assert all(e["method"] == "clickwrap" and e["user_agent"] == agent for e in got)
