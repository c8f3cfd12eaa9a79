"""The hosted acceptance page, in every state it can be in, passes axe-core's WCAG 2.0/2.1 A and
AA rules at 1280 × 800 and 390 × 844 in both colour schemes, and reflows at 320 px. Each state
is reached as a user reaches it, in the browser, on a real tracker (uvicorn, SQLite).

Fails (never skips) in CI when axe-core or chromium is missing: `.ci/run` installs both.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.a11y.axe import audit
from tests.hosted.conftest import PRIVACY_V1, PRIVACY_V2
from tests.servers import serve
from tests.service.helpers import Clock, payload, policy, version
from tracker import migrations
from tracker.service import create_app
from tracker.settings import Settings
from tracker.store import Store
from tracker.store.keys import create_key
from tracker.store.links import set_key_app

APP = "Example Shop"


def hosted_catalog() -> dict[str, Any]:
    """``privacy``: v1 major, v2 minor, v3 major (a redline), v4 patch: every badge on the
    page of a user who accepted v1; ``terms``: v1."""
    return payload(
        policy(
            "privacy",
            version(1, "major", body=PRIVACY_V1, summary="First version"),
            version(2, "minor", body=PRIVACY_V1 + "\nWe use cookies.\n", summary="Cookies"),
            version(3, "major", body=PRIVACY_V2 + "\nWe use cookies.\n", summary="Location"),
            version(4, "patch", body=PRIVACY_V2 + "\nWe use cookies!\n", summary="Punctuation"),
            title="Privacy Policy",
        ),
        policy("terms", version(1, "major", title="Terms of Service"), title="Terms of Service"),
    )


@dataclass
class Tracker:
    url: str
    key: str
    clock: Clock

    def record(self, user: str, slug: str, number: int) -> None:
        r = httpx.post(
            f"{self.url}/v1/acceptances",
            json={"user_id": user, "policy": slug, "version": number},
            headers={"Authorization": f"Bearer {self.key}"},
        )
        assert r.status_code == 201, r.text

    def link(self, *, accepted: tuple[tuple[str, int], ...] = (), **body: Any) -> str:
        """A fresh user, who accepted ``accepted``, and an acceptance link for them."""
        user = f"user-{uuid.uuid4().hex[:8]}"
        for slug, number in accepted:
            self.record(user, slug, number)
        r = httpx.post(
            f"{self.url}/v1/acceptance-links",
            json={"user_id": user, "return_url": self.back, **body},
            headers={"Authorization": f"Bearer {self.key}"},
        )
        assert r.status_code == 201, r.text
        return str(r.json()["url"])

    @property
    def back(self) -> str:
        return f"{self.url}/openapi.json"  # a page of the tracker: the app is not needed


@pytest.fixture(scope="module")
def tracker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tracker]:
    folder: Path = tmp_path_factory.mktemp("a11y-hosted")
    settings = Settings(
        repository=folder,
        database_url=f"sqlite:///{folder / 'tracker.sqlite3'}",
        site_dir=folder / "no-site",
    )
    store = Store.open(settings)
    migrations.upgrade(store.engine)

    def keys(session: Any) -> tuple[str, str]:
        admin, _ = create_key(session, "admin", frozenset({"admin"}))
        app, info = create_key(session, "shop", frozenset({"read", "write"}))
        set_key_app(
            session, info.id, app_name=APP, brand_color="#0b57d0", return_urls=["http://127.0.0.1/"]
        )
        return admin, app

    admin, app = store.write(keys)
    clock = Clock()
    try:
        with serve(create_app(settings, store=store, clock=clock)) as url:
            r = httpx.post(
                f"{url}/v1/admin/versions",
                json=hosted_catalog(),
                headers={"Authorization": f"Bearer {admin}"},
            )
            assert r.status_code == 201, r.text
            yield Tracker(url, app, clock)
    finally:
        store.dispose()


RETURNING = (("privacy", 1), ("terms", 1))  # privacy v3 is a major change since


def _accept_button(page: Page) -> Any:
    return page.get_by_role("button", name="Accept", exact=True)


def _set(page: Page, selector: str, value: str) -> None:
    page.locator(selector).first.evaluate("(e, v) => { e.value = v; }", value)


def changes_since(t: Tracker, page: Page) -> None:
    page.goto(t.link(accepted=RETURNING))
    expect(page.locator(".pt-redline ins").first).to_be_visible()


def full_text(t: Tracker, page: Page) -> None:
    page.goto(t.link(policies=["terms"]))
    expect(page).to_have_title(f"Please review Terms of Service · {APP}")


def several(t: Tracker, page: Page) -> None:
    page.goto(t.link())
    expect(page.get_by_role("button", name="Submit my choices")).to_be_visible()


def unanswered(t: Tracker, page: Page) -> None:  # 422
    several(t, page)
    page.get_by_role("group", name="Do you accept Privacy Policy (version 4)?").get_by_role(
        "radio", name="Accept"
    ).check()
    page.get_by_role("button", name="Submit my choices").click()
    expect(page).to_have_title(f"Error: Please review our policies · {APP}")


def stale(t: Tracker, page: Page) -> None:  # 409: the form names a version no longer current
    changes_since(t, page)
    _set(page, "input[name=version]", "3")
    _accept_button(page).click()
    expect(page.locator(".pt-message--warning")).to_contain_text("version 4 replaces version 3")
    expect(page).to_have_title(f"Error: Please review Privacy Policy · {APP}")


def forged(t: Tracker, page: Page) -> None:  # 403: the form secret's cookie is missing
    changes_since(t, page)
    page.context.clear_cookies()
    _accept_button(page).click()
    expect(page.locator(".pt-message--warning")).to_contain_text("could not confirm")
    expect(page).to_have_title(f"Error: Please review Privacy Policy · {APP}")


def all_set(t: Tracker, page: Page) -> None:
    page.goto(t.link(accepted=(("privacy", 4), ("terms", 1))))
    expect(page).to_have_title(f"You are all set · {APP}")


def used(t: Tracker, page: Page) -> None:  # 410
    link = t.link(accepted=RETURNING)
    page.goto(link)
    _accept_button(page).click()
    page.wait_for_url(t.back + "?*")
    page.goto(link)
    expect(page).to_have_title(f"This link has already been used · {APP}")


def expired(t: Tracker, page: Page) -> None:  # 410
    link = t.link(accepted=RETURNING)
    t.clock.now += timedelta(hours=1)  # links last 15 minutes
    page.goto(link)
    expect(page).to_have_title(f"This link has expired · {APP}")


def invalid(t: Tracker, page: Page) -> None:  # 404
    page.goto(f"{t.url}/accept/not-a-token")
    expect(page).to_have_title("This link is not valid · policy-tracker")


def unreadable(t: Tracker, page: Page) -> None:  # 400: an answer the page never offers
    changes_since(t, page)
    _set(page, "button[value=accept]", "maybe")
    page.locator("button[value=maybe]").click()
    expect(page).to_have_title("The form could not be read · policy-tracker")


def too_large(t: Tracker, page: Page) -> None:  # 413
    changes_since(t, page)
    page.locator("form").evaluate(
        "f => { const i = document.createElement('input'); i.type = 'hidden'; i.name = 'x';"
        " i.value = 'x'.repeat(70000); f.appendChild(i); }"
    )
    _accept_button(page).click()
    expect(page).to_have_title("The form is too large · policy-tracker")


STATES: dict[str, Callable[[Tracker, Page], None]] = {
    "one policy, changes since (minor, major and patch badges)": changes_since,
    "one policy, full text": full_text,
    "several policies": several,
    "several policies, one unanswered (422)": unanswered,
    "changed while reading (409)": stale,
    "answer not confirmed (403)": forged,
    "all set": all_set,
    "link used (410)": used,
    "link expired (410)": expired,
    "link not valid (404)": invalid,
    "form unreadable (400)": unreadable,
    "form too large (413)": too_large,
}


@pytest.mark.parametrize("state", list(STATES))
def test_hosted_page_passes_axe(state: str, browser: Browser, tracker: Tracker) -> None:
    found = audit(browser, f"hosted: {state}", lambda page: STATES[state](tracker, page))
    if found.failing or found.too_wide:
        pytest.fail(found.report(reported=False), pytrace=False)
