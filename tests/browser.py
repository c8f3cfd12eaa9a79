"""Headless Chromium for the browser tests: Debian's chromium, driven by Playwright.

The tests fail (they never skip) when chromium is missing: `.ci/run` installs it.
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, Playwright

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
# Without the background-networking flags Chromium keeps dialling out on a closed network.
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]


def launch(playwright: Playwright) -> Browser:
    assert CHROMIUM.exists(), "chromium is missing: apt-get install -y chromium"
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
