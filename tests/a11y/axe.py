"""axe-core, injected into pages open in Debian's chromium, and what it reports.

axe-core comes from the npm registry, pinned in ``tests/a11y/package.json`` and its lock file;
``.ci/run`` installs it (``npm ci --prefix tests/a11y``). A page fails on any violation of a rule
tagged WCAG 2.0 or 2.1, level A or AA; rules tagged WCAG 2.2 AA or best practice are reported,
never failing. Without axe-core the tests skip on a developer's machine and fail in CI
(``POLICY_TRACKER_REQUIRE_SERVICES=1``, set by ``.ci/run``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from tests.browser import ARTIFACTS

AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
FAILING = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
REPORTED = ("wcag22aa", "best-practice")
VIEWPORTS = {"desktop": (1280, 800), "phone": (390, 844)}
SCHEMES = ("light", "dark")
NARROWEST = 320  # WCAG 1.4.10: content reflows at 320 CSS pixels, no scrolling sideways

Opener = Callable[[Page], None]


@cache
def axe_source() -> str:
    if not AXE.is_file():
        message = f"axe-core is not installed ({AXE}): run npm ci --prefix tests/a11y"
        if os.environ.get("POLICY_TRACKER_REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return AXE.read_text(encoding="utf-8")


@dataclass(frozen=True)
class Finding:
    """One rule violated on one page run, with the elements that violate it."""

    where: str  # viewport and scheme
    rule: str
    impact: str
    tags: tuple[str, ...]
    help: str
    targets: tuple[str, ...]
    summary: str

    @property
    def failing(self) -> bool:
        return any(tag in FAILING for tag in self.tags)

    def line(self) -> str:
        tags = " ".join(t for t in self.tags if t.startswith("wcag") or t == "best-practice")
        shown = ", ".join(self.targets[:4]) + (" …" if len(self.targets) > 4 else "")
        return f"{self.rule} ({self.impact}; {tags}) {self.help}: {shown}\n      {self.summary}"


@dataclass
class Audit:
    """Everything found on one page kind, across viewports and colour schemes."""

    kind: str
    runs: int = 0
    findings: list[Finding] = field(default_factory=list)
    too_wide: list[str] = field(default_factory=list)

    @property
    def failing(self) -> list[Finding]:
        return [f for f in self.findings if f.failing]

    @property
    def reported(self) -> list[Finding]:
        return [f for f in self.findings if not f.failing]

    def report(self, *, failing: bool = True, reported: bool = True) -> str:
        """Counts, then each finding once with the page runs it was found on."""
        lines = [
            f"{self.kind}: {self.runs} page runs, {len(self.failing)} WCAG 2.0/2.1 A/AA "
            f"violations, {len(self.reported)} reported (WCAG 2.2 AA, best practice)"
            + (f", {len(self.too_wide)} too wide at {NARROWEST} px" if self.too_wide else "")
        ]
        for label, wanted, show in (
            ("FAIL", self.failing, failing),
            ("note", self.reported, reported),
        ):
            grouped: dict[str, list[str]] = {}
            for finding in wanted:
                grouped.setdefault(finding.line(), []).append(finding.where)
            if show:
                lines += [f"  {label} [{'; '.join(w)}] {line}" for line, w in grouped.items()]
        lines += [f"  FAIL reflow: {w}" for w in self.too_wide]
        return "\n".join(lines)

    def save(self) -> None:
        folder = ARTIFACTS / "axe"
        folder.mkdir(parents=True, exist_ok=True)
        data = {
            "kind": self.kind,
            "runs": self.runs,
            "findings": [f.__dict__ | {"failing": f.failing} for f in self.findings],
            "too_wide": self.too_wide,
        }
        name = self.kind.replace("/", "-").replace(" ", "-")
        (folder / f"{name}.json").write_text(json.dumps(data, indent=2), encoding="utf-8")


def run_axe(page: Page, where: str) -> list[Finding]:
    """Inject axe-core into the open page and run the WCAG A/AA and reported rules."""
    page.add_script_tag(content=axe_source())
    result: dict[str, Any] = page.evaluate(
        """async (tags) => await axe.run(document, {
            runOnly: {type: "tag", values: tags}, resultTypes: ["violations"],
        })""",
        [*FAILING, *REPORTED],
    )
    return [
        Finding(
            where=where,
            rule=v["id"],
            impact=str(v.get("impact")),
            tags=tuple(v["tags"]),
            help=v["help"],
            targets=tuple(" ".join(map(str, n["target"])) for n in v["nodes"]),
            summary=(v["nodes"][0].get("failureSummary") or "").replace("\n", " "),
        )
        for v in result["violations"]
    ]


def page_width(page: Page) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth"))


@contextmanager
def context_page(browser: Browser, width: int, height: int, scheme: str) -> Iterator[Page]:
    # bypass_csp: the hosted page forbids inline scripts, and axe is injected as one.
    context = browser.new_context(
        viewport={"width": width, "height": height},
        color_scheme=scheme,  # type: ignore[arg-type]
        reduced_motion="reduce",
        bypass_csp=True,
    )
    try:
        yield context.new_page()
    finally:
        context.close()


def audit(browser: Browser, kind: str, open_page: Opener) -> Audit:
    """Open a page kind at both viewports in both schemes and run axe on each; then at 320 px
    check that nothing is wider than the viewport. ``open_page`` brings a fresh page to it."""
    axe_source()
    found = Audit(kind)
    for label, (width, height) in VIEWPORTS.items():
        for scheme in SCHEMES:
            with context_page(browser, width, height, scheme) as page:
                open_page(page)
                found.runs += 1
                found.findings += run_axe(page, f"{label} {width}×{height} {scheme}")
    # Layout does not depend on the scheme: one run at the narrowest width.
    with context_page(browser, NARROWEST, 640, "light") as page:
        open_page(page)
        wide = page_width(page)
        if wide > NARROWEST:
            found.too_wide.append(f"{wide} px wide at {NARROWEST} px")
    found.save()
    REPORTS.append(found)
    return found


#: Every audit of the session, printed at the end of the run (see conftest.py).
REPORTS: list[Audit] = []
