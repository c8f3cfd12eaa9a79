"""``check --format markdown``: the pull-request comment, rendered as GitHub would."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from click.testing import CliRunner
from markdown_it import MarkdownIt

from tests.gitrepo import GitRepo
from tracker.check.markdown import LIMIT
from tracker.cli import cli

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from corpus import FULL, Corpus


def _policy(title: str, body: str) -> str:
    return f"---\ntitle: {title}\n---\n\n{body}\n"


def _check(repo: GitRepo, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        cli, ["--repo", str(repo.path), "check", "--format", "markdown", *args]
    )
    return result.exit_code, result.output


def _html(markdown: str) -> str:
    # GitHub-flavoured: tables, strikethrough and raw HTML (no linkify: not installed)
    return str(MarkdownIt("gfm-like", {"linkify": False}).render(markdown))


def test_a_change_to_three_policies_renders_with_its_sections(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.commit(
        "First policies\n\nPolicy-Change: major",
        {
            "policy/privacy.md": _policy(
                "Privacy", "## Data\n\nWe keep logs for 90 days.\n\n## Rights\n\nAsk us."
            ),
            "policy/terms.md": _policy("Terms", "## Use\n\nBe kind.\n\n## Fees\n\nNone."),
            "policy/cookies.md": _policy("Cookies", "## Kinds\n\nOnly session cookies."),
        },
    )
    repo.branch("edits")
    repo.commit(
        "Edit three policies\n\nPolicy-Change: privacy=patch, terms=minor",
        {
            "policy/privacy.md": _policy(
                "Privacy", "## Data\n\nWe keep logs for 10 years.\n\n## Rights\n\nAsk us."
            ),
            "policy/terms.md": _policy(
                "Terms", "## Use\n\nBe kind to others.\n\n## Fees\n\nNone.\n\n## Law\n\nFrench."
            ),
            "policy/cookies.md": _policy("Cookies", "## Kinds\n\nOnly session cookies, | ok."),
        },
    )
    code, comment = _check(repo, "--base", "main")
    assert code == 1  # privacy: a declared patch that looks material
    html = _html(comment)
    assert re.search(r"<h2>policy-tracker check: ❌ 1 change to fix</h2>", html)
    headings = re.findall(r"<h3>(.*?)</h3>", html)
    assert [re.sub(r"<.*?>", "", h).split(" (")[0] for h in headings] == [
        "✅ cookies v2",
        "❌ privacy v2",
        "✅ terms v2",
    ]
    assert html.count("<table>") == 3
    assert "<td>Privacy › Data</td>\n<td>modified</td>" in html
    assert "<td>Terms › Law</td>\n<td>added</td>" in html
    assert "<td>Cookies › Kinds</td>" in html
    assert "Declared <strong>patch</strong>, suggested <strong>major</strong>" in html
    assert "<li>declared patch but looks material" in html
    assert html.count("<details>") == 4  # one per changed section
    assert "logs for <del>90 days</del><ins>10 years</ins>." in html
    assert "Be kind <ins>to others</ins>." in html
    assert "<strong>Not declared</strong>" in html  # cookies
    assert len(comment) < LIMIT


def test_a_20000_word_rewrite_stays_within_a_comment(tmp_path: Path) -> None:
    old = "\n\n".join(Corpus(FULL, seed=1).document("Terms", 20_000, "##"))
    new = "\n\n".join(Corpus(FULL, seed=2).document("Terms", 20_000, "##"))
    assert len(new.split()) >= 20_000
    repo = GitRepo(tmp_path / "repo")
    repo.commit("Terms\n\nPolicy-Change: major", {"policy/terms.md": _policy("Terms", old)})
    repo.commit("Rewrite\n\nPolicy-Change: major", {"policy/terms.md": _policy("Terms", new)})
    code, comment = _check(repo)
    assert code == 0
    assert len(comment) < LIMIT, len(comment)
    assert len(comment) > LIMIT * 0.8  # the room is used, not wasted
    html = _html(comment)
    assert "<h3>✅ <code>terms</code> v2" in html
    assert "more characters (a comment holds 65,536); the whole redline" in html  # cut
    assert re.search(r"The redlines of \d+ more sections are left out", html)
    assert "<code>policy-tracker diff terms 1 2</code>" in html
    # every section is still listed and has its (maybe cut) redline
    assert html.count("<details>") == html.count("</details>") > 20
    assert html.count("<ins>") == html.count("</ins>")
    assert html.count("<del>") == html.count("</del>")
