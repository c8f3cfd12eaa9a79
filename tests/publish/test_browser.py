"""The built site in a real headless browser (Debian's chromium driven by Playwright).

This test fails (it does not skip) when chromium is missing: `.ci/run` installs it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from tests.browser import ARTIFACTS, launch
from tests.publish.conftest import Site
from tests.servers import serve_folder


@pytest.fixture
def served(built: Site) -> Iterator[str]:
    with serve_folder(built.root) as url:
        yield url


@pytest.fixture
def page() -> Iterator[Page]:
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            yield browser.new_page(viewport={"width": 1280, "height": 900})
        finally:
            browser.close()


def test_reader_journey(served: str, page: Page) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(served + "privacy/")
    meta = page.locator(".pt-meta")
    expect(meta).to_contain_text("Last updated")
    expect(meta).to_contain_text("3 January 2024")
    expect(page.locator(".pt-meta__version dd")).to_have_text("2")
    expect(page.locator(".pt-banner--upcoming")).to_contain_text("Version 3 takes effect on")
    page.screenshot(path=str(ARTIFACTS / "policy-current.png"), full_page=True)

    page.get_by_role("link", name="All versions and changes").first.click()
    page.wait_for_url(served + "privacy/history/")  # loaded, not only addressed
    rows = page.locator("tr.pt-history__row")
    expect(rows).to_have_count(3)

    # Every link of the history table leads to a page that exists.
    hrefs = page.locator("tr.pt-history__row a").evaluate_all("els => els.map(e => e.href)")
    assert len(hrefs) >= 5
    for href in hrefs:
        response = page.request.get(href)
        assert response.ok, href

    page.get_by_role("link", name="Version 1", exact=True).click()
    page.wait_for_url(served + "privacy/v1/")  # loaded, not only addressed
    expect(page.locator(".pt-banner--archived")).to_contain_text("Archived version")

    page.goto(served + "privacy/history/")
    page.locator("tr.pt-history__row").first.get_by_role("link", name="from 2").click()
    page.wait_for_url(served + "privacy/changes/2-3/")  # loaded, not only addressed
    redline = page.locator(".pt-redline")
    expect(redline.locator("ins").first).to_be_visible()
    expect(redline.locator("del").first).to_be_visible()
    expect(redline.locator("ins", has_text="location")).to_have_count(1)
    expect(redline.locator("del", has_text="and")).not_to_have_count(0)
    decoration = redline.locator("del").first.evaluate(
        "e => getComputedStyle(e).textDecorationLine"
    )
    assert "line-through" in decoration
    page.screenshot(path=str(ARTIFACTS / "policy-redline.png"), full_page=True)
    page.emulate_media(media="print")
    assert "line-through" in redline.locator("del").first.evaluate(
        "e => getComputedStyle(e).textDecorationLine"
    )
    assert "underline" in redline.locator("ins").first.evaluate(
        "e => getComputedStyle(e).textDecorationLine"
    )
    page.pdf(path=str(ARTIFACTS / "policy-redline.pdf"))


@pytest.mark.parametrize("width", [1280, 390])
def test_tables_banners_and_widths(served: str, width: int) -> None:
    """The index and history tables fill the column at 1280 px with each date on one line,
    and nothing overflows the page at 390 px; banner sentences do not run together."""
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_page(viewport={"width": width, "height": 900})
            for address in ("", "privacy/history/"):
                page.goto(served + address)
                table = page.locator(".pt-table table").first
                column = page.locator(".md-content__inner").first
                box, inner = table.bounding_box(), column.bounding_box()
                assert box is not None and inner is not None
                wide = page.evaluate("document.documentElement.scrollWidth")
                assert wide <= width, (address, wide)
                if width == 1280:
                    assert box["width"] >= 0.9 * inner["width"], (address, box, inner)
                    lines = page.locator(".pt-table td time").evaluate_all(
                        "els => els.map(e => e.getClientRects().length)"
                    )
                    assert lines and set(lines) == {1}, (address, lines)
                page.screenshot(
                    path=str(
                        ARTIFACTS
                        / f"table-{address.strip('/').replace('/', '-') or 'index'}-{width}.png"
                    ),
                    full_page=True,
                )
            page.goto(served + "privacy/")
            banner = page.locator(".pt-banner--upcoming").first.inner_text()
            assert ". Until then, the version below applies." in banner, banner
        finally:
            browser.close()
