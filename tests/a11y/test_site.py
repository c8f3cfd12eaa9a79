"""Every kind of page of the policy site passes axe-core's WCAG 2.0/2.1 A and AA rules at
1280 × 800 and 390 × 844, in the light and the dark scheme, and reflows at 320 px.

Fails (never skips) in CI when axe-core or chromium is missing: `.ci/run` installs both.
"""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Browser, Page

from tests.a11y.axe import audit

#: Page kind → address. Together they hold every template, banner and significance badge.
PAGES = {
    "index": "",
    "current (changed, upcoming and draft banners)": "privacy/",
    "current (not in force yet)": "accessibility/",
    "current (withdrawn)": "gift-cards/",
    "version (archived)": "privacy/v1/",
    "version (in force)": "privacy/v2/",
    "version (upcoming, major)": "privacy/v3/",
    "version (patch)": "returns/v3/",
    "version (classified)": "returns/v2/",
    "redline": "privacy/changes/2-3/",
    "redline (moved section, table)": "returns/changes/1-2/",
    "history": "returns/history/",
    "draft": "privacy/draft/",
    "draft (new policy)": "refunds/draft/",
    "draft redline (classifier)": "privacy/draft/changes/",
    "not found": "404.html",
}


@pytest.mark.parametrize("kind", list(PAGES))
def test_site_page_passes_axe(kind: str, browser: Browser, site_url: str) -> None:
    def open_page(page: Page) -> None:
        response = page.goto(site_url + PAGES[kind])
        assert response is not None and response.ok, PAGES[kind]

    found = audit(browser, f"site: {kind}", open_page)
    if found.failing or found.too_wide:
        pytest.fail(found.report(reported=False), pytrace=False)


@pytest.mark.parametrize("address", ["", "privacy/changes/2-3/", "404.html"])
def test_the_search_dialog_has_a_name(address: str, site_url: str) -> None:
    """axe reports a nameless dialog as best practice only; the theme's search has one."""
    html = httpx.get(site_url + address).text
    assert 'data-md-component="search" role="dialog" aria-label="Search"' in html
