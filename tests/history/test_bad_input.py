"""Each bad input is a one-line error naming the file or commit and what to do."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.gitrepo import GitRepo, policy_source, shallow_clone
from tracker.errors import DeclarationError, RepositoryError, SourceError, TrackerError
from tracker.history import commits_in_range, read_catalog
from tracker.redline import suggest


def error_of(kind: type[TrackerError], path: Path, **options: object) -> str:
    with pytest.raises(kind) as caught:
        read_catalog(path, classify=suggest, **options)  # type: ignore[arg-type]
    message = str(caught.value)
    assert "\n" not in message and message == caught.value.message
    return message


def test_not_a_git_repository(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    message = error_of(RepositoryError, tmp_path / "plain")
    assert "plain: not a git repository" in message and "git init" in message


def test_missing_folder(tmp_path: Path) -> None:
    assert "no such folder" in error_of(RepositoryError, tmp_path / "nowhere")


def test_no_commits(repo: GitRepo) -> None:
    assert "no commits yet; commit a policy first" in error_of(RepositoryError, repo.path)


def test_unknown_ref(repo: GitRepo) -> None:
    repo.commit("Add", {"policy/p.md": "One.\n"})
    message = error_of(RepositoryError, repo.path, ref="nope")
    assert "unknown ref 'nope'" in message and "git branch" in message


def test_shallow_clone(repo: GitRepo, tmp_path: Path) -> None:
    repo.commit("Add", {"policy/p.md": "One.\n"})
    repo.commit("Edit\n\nPolicy-Change: minor", {"policy/p.md": "Two.\n"})
    clone = shallow_clone(repo, tmp_path / "clone")
    assert "git fetch --unshallow" in error_of(RepositoryError, clone)
    with pytest.raises(RepositoryError, match="unshallow"):
        commits_in_range(clone, "HEAD", "HEAD")


def test_malformed_front_matter_in_history(repo: GitRepo) -> None:
    sha = repo.commit("Add", {"policy/p.md": "---\ntitle: [unclosed\n---\nText.\n"})
    message = error_of(SourceError, repo.path)
    assert message.startswith(f"policy/p.md at commit {sha[:12]}:")
    assert "malformed front matter" in message and "fix the YAML" in message


def test_front_matter_that_is_not_a_mapping(repo: GitRepo) -> None:
    repo.commit("Add", {"policy/p.md": "---\n- a list\n---\nText.\n"})
    assert "front matter must be a mapping" in error_of(SourceError, repo.path)


def test_invalid_settings(repo: GitRepo) -> None:
    repo.commit("Add", {"policy/p.md": policy_source("P", "Text.", notice_days="soon")})
    assert "'notice_days' must be a whole number" in error_of(SourceError, repo.path)


def test_not_utf8_in_history(repo: GitRepo) -> None:
    sha = repo.commit("Add", {"policy/p.md": "---\ntitle: Caf\xe9\n---\n".encode("latin-1")})
    message = error_of(SourceError, repo.path)
    assert message.startswith(f"policy/p.md at commit {sha[:12]}: not valid UTF-8")
    assert "save the file as UTF-8" in message


def test_two_files_with_one_slug_in_history(repo: GitRepo) -> None:
    sha = repo.commit("Add", {"policy/Privacy.md": "A.\n", "policy/privacy.md": "B.\n"})
    message = error_of(SourceError, repo.path)
    assert f"commit {sha[:12]}" in message
    assert "policy/Privacy.md" in message and "policy/privacy.md" in message
    assert "'privacy'" in message and "rename or remove one" in message


def test_two_files_with_one_slug_in_the_working_tree(repo: GitRepo) -> None:
    repo.commit("Add", {"policy/privacy.md": "A.\n"})
    repo.write("policy/PRIVACY.md", "B.\n")
    message = error_of(SourceError, repo.path)
    assert "policy/PRIVACY.md" in message and "policy/privacy.md" in message
    assert read_catalog(repo.path, classify=suggest, drafts=False).get("privacy")


def test_unknown_significance(repo: GitRepo) -> None:
    repo.commit("Add", {"policy/p.md": "One.\n"})
    sha = repo.commit("Edit\n\nPolicy-Change: huge", {"policy/p.md": "Two.\n"})
    message = error_of(DeclarationError, repo.path)
    assert message.startswith(f"commit {sha[:12]}: Policy-Change: unknown significance 'huge'")
    assert "use major, minor or patch" in message


@pytest.mark.parametrize("value", ["next week", "2024-13-01", "2024-02-30"])
def test_malformed_date(repo: GitRepo, value: str) -> None:
    repo.commit("Add", {"policy/p.md": "One.\n"})
    sha = repo.commit(
        f"Edit\n\nPolicy-Change: major\nPolicy-Effective: {value}", {"policy/p.md": "Two.\n"}
    )
    message = error_of(DeclarationError, repo.path)
    assert message.startswith(f"commit {sha[:12]}: Policy-Effective: malformed date")


def test_effective_date_before_publication(repo: GitRepo) -> None:
    repo.commit("Add", {"policy/p.md": "One.\n"})
    sha = repo.commit(
        "Edit\n\nPolicy-Change: major\nPolicy-Effective: 2023-12-01", {"policy/p.md": "Two.\n"}
    )
    message = error_of(DeclarationError, repo.path)
    assert message.startswith(f"commit {sha[:12]} (policy/p.md): Policy-Effective 2023-12-01")
    assert "before the publication date 2024-01-03" in message


def test_conflicting_effective_dates_in_a_merge_name_both_commits(repo: GitRepo) -> None:
    repo.commit("Add", {"policy/p.md": "One.\n"})
    repo.branch("edit")
    first = repo.commit(
        "A\n\nPolicy-Change: major\nPolicy-Effective: 2024-03-01", {"policy/p.md": "Two.\n"}
    )
    second = repo.commit(
        "B\n\nPolicy-Change: major\nPolicy-Effective: 2024-04-01", {"policy/p.md": "Three.\n"}
    )
    repo.checkout("main")
    repo.merge("edit", "Merge edit")
    message = error_of(DeclarationError, repo.path)
    assert "conflicting Policy-Effective dates" in message
    assert first[:12] in message and second[:12] in message


def test_bad_trailers_outside_policy_commits_are_ignored(repo: GitRepo) -> None:
    repo.commit("Add", {"policy/p.md": "One.\n"})
    repo.commit("Docs\n\nPolicy-Change: huge", {"README.md": "x\n"})
    assert len(read_catalog(repo.path, classify=suggest, drafts=False).get("p").versions) == 1


def test_errors_change_nothing(repo: GitRepo) -> None:
    repo.commit("Add", {"policy/p.md": "One.\n"})
    repo.write("policy/p.md", "---\ntitle: [\n---\n")
    before = repo.git("status", "--porcelain")
    error_of(SourceError, repo.path)
    assert repo.git("status", "--porcelain") == before
