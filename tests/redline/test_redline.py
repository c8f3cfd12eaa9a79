"""Redline and classifier on real policy text (the project's own privacy policy)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tracker.policy import Significance, normalise_text, split_front_matter
from tracker.redline import classify, compare, parse_blocks, render_html, render_terminal
from tracker.redline.model import Op

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def policy() -> str:
    meta, body = split_front_matter((ROOT / "policy" / "privacy.md").read_text(), where="privacy")
    return normalise_text(meta["title"], body)


def replace(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


# --- blocks -----------------------------------------------------------------------------


def test_blocks_carry_their_section_path(policy: str) -> None:
    blocks = parse_blocks(policy)
    assert blocks[0].kind == "heading" and blocks[0].section == ("Privacy Policy",)
    retention = next(b for b in blocks if b.text.startswith("We retain personal data"))
    assert retention.kind == "paragraph"
    assert retention.section == ("Privacy Policy", "Data Retention and Deletion")


def test_blocks_of_lists_tables_and_links() -> None:
    text = (
        "# T\n\n## A\n\n- one [site](https://a.example)\n  - nested *item*\n- two\n\n"
        "1. first\n2. second\n\n| Data | Kept |\n| :--- | ---: |\n| email | 30 days |\n\n"
        "```\ncode <here>\n```\n\n---\n"
    )
    blocks = parse_blocks(text)
    kinds = [(b.kind, b.level) for b in blocks]
    assert kinds == [
        ("heading", 1),
        ("heading", 2),
        ("list_item", 1),
        ("list_item", 2),
        ("list_item", 1),
        ("list_item", 1),
        ("list_item", 1),
        ("table_row", 0),
        ("table_row", 0),
        ("code", 0),
        ("rule", 0),
    ]
    assert blocks[2].text == "one site" and blocks[2].links == ("https://a.example",)
    assert blocks[3].text == "nested item" and blocks[3].markdown == "nested *item*"
    assert blocks[5].ordered and not blocks[2].ordered
    assert blocks[7].header and blocks[7].cells == ("Data", "Kept")
    assert blocks[8].cells == ("email", "30 days") and blocks[8].align == ("left", "right")
    assert blocks[9].text == "code <here>"
    assert all(b.section[:2] == ("T", "A") for b in blocks[2:])


def test_front_matter_is_not_a_block() -> None:
    blocks = parse_blocks("---\ntitle: X\n---\n# X\n\nBody.\n")
    assert [b.text for b in blocks] == ["X", "Body."]


# --- compare ------------------------------------------------------------------------------


def test_identical_texts_are_unchanged(policy: str) -> None:
    redline = compare(policy, policy)
    assert not redline.changed
    assert redline.sections == []
    assert redline.words_inserted == redline.words_deleted == 0
    assert classify(redline).suggested is Significance.PATCH


def test_whitespace_only_is_unchanged_and_patch(policy: str) -> None:
    rewrapped = policy.replace(". ", ".\n", 3).replace("\n\n## Use", "\n\n\n## Use")
    redline = compare(policy, rewrapped)
    assert not redline.changed and redline.whitespace_changed
    result = classify(redline)
    assert result.suggested is Significance.PATCH
    assert "whitespace" in result.reasons[0]


def test_word_change_is_counted_in_its_section(policy: str) -> None:
    new = replace(policy, "Backup copies may persist briefly", "Backup copies may remain briefly")
    redline = compare(policy, new)
    assert redline.changed
    assert (redline.words_inserted, redline.words_deleted) == (1, 1)
    [section] = redline.sections
    assert section.section == ("Privacy Policy", "Data Retention and Deletion")
    assert section.change == "modified"
    assert (section.words_inserted, section.words_deleted) == (1, 1)
    [change] = redline.changes
    assert change.op is Op.MODIFIED
    assert next(s for s in change.segments if s.op != "equal").text.strip() == "persist"


def test_to_dict_is_json(policy: str) -> None:
    new = replace(
        policy,
        "## Security Measures",
        "## Children\n\nWe do not serve children.\n\n## Security Measures",
    )
    data = compare(policy, new).to_dict()
    again = json.loads(json.dumps(data))
    assert again["changed"] is True
    assert again["sections"][0] == {
        "section": ["Privacy Policy", "Children"],
        "change": "added",
        "words_inserted": 6,  # the heading and the sentence
        "words_deleted": 0,
    }
    assert {b["op"] for b in again["blocks"]} == {"added"}


def test_renamed_heading_is_a_rename_not_a_new_section(policy: str) -> None:
    new = replace(policy, "## Policy Updates", "## Changes to This Policy")
    redline = compare(policy, new)
    [section] = redline.sections
    assert section.change == "renamed"
    assert section.section == ("Privacy Policy", "Changes to This Policy")
    assert section.old_section == ("Privacy Policy", "Policy Updates")


def test_removed_section(policy: str) -> None:
    start = policy.index("## Security Measures")
    end = policy.index("## Policy Updates")
    redline = compare(policy, policy[:start] + policy[end:])
    [section] = redline.sections
    assert section.change == "removed"
    assert section.words_deleted > 40
    result = classify(redline)
    assert result.suggested is Significance.MAJOR
    assert any("Security Measures" in r and "removed" in r for r in result.reasons)


# --- classify -----------------------------------------------------------------------------


def test_typo_fix_is_patch(policy: str) -> None:
    old = replace(policy, "to tailor your experience", "to tailor your experiecne")
    result = classify(compare(old, policy))
    assert result.suggested is Significance.PATCH, result.reasons
    assert "experiecne → experience" in result.reasons[0]


def test_short_word_swap_is_not_a_typo(policy: str) -> None:
    new = replace(policy, "We do not sell personal data", "We do now sell personal data")
    result = classify(compare(policy, new))
    assert result.suggested is Significance.MAJOR
    assert any("not" in r for r in result.reasons)


def test_link_target_change_is_patch() -> None:
    old = "# P\n\n## Contact\n\nWrite to [our team](https://old.example/contact).\n"
    new = "# P\n\n## Contact\n\nWrite to [our team](https://new.example/privacy).\n"
    redline = compare(old, new)
    assert redline.changed
    result = classify(redline)
    assert result.suggested is Significance.PATCH
    assert result.reasons == ("only link targets changed",)
    html = render_html(redline)
    assert "https://old.example/contact" in html and "https://new.example/privacy" in html


def test_case_and_punctuation_is_patch(policy: str) -> None:
    new = replace(
        policy, "Sensitive personal data is neither", "Sensitive Personal Data is neither"
    )
    new = replace(new, "cookies and logs.", "cookies and logs;")
    result = classify(compare(policy, new))
    assert result.suggested is Significance.PATCH
    assert result.reasons == ("only punctuation and letter case changed",)


def test_formatting_is_patch(policy: str) -> None:
    new = replace(
        policy,
        "absolute security cannot be guaranteed",
        "absolute security **cannot** be guaranteed",
    )
    result = classify(compare(policy, new))
    assert result.suggested is Significance.PATCH
    assert result.reasons == ("only Markdown formatting (emphasis) changed",)


def test_ordinary_rewording_is_minor(policy: str) -> None:
    new = replace(policy, "We analyze usage trends", "We study usage trends")
    result = classify(compare(policy, new))
    assert result.suggested is Significance.MINOR


def test_new_section_is_major_with_reason(policy: str) -> None:
    new = policy + "\n## Children\n\nOur services are not directed to children.\n"
    result = classify(compare(policy, new))
    assert result.suggested is Significance.MAJOR
    assert "section “Children” added" in result.reasons


def test_changed_duration_is_major() -> None:
    old = "# P\n\n## Retention\n\nWe delete your data within 30 days of a request.\n"
    new = "# P\n\n## Retention\n\nWe delete your data within 60 days of a request.\n"
    result = classify(compare(old, new))
    assert result.suggested is Significance.MAJOR
    assert any("numbers" in r and "30" in r and "60" in r for r in result.reasons)


def test_large_share_of_words_changed_is_major(policy: str) -> None:
    blocks = parse_blocks(policy)
    new = policy
    for block in blocks[2:12:2]:
        if block.kind == "paragraph":
            new = replace(new, block.markdown, "Text replaced entirely by something else.")
    result = classify(compare(policy, new))
    assert result.suggested is Significance.MAJOR
    assert any("of the words changed" in r for r in result.reasons)


# --- render -------------------------------------------------------------------------------


def test_moved_paragraph_is_marked(policy: str) -> None:
    paragraph = next(b.markdown for b in parse_blocks(policy) if b.text.startswith("We retain"))
    without = policy.replace(paragraph + "\n\n", "")
    new = replace(without, "## Security Measures\n\n", f"## Security Measures\n\n{paragraph}\n\n")
    redline = compare(policy, new)
    moves = [c for c in redline.changes if c.op is Op.MOVED]
    assert len(moves) == 2 and sum(c.stub for c in moves) == 1
    assert redline.words_inserted == redline.words_deleted == 0
    html = render_html(redline)
    assert 'class="redline-block redline-moved"' in html
    assert 'class="redline-block redline-moved-from"' in html
    assert "Moved from “Data Retention and Deletion”" in html
    assert "Moved to “Security Measures”" in html
    assert classify(redline).suggested is Significance.MINOR


def test_list_item_added_keeps_list_structure() -> None:
    old = "# P\n\n## Data\n\nWe collect:\n\n- your name\n- your email\n"
    new = "# P\n\n## Data\n\nWe collect:\n\n- your name\n- your phone number\n- your email\n"
    html = render_html(compare(old, new))
    body = html.split('<div class="redline-body">')[1]
    assert re.search(
        r"<ul><li class=\"redline-block redline-matched\">your name</li>"
        r"<li class=\"redline-block redline-added\"><ins>your phone number</ins></li>"
        r"<li class=\"redline-block redline-matched\">your email</li></ul>",
        body.replace("\n", ""),
    )


def test_nested_lists_nest() -> None:
    text = "# P\n\n- a\n  - b\n  - c\n- d\n"
    html = render_html(compare(text, text.replace("- c", "- c2")))
    flat = re.sub(r' class="[^"]*"', "", html.split('<div class="redline-body">')[1])
    assert "<ul><li>a</li>" not in flat.replace("\n", "")
    assert "<ul><li>a<ul><li>b</li><li>" in flat.replace("\n", "")


def test_table_row_change_keeps_table() -> None:
    old = (
        "# P\n\n## Retention\n\n"
        "| Data | Kept |\n| --- | --- |\n| email | 30 days |\n| logs | 7 days |\n"
    )
    new = old.replace("| logs | 7 days |", "| logs | 14 days |")
    redline = compare(old, new)
    html = render_html(redline)
    assert html.count("<table") == 1 and "</table>" in html
    assert "<th>Data</th>" in html
    assert (
        '<tr class="redline-block redline-modified"><td>logs</td>'
        "<td><del>7</del> <ins>14</ins> days</td></tr>" in html
    )
    assert classify(redline).suggested is Significance.MAJOR


def test_headings_stay_headings_and_summary_links_to_them(policy: str) -> None:
    new = replace(policy, "We analyze usage trends", "We study usage trends")
    html = render_html(compare(policy, new))
    assert '<h2 class="redline-block redline-matched" id="rl-use-of-data">Use of Data</h2>' in html
    assert '<a href="#rl-use-of-data">Use of Data</a>' in html
    assert "<del>analyze</del> <ins>study</ins>" in html


def test_html_is_escaped() -> None:
    old = "# P\n\nIf a < b & c > d then <script>alert(1)</script>.\n"
    new = "# P\n\nIf a < b & c > e then <script>alert(2)</script>.\n"
    html = render_html(compare(old, new))
    assert "<script>" not in html
    assert "&lt;script&gt;" in html and "&amp;" in html
    unchanged = render_html(compare(old, old))
    assert "<script>" not in unchanged


def test_terminal_rendering(policy: str) -> None:
    from rich.console import Console

    new = replace(policy, "We analyze usage trends", "We study usage trends")
    console = Console(record=True, width=100, color_system="truecolor")
    console.print(render_terminal(compare(policy, new)))
    text = console.export_text()
    assert "Use of Data" in text and "analyze" in text and "study" in text
    console.print(render_terminal(compare(policy, policy)))
    assert "No changes" in console.export_text()


def test_standalone_page_escapes_its_title() -> None:
    from tracker.redline.page import standalone_page

    page = standalone_page("A <b> & v1 → v2", render_html(compare("# A\n", "# A\n\nNew.\n")))
    assert page.startswith("<!doctype html>")
    assert "<title>A &lt;b&gt; &amp; v1 → v2</title>" in page
    assert "<ins>New.</ins>" in page


def test_section_change_aliases(policy: str) -> None:
    new = replace(policy, "We analyze usage trends", "We study usage trends")
    [section] = compare(policy, new).sections
    assert section.path == section.section and section.kind == section.change == "modified"


def test_a_deletion_keeps_its_space_from_the_equal_words_before_it() -> None:
    redline = compare(
        "# T\n\nWe collect your name and email address.\n",
        "# T\n\nWe collect your name, email address.\n",
    )
    html = render_html(redline)
    assert "your name <del>and</del> <ins>,</ins> email" in html
