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


def test_the_rule_is_stated_the_same_everywhere() -> None:
    root = Path(__file__).resolve().parents[1]
    rule = "fails on an undeclared change that looks material"
    for name in ("README.md", "docs/site.md"):
        assert rule in " ".join((root / name).read_text(encoding="utf-8").split()), name
    help_text = CliRunner().invoke(cli, ["check", "--help"]).stdout
    assert rule in " ".join(help_text.split())
