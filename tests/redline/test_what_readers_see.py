"""Redlines and classification see what readers see: HTML comments are invisible and not
counted; a change of form only (heading level, emphasis, list markers, line wrapping, table
alignment) is one formatting mark per block and a patch; moves are still moves; piped
``diff`` output marks changes in the text."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.gitrepo import GitRepo, policy_source
from tracker.policy import Significance
from tracker.redline import classify, compare, parse_blocks, render_html, render_terminal
from tracker.redline.comments import strip_comments
from tracker.redline.model import Op

POLICY = """# Terms

<!-- markdownlint-disable MD013 MD033 -->

Last updated: July 22, 2020

### 1. Accounts

You are responsible for your account. **Keep your password secret** and tell us at once if
someone else uses it.

- We may suspend accounts that break these terms.
- You may close your account at any time.

### 2. Data

| Category | Purpose | Retention |
| --- | --- | --- |
| Logs | Security | 90 days |
| Billing | Invoices | 7 years |

We keep backups for thirty days. <!-- TODO(legal): check the backup period -->

### 3. Changes

We tell you about material changes thirty days before they take effect.
"""


def formatted(redline: object) -> list[str]:
    return [c.block.kind for c in redline.blocks if c.op is Op.FORMATTED]  # type: ignore[attr-defined]


def test_comments_are_neither_blocks_nor_words() -> None:
    blocks = parse_blocks(POLICY)
    assert not any("<!--" in b.markdown or "markdownlint" in b.text for b in blocks)
    assert not any("TODO" in b.text for b in blocks)
    html = render_html(compare(POLICY, POLICY.replace("Accounts", "Your account")))
    assert "markdownlint" not in html and "TODO" not in html


def test_a_comment_only_change_is_a_patch_shown_as_unread() -> None:
    new = POLICY.replace("check the backup period", "confirm 30 days with finance").replace(
        "MD013 MD033", "MD013"
    )
    redline = compare(POLICY, new)
    assert not redline.changed and redline.comments_changed
    assert redline.words_inserted == redline.words_deleted == 0
    result = classify(redline)
    assert result.suggested is Significance.PATCH
    assert result.reasons == ("only HTML comments (not shown to readers) changed",)
    html = render_html(redline)
    assert "readers never see" in html and "finance" not in html


def test_heading_levels_only_is_one_mark_per_heading_and_a_patch() -> None:
    new = POLICY.replace("\n### ", "\n## ")
    redline = compare(POLICY, new)
    assert not redline.changed and redline.sections == []
    assert formatted(redline) == ["heading"] * 3
    assert redline.formatting == ("heading level",)
    assert classify(redline).reasons == ("only Markdown formatting (heading level) changed",)
    assert classify(redline).suggested is Significance.PATCH
    html = render_html(redline)
    # each heading once, at its new level, with its note; nothing deleted or inserted
    assert html.count("1. Accounts") == 1 and "<del>" not in html and "<ins>" not in html
    assert re.search(r'<h2 class="redline-block redline-formatted"[^>]*>1\. Accounts', html)
    assert html.count("heading level 3 → 2") == 3
    assert "3 blocks reformatted (heading level)" in html


@pytest.mark.parametrize(
    ("old", "new", "kind"),
    [
        ("**Keep your password secret**", "__Keep your password secret__", "emphasis"),
        ("**Keep your password secret**", "*Keep your password secret*", "emphasis"),
        ("- We may", "* We may", "list marker"),
        ("| --- | --- | --- |", "|:---|:---|---:|", "table alignment"),
        ("responsible for your account. ", "responsible for your account.\n", "line wrapping"),
    ],
)
def test_each_change_of_form_is_a_formatting_patch(old: str, new: str, kind: str) -> None:
    assert old in POLICY
    redline = compare(POLICY, POLICY.replace(old, new))
    assert not redline.changed and redline.formatted
    assert kind in redline.formatting
    assert redline.words_inserted == redline.words_deleted == 0
    assert classify(redline).suggested is Significance.PATCH
    assert "<del>" not in render_html(redline)


def test_moves_are_still_detected_with_form_changes() -> None:
    moved = "We keep backups for thirty days."
    new = POLICY.replace(moved, "").replace("### ", "## ")
    new = new.replace("before they take effect.\n", f"before they take effect.\n\n{moved}\n")
    redline = compare(POLICY, new)
    assert any(c.op is Op.MOVED and not c.stub for c in redline.blocks)
    assert redline.changed  # a move changes the reading order


def test_words_and_form_together_count_only_the_words() -> None:
    new = POLICY.replace("\n### ", "\n## ").replace("thirty days before", "sixty days before")
    redline = compare(POLICY, new)
    assert (redline.words_inserted, redline.words_deleted) == (1, 1)
    assert len(redline.sections) == 1
    assert classify(redline).suggested is Significance.MAJOR  # a duration changed


def test_strip_comments_keeps_code() -> None:
    text = (
        "A `<!-- kept -->` span.\n\n```\n<!-- kept too -->\n```\n\n<!-- gone -->\nB <!-- gone -->\n"
    )
    assert strip_comments(text) == "A `<!-- kept -->` span.\n\n```\n<!-- kept too -->\n```\n\nB \n"


def test_terminal_marks_without_colour() -> None:
    from rich.console import Console

    new = POLICY.replace("July 22, 2020", "November 16, 2020")
    console = Console(no_color=True, width=200, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
    console.print(render_terminal(compare(POLICY, new), marks=True))
    console.file.close()
    assert "[-July 22-]{+November 16+}, 2020" in console.export_text()


def test_piped_diff_marks_changes_and_colour_is_a_choice(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    body = POLICY.split("\n", 2)[2]
    repo.commit("Add", {"policy/terms.md": policy_source("Terms", body)})
    dated = body.replace("July 22", "November 16")
    repo.commit("Date", {"policy/terms.md": policy_source("Terms", dated)})
    command = [sys.executable, "-m", "tracker", "--repo", str(repo.path), "diff", "terms", "1", "2"]
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    piped = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
    assert "[-July 22-]{+November 16+}, 2020" in piped.stdout
    assert "\x1b[" not in piped.stdout
    always = subprocess.run(
        [*command, "--color=always"], capture_output=True, text=True, check=True, env=env
    )
    assert "\x1b[" in always.stdout and "{+" not in always.stdout
    never = subprocess.run(
        [*command, "--color", "never"], capture_output=True, text=True, check=True, env=env
    )
    assert never.stdout == piped.stdout
