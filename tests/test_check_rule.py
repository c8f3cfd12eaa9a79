"""The one check rule (README, docs/site.md, the command's help): check fails on an
undeclared change that looks material (major), on a declared patch that looks material, and
on invalid trailers; an undeclared minor change is reported, not refused."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from tests.gitrepo import GitRepo, policy_source
from tracker.cli import cli

BODY = "## Use\n\nWe use your data to run the service and to answer your questions.\n"


def _check(repo: GitRepo) -> tuple[int, list[dict[str, object]]]:
    result = CliRunner().invoke(
        cli, ["--repo", str(repo.path), "check", "--base", "HEAD~1", "--json"]
    )
    return result.exit_code, json.loads(result.stdout)


def test_undeclared_minor_passes_undeclared_major_fails(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.commit("Add\n\nPolicy-Change: major", {"policy/p.md": policy_source("P", BODY)})
    repo.commit("Reword", {"policy/p.md": policy_source("P", BODY.replace("answer", "reply to"))})
    code, reports = _check(repo)
    assert reports[0]["suggested"] == "minor" and reports[0]["problems"] == []
    assert code == 0
    repo.commit("Sell data", {"policy/p.md": policy_source("P", BODY.replace("We use", "We sell"))})
    repo.commit(
        "Keep 30 days", {"policy/p.md": policy_source("P", BODY + "\nWe keep logs 30 days.\n")}
    )
    code, reports = _check(repo)
    assert code == 1 and "looks major" in str(reports[0]["problems"])


RULES = (
    "fails on an undeclared change that looks material",
    "on a declared patch that looks material",
    "on a link to a policy that never existed",
    # the overtaking rule (tests/publish/test_overtaken.py)
    "takes effect before an earlier upcoming major version without declaring Policy-Effective",
    "brings that version's change forward, cutting its notice period short",
    "naming both versions and the days of notice skipped, whenever a version takes effect "
    "before an earlier upcoming one",
)


def _words(text: str) -> str:
    return " ".join(text.replace("`", "").split())


def test_the_rule_is_stated_the_same_everywhere() -> None:
    root = Path(__file__).resolve().parents[1]
    help_text = CliRunner().invoke(cli, ["check", "--help"]).stdout
    for name, text in [
        *(
            (name, (root / name).read_text(encoding="utf-8"))
            for name in ("README.md", "docs/site.md")
        ),
        ("check --help", help_text),
    ]:
        for rule in RULES:
            assert rule in _words(text), f"{name} does not say: {rule}"
