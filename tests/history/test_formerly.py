"""``formerly:`` and ``redirect_from:``: renames git cannot pair, declared in front matter."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.gitrepo import GitRepo, policy_source
from tests.publish.conftest import build_site, write_config
from tracker.cli import cli
from tracker.errors import SourceError
from tracker.history import read_catalog
from tracker.policy import Catalog
from tracker.redline import suggest

OLD = """
## Data we collect

We collect your name and email address when you register.

## Contact

Write to privacy@example.org.
"""

# Rewritten throughout: git cannot pair it with OLD by similarity.
NEW = """
## What we keep about you

Your account holds the name, postal address and phone number you typed in, and each order.

## Questions

Our data protection officer answers at dpo@example.org within a month.
"""


def _read(repo: GitRepo) -> Catalog:
    return read_catalog(repo.path, classify=suggest)


def _renamed(tmp_path: Path, front: str) -> tuple[GitRepo, str]:
    """privacy.md, then in one commit deleted and data-protection.md added with ``front``."""
    repo = GitRepo(tmp_path / "repo")
    repo.commit(
        "First\n\nPolicy-Change: major", {"policy/privacy.md": policy_source("Privacy", OLD)}
    )
    sha = repo.commit(
        "Rewrite the privacy policy as a data protection notice\n\nPolicy-Change: major",
        {
            "policy/privacy.md": None,
            "policy/data-protection.md": (
                f"---\ntitle: Data protection\n{front}\n---\n\n{NEW.strip()}\n"
            ),
        },
    )
    return repo, sha


def test_git_cannot_pair_the_rewrite(tmp_path: Path) -> None:
    repo, _ = _renamed(tmp_path, "notice_days: 0")
    catalog = _read(repo)
    assert catalog.get("privacy").withdrawn
    assert len(catalog.get("data-protection").versions) == 1


@pytest.mark.parametrize(
    "front",
    ["formerly: [privacy]", "formerly: privacy", "redirect_from: [/privacy/]"],
)
def test_formerly_joins_the_histories(tmp_path: Path, front: str) -> None:
    repo, sha = _renamed(tmp_path, front)
    catalog = _read(repo)
    policy = catalog.get("data-protection")
    assert catalog.get("privacy") is policy
    assert set(catalog.policies) == {"data-protection"}
    assert policy.aliases == ("privacy",)
    assert [v.number for v in policy.versions] == [1, 2]
    assert policy.versions[1].commit == sha and policy.versions[1].title == "Data protection"
    assert not policy.withdrawn and policy.gaps == ()
    listed = json.loads(CliRunner().invoke(cli, ["--repo", str(repo.path), "log", "--json"]).output)
    assert [p["policy"] for p in listed] == ["data-protection"]
    assert listed[0]["aliases"] == ["privacy"]


def test_formerly_after_a_withdrawal_restores_the_policy(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.commit("First", {"policy/privacy.md": policy_source("Privacy", OLD)})
    repo.commit("Withdraw", {"policy/privacy.md": None})
    repo.commit(
        "Back under a new name",
        {"policy/data.md": f"---\ntitle: Data\nformerly: [privacy]\n---\n\n{NEW.strip()}\n"},
    )
    policy = _read(repo).get("data")
    assert [v.number for v in policy.versions] == [1, 2]
    assert len(policy.gaps) == 1 and policy.gaps[0].restored is not None


def _error(repo: GitRepo) -> str:
    result = CliRunner().invoke(cli, ["--repo", str(repo.path), "log"])
    assert result.exit_code == 1
    assert result.output.count("\n") == 1, result.output
    return result.output


def test_an_unknown_slug_is_one_line_naming_file_and_commit(tmp_path: Path) -> None:
    repo, sha = _renamed(tmp_path, "formerly: [privcy]")
    with pytest.raises(SourceError):
        _read(repo)
    line = _error(repo)
    assert f"policy/data-protection.md at commit {sha[:12]}" in line
    assert "'privcy', which no policy had before this commit" in line


def test_naming_itself_is_a_cycle(tmp_path: Path) -> None:
    repo, sha = _renamed(tmp_path, "formerly: [data-protection]")
    line = _error(repo)
    assert f"policy/data-protection.md at commit {sha[:12]}" in line
    assert "this policy itself" in line


def test_two_files_naming_each_other_are_a_cycle(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.commit("First", {"policy/c.md": policy_source("C", OLD)})
    repo.commit(
        "Rename",
        {"policy/c.md": None, "policy/b.md": f"---\ntitle: B\nformerly: [c]\n---\n\n{NEW}"},
    )
    sha = repo.commit("C again", {"policy/c.md": "---\ntitle: C\nformerly: [b]\n---\n\nText c.\n"})
    line = _error(repo)
    assert f"policy/c.md at commit {sha[:12]}: 'formerly' names 'b'" in line
    assert "whose file policy/b.md says it was formerly 'c': a cycle" in line


def test_a_policy_still_there_cannot_be_continued(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.commit("First", {"policy/privacy.md": policy_source("Privacy", OLD)})
    sha = repo.commit(
        "Copy", {"policy/copy.md": "---\ntitle: Copy\nformerly: [privacy]\n---\n\nText.\n"}
    )
    line = _error(repo)
    assert f"policy/copy.md at commit {sha[:12]}" in line
    assert "still a policy here (policy/privacy.md)" in line


def test_formerly_added_later_is_refused(tmp_path: Path) -> None:
    repo, _ = _renamed(tmp_path, "notice_days: 0")
    sha = repo.commit(
        "Join after the fact",
        {
            "policy/data-protection.md": (
                f"---\ntitle: Data protection\nformerly: [privacy]\n---\n\n{NEW.strip()}\n"
            )
        },
    )
    line = _error(repo)
    assert f"at commit {sha[:12]}" in line and "declared in the commit that adds the file" in line


def test_a_malformed_list_is_one_line(tmp_path: Path) -> None:
    repo, _ = _renamed(tmp_path, "formerly: {a: 1}")
    assert "front matter 'formerly' must be a list of former slugs" in _error(repo)


def test_the_site_redirects_the_old_addresses(tmp_path: Path) -> None:
    repo, _ = _renamed(tmp_path, "formerly: [privacy]")
    site = tmp_path / "site"
    build_site(write_config(tmp_path / "config", repo.path), site)
    for old, new in (("privacy", "data-protection"), ("privacy/v1", "data-protection/v1")):
        stub = (site / old / "index.html").read_text()
        assert "moved" in stub.lower()
        up = "../" * (old.count("/") + 1)
        assert f'url={up}{new}/"' in stub, stub
    assert "Data protection" in (site / "data-protection/index.html").read_text()
    history = (site / "data-protection/history/index.html").read_text()
    assert "v1/" in history and "v2/" in history
    assert (site / "data-protection/changes/1-2/index.html").is_file()
