"""Bad input fails the build with the file or commit named, and no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.gitrepo import GitRepo, policy_source
from tests.publish.conftest import write_config

MKDOCS = [sys.executable, "-m", "mkdocs"]


def mkdocs_build(config: Path, site: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    return subprocess.run(
        [*MKDOCS, "build", "--strict", "-f", str(config), "-d", str(site), *extra],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def assert_clean_failure(done: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    for needle in needles:
        assert needle in done.stderr, done.stderr


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    repo = GitRepo(tmp_path / "repo")
    repo.commit("Add", {"policy/privacy.md": policy_source("Privacy", "## A\n\nOne.")})
    return repo


def test_malformed_front_matter_names_the_file(tmp_path: Path, repo: GitRepo) -> None:
    repo.commit("Break", {"policy/privacy.md": "---\ntitle: [unclosed\n---\n\nText.\n"})
    done = mkdocs_build(write_config(tmp_path / "c", repo.path), tmp_path / "site")
    assert_clean_failure(done, "policy-tracker:", "policy/privacy.md", "front matter")


def test_bad_trailer_names_the_commit(tmp_path: Path, repo: GitRepo) -> None:
    sha = repo.commit(
        "Change\n\nPolicy-Change: huge",
        {"policy/privacy.md": policy_source("Privacy", "## A\n\nTwo.")},
    )
    done = mkdocs_build(write_config(tmp_path / "c", repo.path), tmp_path / "site")
    assert_clean_failure(done, sha[:12], "huge")


def test_shallow_clone_is_refused(tmp_path: Path, repo: GitRepo) -> None:
    repo.commit("More", {"policy/privacy.md": policy_source("Privacy", "## A\n\nTwo.")})
    clone = tmp_path / "clone"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{repo.path}", str(clone)], check=True
    )
    done = mkdocs_build(write_config(tmp_path / "c", clone), tmp_path / "site")
    assert_clean_failure(done, "shallow")


def test_not_a_repository(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    done = mkdocs_build(write_config(tmp_path / "c", tmp_path / "plain"), tmp_path / "site")
    assert_clean_failure(done, "policy-tracker:")


def test_a_docs_page_clashing_with_a_policy_page(tmp_path: Path, repo: GitRepo) -> None:
    config = write_config(tmp_path / "c", repo.path)
    (tmp_path / "c" / "docs" / "privacy.md").write_text("# Mine\n")
    done = mkdocs_build(config, tmp_path / "site")
    assert_clean_failure(done, "privacy.md", "clashes")


def test_bad_drafts_variable(tmp_path: Path, repo: GitRepo) -> None:
    env = {**os.environ, "POLICY_TRACKER_DRAFTS": "maybe", "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run(
        [*MKDOCS, "build", "-f", str(write_config(tmp_path / "c", repo.path))],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert_clean_failure(done, "POLICY_TRACKER_DRAFTS")
