"""The console's pages, in each state a user meets them, pass axe-core's WCAG 2.0/2.1 A and AA
rules at 1280 × 800 and 390 × 844 in both colour schemes, and reflow at 320 px; reached as a
user reaches them, in the browser, on a real tracker (uvicorn, SQLite)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.a11y.axe import audit
from tests.console.served import Served, served
from tests.notices.receiver import Receiver
from tests.service.helpers import Clock
from tracker import migrations
from tracker.settings import Settings
from tracker.store import Store
from tracker.store.keys import create_key

V3 = "/console/policies/privacy/versions/3"


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder: Path = tmp_path_factory.mktemp("a11y-console")
    settings = Settings(
        repository=folder,
        database_url=f"sqlite:///{folder / 'tracker.sqlite3'}",
        site_dir=folder / "no-site",
        webhook_allowed_hosts="127.0.0.1",
        webhook_timeout=1.0,
        webhook_retry_schedule="5s",
    )
    store = Store.open(settings)
    migrations.upgrade(store.engine)

    def keys(session: Any) -> dict[str, str]:
        admin, _ = create_key(session, "admin", frozenset({"read", "write", "admin"}))
        write, _ = create_key(session, "write", frozenset({"write"}))
        return {"admin": admin, "write": write}

    made = store.write(keys)
    try:
        with Receiver() as receiver, served(settings, store, Clock(), made, receiver) as running:
            yield running
    finally:
        store.dispose()


def _signed_in(c: Served, page: Page, role: str = "admin") -> None:
    page.goto(c.link(role))
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_title("Overview · policy-tracker console")


def sign_in(c: Served, page: Page) -> None:
    page.goto(c.link("admin"))
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()


def overview(c: Served, page: Page) -> None:
    _signed_in(c, page)


def version(c: Served, page: Page) -> None:
    _signed_in(c, page)
    page.goto(c.url + V3)
    expect(page.locator("svg.chart")).to_be_visible()


def version_as_viewer_searched(c: Served, page: Page) -> None:
    _signed_in(c, page, "viewer")
    page.goto(c.url + V3 + "?q=nobody")
    expect(page.locator('[data-figure="must_total"]')).to_contain_text("0 users")


def webhooks(c: Served, page: Page) -> None:
    _signed_in(c, page)
    page.goto(c.url + "/console/webhooks")
    expect(page.get_by_role("heading", name="Dead deliveries")).to_be_visible()


def key_created(c: Served, page: Page) -> None:
    _signed_in(c, page)
    page.goto(c.url + "/console/keys")
    page.get_by_label("Name (the app that uses it)").fill("crm")
    page.get_by_role("button", name="Create key").click()
    expect(page.get_by_role("heading", name="Key created")).to_be_visible()


def used_link(c: Served, page: Page) -> None:  # 410
    link = c.link("viewer")
    page.goto(link)
    page.get_by_role("button", name="Sign in").click()
    page.goto(link)
    expect(page).to_have_title("This sign-in link has already been used · policy-tracker console")


def signed_out(c: Served, page: Page) -> None:  # 401
    page.goto(c.url + "/console/")
    expect(page).to_have_title("Please sign in · policy-tracker console")


def bad_page_number(c: Served, page: Page) -> None:  # 422
    _signed_in(c, page)
    page.goto(c.url + V3 + "?page=abc")
    expect(page).to_have_title("That did not work · policy-tracker console")


STATES: dict[str, Callable[[Served, Page], None]] = {
    "sign-in": sign_in,
    "overview": overview,
    "version (admin, chart and re-acceptance form)": version,
    "version (viewer, search without match)": version_as_viewer_searched,
    "webhooks with a dead delivery": webhooks,
    "keys, one just created": key_created,
    "link used (410)": used_link,
    "not signed in (401)": signed_out,
    "bad page number (422)": bad_page_number,
}


@pytest.mark.parametrize("state", list(STATES))
def test_console_passes_axe(state: str, browser: Browser, console: Served) -> None:
    found = audit(browser, f"console: {state}", lambda page: STATES[state](console, page))
    if found.failing or found.too_wide:
        pytest.fail(found.report(reported=False), pytrace=False)
