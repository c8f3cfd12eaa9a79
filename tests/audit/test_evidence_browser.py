"""The evidence page a person reads, in a real browser at 1280 and 390 px: notices are rows of
a table (not raw JSON) and nothing overflows the page."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from tests.audit.test_bundle_pure import KEY, _bundle, _chain
from tests.browser import ARTIFACTS, launch
from tracker.audit import bundle


@pytest.mark.parametrize("width", [1280, 390])
def test_the_evidence_page_shows_notices_as_a_table(tmp_path: Path, width: int) -> None:
    data = _bundle(_chain())
    data["notices"][0].update(
        title="Privacy Policy",
        significance="major",
        summary="We now process health data",
        effective="2026-01-31",
        redline_url="https://example.com/privacy/changes/1-2/",
    )
    page_file = tmp_path / "alice.html"
    page_file.write_text(bundle.render_html(data, bundle.verify(data, trusted=KEY.public_key())))
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.goto(page_file.as_uri())
            notices = page.locator("#notices + div table")
            text = notices.inner_text()
            assert "{" not in text and '"from_version"' not in text, text
            for shown in ("Privacy Policy", "version 1 to 2", "We now process health data"):
                assert shown in text, text
            link = notices.get_by_role("link", name="what changed")
            assert link.get_attribute("href") == "https://example.com/privacy/changes/1-2/"
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"evidence-{width}.png"), full_page=True)
        finally:
            browser.close()
