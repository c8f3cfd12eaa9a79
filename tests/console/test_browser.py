"""The console in Chromium on a real tracker (uvicorn), on SQLite and PostgreSQL: a viewer
and an admin sign in with links, walk every page, check its figures against the API's,
download the CSV, replay a dead delivery and request re-acceptance; a viewer's POSTs, a used
and an expired link are refused. Screenshots at 1280 and 390 px wide are kept in
test-artifacts/console/, and the overview's at 1280 px is the README's (docs/console.png).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.browser import ARTIFACTS, launch
from tests.console.served import Served, served
from tests.notices.receiver import Receiver
from tests.service.helpers import Clock
from tracker.settings import Settings
from tracker.store import Store

README_SHOT = Path(__file__).resolve().parents[2] / "docs" / "console.png"
WIDTHS = {"desktop": (1280, 800), "phone": (390, 844)}
V3 = "/console/policies/privacy/versions/3"


@pytest.fixture
def console(
    settings: Settings, store: Store, clock: Clock, keys: dict[str, str], receiver: Receiver
) -> Iterator[Served]:
    with served(settings, store, clock, keys, receiver) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = launch(playwright)
        try:
            yield launched
        finally:
            launched.close()


def sign_in(page: Page, link: str) -> None:
    page.goto(link)
    expect(page).to_have_title("Sign in · policy-tracker console")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_title("Overview · policy-tracker console")


def nav(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Console").get_by_role("link", name=name).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(name[:-1], ignore_case=True)


def figure(page: Page, name: str) -> int:
    text = page.locator(f'[data-figure="{name}"]').first.inner_text()
    return int(re.match(r"[0-9,]+", text.strip()).group(0).replace(",", ""))  # type: ignore[union-attr]


def shoot(page: Page, db: str, name: str) -> None:
    folder = ARTIFACTS / "console" / db
    folder.mkdir(parents=True, exist_ok=True)
    for label, (width, height) in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(folder / f"{name}-{label}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})


def test_viewer_and_admin_walk_the_console(
    browser: Browser, console: Served, db_url: str, tmp_path: Path
) -> None:
    db = "postgresql" if db_url.startswith("postgresql") else "sqlite"
    (policy,) = console.api.get("/v1/policies").json()["policies"]
    current = policy["current_version"]
    in_force = console.api.get(f"/v1/policies/privacy/versions/{current}/stats").json()
    stats = console.api.get("/v1/policies/privacy/versions/3/stats").json()
    notices = console.api.get("/v1/policies/privacy/versions/3/notices/stats").json()

    # A viewer sees every page, no action, and the server refuses the viewer's POSTs.
    context = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    page = context.new_page()
    link = console.link("viewer")
    sign_in(page, link)
    for name in ("users", "accepted", "needs_acceptance", "declined"):
        assert figure(page, name) == in_force[name], name
    page.goto(console.url + V3)
    expect(page.get_by_role("heading", level=1)).to_have_text("Privacy Policy, version 3")
    for name in ("users", "accepted", "accepted_current", "declined", "needs_acceptance"):
        assert figure(page, name) == stats[name], name
    assert figure(page, "notices_pending") == notices["pending"]
    expect(page.locator("svg.chart")).to_be_visible()
    expect(page.get_by_role("button", name="Request re-acceptance")).to_have_count(0)
    token = page.locator('input[name="csrf"]').first.get_attribute("value")
    refused = page.request.post(
        console.url + V3 + "/reacceptance", form={"reason": "x", "csrf": str(token)}
    )
    assert refused.status == 403 and "viewer" in refused.text()
    refused = page.request.post(
        f"{console.url}/console/webhooks/deliveries/{console.delivery}/replay",
        form={"csrf": str(token)},
    )
    assert refused.status == 403
    with page.expect_download() as download:
        page.get_by_role("link", name="Download as CSV").click()
    path = tmp_path / "must-accept.csv"
    download.value.save_as(path)
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert len(rows) == stats["needs_acceptance"]
    nav(page, "Webhooks")
    expect(page.get_by_role("button", name=re.compile("Replay"))).to_have_count(0)
    nav(page, "Keys")
    expect(page.get_by_role("heading", name="Create a key")).to_have_count(0)
    context.close()

    # The link is used up.
    context = browser.new_context()
    page = context.new_page()
    page.goto(link)
    expect(page).to_have_title("This sign-in link has already been used · policy-tracker console")
    context.close()

    # An admin replays the dead delivery and requests re-acceptance.
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    sign_in(page, console.link("admin"))
    shoot(page, db, "overview")
    if db == "sqlite":
        page.screenshot(path=str(README_SHOT), full_page=True)
    nav(page, "Webhooks")
    assert figure(page, "dead") == 1
    shoot(page, db, "webhooks")
    page.get_by_role("button", name=f"Replay delivery {console.delivery}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Delivery queued again")
    dead = console.api.get("/v1/admin/deliveries?state=dead").json()["deliveries"]
    assert dead == []
    nav(page, "Keys")
    shoot(page, db, "keys")
    page.goto(console.url + V3)
    shoot(page, db, "version")
    page.get_by_label("User id starts with").fill("u-")
    page.get_by_role("button", name="Search").click()
    assert figure(page, "must_total") == 2
    page.get_by_label("Reason (kept in the audit log)").fill("Clause 4 was unclear")
    page.get_by_role("button", name="Request re-acceptance").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Re-acceptance requested")
    (status,) = console.api.get("/v1/users/u-anna/status").json()["policies"]
    assert status["needs_acceptance"] is True
    page.get_by_role("link", name="Back to the version").click()
    after = console.api.get("/v1/policies/privacy/versions/3/stats").json()
    assert figure(page, "needs_acceptance") == after["needs_acceptance"] > stats["needs_acceptance"]
    context.close()

    # An expired link.
    expired = console.link("admin")
    console.clock.now += timedelta(seconds=console.settings.console_link_seconds + 1)
    context = browser.new_context()
    page = context.new_page()
    page.goto(expired)
    expect(page).to_have_title("This sign-in link has expired · policy-tracker console")
    context.close()
