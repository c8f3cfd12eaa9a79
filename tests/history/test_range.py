from __future__ import annotations

import pytest

from tests.gitrepo import GitRepo
from tracker.errors import RepositoryError
from tracker.history import commits_in_range


def test_first_parent_commits_oldest_first(repo: GitRepo) -> None:
    base = repo.commit("Add", {"policy/p.md": "One.\n"})
    repo.branch("feature")
    a = repo.commit("A", {"policy/p.md": "Two.\n"})
    repo.branch("side")
    side = repo.commit("Side", {"x": "1\n"})
    repo.checkout("feature")
    merge = repo.merge("side", "Merge side")
    b = repo.commit("B", {"policy/p.md": "Three.\n"})
    assert commits_in_range(repo.path, "main", "feature") == [a, merge, b]
    assert side not in commits_in_range(repo.path, base)
    assert commits_in_range(repo.path, "feature", "feature") == []


def test_unknown_base(repo: GitRepo) -> None:
    repo.commit("Add", {"policy/p.md": "One.\n"})
    with pytest.raises(RepositoryError, match="unknown ref 'origin/main'"):
        commits_in_range(repo.path, "origin/main")
