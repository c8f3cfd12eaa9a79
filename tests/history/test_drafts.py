"""Uncommitted working-tree edits are drafts: visible, never versions."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.gitrepo import GitRepo, policy_source
from tracker.errors import SourceError
from tracker.history import read_catalog
from tracker.policy import sha256_text
from tracker.redline import suggest


def test_edit_to_the_body_is_a_draft(repo: GitRepo) -> None:
    repo.commit("Add", {"policy/privacy.md": policy_source("Privacy", "One.")})
    repo.write("policy/privacy.md", policy_source("Privacy", "One. And two."))
    policy = read_catalog(repo.path, classify=suggest).get("privacy")
    assert len(policy.versions) == 1
    assert policy.draft is not None
    assert policy.draft.text == "# Privacy\n\nOne. And two.\n"
    assert policy.draft.sha256 == sha256_text(policy.draft.text)
    assert policy.draft.path == "policy/privacy.md" and policy.draft.policy == "privacy"
    assert read_catalog(repo.path, classify=suggest, drafts=False).get("privacy").draft is None


def test_staged_edit_to_the_title_is_a_draft(repo: GitRepo) -> None:
    repo.commit("Add", {"policy/privacy.md": policy_source("Privacy", "One.")})
    repo.write("policy/privacy.md", policy_source("Privacy notice", "One."))
    repo.git("add", "policy/privacy.md")
    draft = read_catalog(repo.path, classify=suggest).get("privacy").draft
    assert draft is not None and draft.title == "Privacy notice"


def test_front_matter_bookkeeping_is_not_a_draft(repo: GitRepo) -> None:
    repo.commit("Add", {"policy/privacy.md": policy_source("Privacy", "One.")})
    repo.write("policy/privacy.md", policy_source("Privacy", "One.", owner="legal"))
    assert read_catalog(repo.path, classify=suggest).get("privacy").draft is None


def test_untracked_new_policy_has_no_versions_and_a_draft(repo: GitRepo) -> None:
    repo.commit("Add", {"policy/privacy.md": policy_source("Privacy", "One.")})
    repo.write("policy/legal/terms.md", policy_source("Terms", "Be nice.", notice_days=5))
    policy = read_catalog(repo.path, classify=suggest).get("legal/terms")
    assert policy.versions == () and policy.latest is None
    assert policy.draft is not None and policy.draft.title == "Terms"
    assert policy.settings.notice_days == 5 and policy.path == "policy/legal/terms.md"


def test_ignored_files_are_not_drafts(repo: GitRepo) -> None:
    repo.commit("Add", {"policy/privacy.md": "One.\n", ".gitignore": "*.tmp.md\n"})
    repo.write("policy/scratch.tmp.md", "Scratch.\n")
    assert list(read_catalog(repo.path, classify=suggest).policies) == ["privacy"]


def test_deleted_in_the_working_tree_is_not_a_draft(repo: GitRepo) -> None:
    repo.commit("Add", {"policy/privacy.md": "One.\n"})
    (repo.path / "policy/privacy.md").unlink()
    policy = read_catalog(repo.path, classify=suggest).get("privacy")
    assert policy.draft is None and not policy.withdrawn


def test_withdrawn_policy_recreated_in_the_working_tree(repo: GitRepo) -> None:
    repo.commit("Add", {"policy/t.md": "One.\n"})
    repo.commit("Drop", {"policy/t.md": None})
    repo.write("policy/t.md", "One.\n")
    policy = read_catalog(repo.path, classify=suggest).get("t")
    assert policy.withdrawn and policy.draft is not None


def test_malformed_draft_is_an_error_naming_the_file(repo: GitRepo) -> None:
    repo.commit("Add", {"policy/p.md": "One.\n"})
    repo.write("policy/p.md", b"\xff\xfe")
    with pytest.raises(SourceError, match=r"^policy/p.md: not valid UTF-8"):
        read_catalog(repo.path, classify=suggest)


def test_bare_repository_has_no_drafts(repo: GitRepo, tmp_path: Path) -> None:
    repo.commit("Add", {"policy/p.md": "One.\n"})
    bare = tmp_path / "bare.git"
    repo.git("clone", "-q", "--bare", str(repo.path), str(bare))
    catalog = read_catalog(bare, classify=suggest)
    assert catalog.get("p").draft is None and len(catalog.get("p").versions) == 1
