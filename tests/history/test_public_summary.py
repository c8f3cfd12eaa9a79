"""A first version's summary names no file: readers see no commit plumbing."""

from __future__ import annotations

from tests.gitrepo import GitRepo
from tracker.history import read_catalog
from tracker.redline import suggest


def test_a_first_version_named_after_its_file_gets_a_plain_summary(repo: GitRepo) -> None:
    repo.commit("Add policy/privacy.md", {"policy/privacy.md": "One.\n"})
    repo.commit("Add the terms", {"policy/terms.md": "Terms.\n"})
    repo.commit("Reword privacy.md", {"policy/privacy.md": "Two.\n"})
    catalog = read_catalog(repo.path, classify=suggest, drafts=False)
    assert [v.summary for v in catalog.get("privacy").versions] == [
        "First published version.",
        "Reword privacy.md",  # a later change keeps its subject
    ]
    assert catalog.get("terms").versions[0].summary == "Add the terms"
