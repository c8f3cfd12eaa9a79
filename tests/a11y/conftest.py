"""Fixtures of the accessibility tests: one headless chromium per module, the policy site
built with the project's own theme settings (light and dark palettes) from a repository that
has every page kind, and the end-of-run report of what axe found."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from playwright.sync_api import Browser, sync_playwright

from tests.a11y.axe import REPORTS
from tests.browser import launch
from tests.gitrepo import GitRepo, policy_source
from tests.publish.conftest import AS_OF, PRIVACY_DRAFT, build_site, make_repository
from tests.servers import serve_folder

ROOT = Path(__file__).resolve().parents[2]

RETURNS_V1 = """
## Returns

You may return an item within 14 days of delivery.

| Item | Period |
| --- | --- |
| Clothing | 14 days |
| Software | none |

## Refunds

We refund the price within 30 days of receiving the item.

## Exceptions

Perishable goods cannot be returned.
"""

RETURNS_V2 = """
## Returns

You may return an item within 30 days of delivery, in its original packaging.

| Item | Period |
| --- | --- |
| Clothing | 30 days |
| Software | 14 days |

## Exceptions

Perishable goods cannot be returned.

## Refunds

We refund the price within 30 days of receiving the item.
"""

ACCESSIBILITY_V1 = """
## Our commitment

Our pages meet WCAG 2.1 AA. Write to access@example.org if one does not.
"""


def add_every_page_kind(repo: GitRepo) -> None:
    """Beyond ``make_repository``: a redline with a moved section and a table, a significance
    the classifier decided, a policy not in force yet, a withdrawn policy and two drafts."""
    repo.commit(
        "Add the returns policy\n\nPolicy-Summary: How returns work.",
        {"policy/returns.md": policy_source("Returns Policy", RETURNS_V1)},
    )  # 2024-01-10
    repo.commit(  # no trailer: the classifier decides its significance
        "Longer returns period",
        {"policy/returns.md": policy_source("Returns Policy", RETURNS_V2)},
    )  # 2024-01-11
    repo.commit(
        "Fix a typo\n\nPolicy-Change: patch",
        {
            "policy/returns.md": policy_source(
                "Returns Policy", RETURNS_V2.replace("the price", "the full price")
            )
        },
    )  # 2024-01-12
    repo.commit(
        "Publish the accessibility statement\n\nPolicy-Effective: 2024-02-15\n"
        "Policy-Summary: Our accessibility statement.",
        {"policy/accessibility.md": policy_source("Accessibility Statement", ACCESSIBILITY_V1)},
    )  # 2024-01-13 (effective 2024-02-15)
    repo.commit(
        "Publish a gift card policy",
        {"policy/gift-cards.md": policy_source("Gift Card Policy", "## Validity\n\nOne year.\n")},
    )  # 2024-01-14
    repo.commit("Withdraw the gift card policy", {"policy/gift-cards.md": None})  # 2024-01-15
    repo.write("policy/privacy.md", policy_source("Privacy Policy", PRIVACY_DRAFT, notice_days=30))
    repo.write("policy/refunds.md", policy_source("Refund Policy", "## Refunds\n\nWithin 14 days."))


def write_site_config(folder: Path, repo: Path) -> Path:
    """``mkdocs.yml`` with the project's theme (its palettes follow the reader's system
    setting) and Markdown extensions, reading the test repository with drafts on."""
    project = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "docs").mkdir(exist_ok=True)
    (folder / "docs" / "index.md").write_text("# Our policies\n\nRead them here.\n")
    plugin: dict[str, Any] = {"repository": str(repo), "as_of": AS_OF, "drafts": True}
    config = {
        "site_name": "Example policies",
        "docs_dir": "docs",
        "theme": project["theme"],
        "plugins": ["search", {"policy-tracker": plugin}],
        "markdown_extensions": project["markdown_extensions"],
    }
    path = folder / "mkdocs.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def site_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The built site, served on loopback."""
    folder = tmp_path_factory.mktemp("a11y-site")
    repo = make_repository(folder / "repo")
    add_every_page_kind(repo)
    os.environ["NO_MKDOCS_2_WARNING"] = "1"
    saved = {
        k: os.environ.pop(k)
        for k in ("POLICY_TRACKER_AS_OF", "POLICY_TRACKER_DRAFTS")
        if k in os.environ
    }
    try:
        build_site(write_site_config(folder / "config", repo.path), folder / "site")
    finally:
        os.environ.update(saved)
    with serve_folder(folder / "site") as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One chromium per module: Playwright's sync API allows one at a time, and the browser
    tests of other folders start their own."""
    with sync_playwright() as playwright:
        launched = launch(playwright)
        try:
            yield launched
        finally:
            launched.close()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """What axe found, printed whether or not the tests failed: the WCAG 2.2 AA and best
    practice findings never fail a test, so they would otherwise go unseen."""
    if not REPORTS:
        return
    terminalreporter.section("accessibility (axe-core)")
    for audit in REPORTS:
        terminalreporter.write_line(audit.report(failing=False))
