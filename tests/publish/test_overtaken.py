"""A version that a later one overtakes never takes effect, and the site and check say so;
a version built on an upcoming one takes effect no earlier than it."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

from click.testing import CliRunner

from tests.gitrepo import GitRepo, policy_source
from tests.publish.conftest import Site, build_site, write_config
from tracker.check import overtaking
from tracker.cli import cli
from tracker.history import read_catalog
from tracker.redline import suggest

V1 = "## Data\n\nWe collect your email address.\n"
V2 = V1 + "\n## Health\n\nWe process health data.\n"
V3 = V2 + "\n## Sharing\n\nWe share data with insurers.\n"


def check(repo: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--repo", str(repo), "check", *args])
    return result.exit_code, result.stdout


def overtaken_repository(path: Path) -> GitRepo:
    """v2 major effective 2024-03-01; v3 major declared effective on its publication day."""
    repo = GitRepo(path)
    repo.commit("Add\n\nPolicy-Change: major", {"policy/privacy.md": policy_source("Privacy", V1)})
    repo.commit(  # 2024-01-03
        "Health\n\nPolicy-Change: major\nPolicy-Effective: 2024-03-01\n"
        "Policy-Summary: We process health data",
        {"policy/privacy.md": policy_source("Privacy", V2)},
    )
    repo.commit(  # 2024-01-04
        "Sharing\n\nPolicy-Change: major\nPolicy-Effective: 2024-01-04\n"
        "Policy-Summary: We share data with insurers",
        {"policy/privacy.md": policy_source("Privacy", V3)},
    )
    return repo


def build(tmp_path: Path, repo: GitRepo, as_of: str) -> Site:
    folder = tmp_path / f"site-{as_of}"
    build_site(write_config(folder / "config", repo.path, as_of=as_of), folder / "site")
    return Site(folder / "site", repo)


def test_an_overtaken_version_never_takes_effect_on_any_page(tmp_path: Path) -> None:
    repo = overtaken_repository(tmp_path / "repo")
    for as_of in ("2024-01-20", "2024-03-01", "2024-03-02"):
        built = build(tmp_path, repo, as_of)
        current = built.page("privacy/")
        assert "Version 2 takes effect" not in current
        assert "Until then" not in current
        index = built.page("")
        assert "version 2</a>, effective" not in index
        doc = json.loads(built.file("versions.json"))["policies"][0]
        assert doc["current_version"] == 3
        assert doc["upcoming_versions"] == []
        assert [v["status"] for v in doc["versions"]] == ["archived", "overtaken", "current"]
        assert [v["overtaken_by"] for v in doc["versions"]] == [None, 3, None]
        v2 = built.page("privacy/v2/")
        assert "Never took effect: replaced by version 3 before its effective date" in v2
        assert built.exists("privacy/changes/1-2")  # its redline stays reachable
        assert "Never took effect: replaced by version 3" in built.file("feed.xml")
        history = built.page("privacy/history/")
        assert "never (replaced by version 3" in history


def test_check_warns_when_a_version_overtakes_an_upcoming_one(tmp_path: Path) -> None:
    repo = overtaken_repository(tmp_path / "repo")
    code, out = check(repo.path, "--base", "HEAD~1")
    assert code == 0, out
    text = " ".join(out.split())
    assert "warning: v3 takes effect on 2024-01-04, before v2 (major, effective 2024-03-01)" in text
    assert "comes into force 57 day(s) early" in text


def test_a_major_notice_period_is_cut_only_by_a_declared_date(tmp_path: Path) -> None:
    repo = overtaken_repository(tmp_path / "repo")
    policy = read_catalog(repo.path, classify=suggest, drafts=False).get("privacy")
    v3 = policy.versions[2]
    warnings, problems = overtaking(policy, v3)
    assert len(warnings) == 1 and not problems
    # The same date reached without Policy-Effective (as stored by an older release, or
    # posted to the tracker) skips a major version's notice period unannounced: it fails.
    silent = replace(policy, versions=(*policy.versions[:2], replace(v3, effective_declared=False)))
    warnings, problems = overtaking(silent, silent.versions[2])
    assert not warnings
    assert len(problems) == 1 and "declare 'Policy-Effective: 2024-01-04'" in problems[0]


def test_a_patch_on_an_upcoming_major_waits_for_it(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.commit("Add\n\nPolicy-Change: major", {"policy/privacy.md": policy_source("Privacy", V1)})
    repo.commit(
        "Health\n\nPolicy-Change: major\nPolicy-Effective: 2100-01-01",
        {"policy/privacy.md": policy_source("Privacy", V2)},
    )
    for level in ("patch", "minor"):
        repo.commit(
            f"Reword\n\nPolicy-Change: {level}",
            {"policy/privacy.md": policy_source("Privacy", V2.replace("email", f"{level} email"))},
        )
        code, out = check(repo.path, "--base", "HEAD~1")
        assert code == 0 and "warning" not in out, out
    versions = read_catalog(repo.path, classify=suggest, drafts=False).get("privacy").versions
    assert [v.effective for v in versions[1:]] == [date(2100, 1, 1)] * 3
    built = build(tmp_path, repo, "2024-01-20")
    doc = json.loads(built.file("versions.json"))["policies"][0]
    assert doc["current_version"] == 1
    assert doc["upcoming_versions"] == [4]
    assert [v["status"] for v in doc["versions"]] == [
        "current",
        "overtaken",
        "overtaken",
        "upcoming",
    ]
    assert "We process health data" not in built.page("privacy/")
