"""Undeclared versions get the redline classifier's verdict."""

from __future__ import annotations

from datetime import timedelta

from tests.gitrepo import GitRepo, policy_source
from tracker.history import read_catalog
from tracker.policy import Significance, SignificanceSource
from tracker.redline import suggest

BODY = "## Data\n\nWe collect your email address to run the service."


def test_undeclared_punctuation_fix_is_a_classified_patch(repo: GitRepo) -> None:
    repo.commit("Add", {"policy/p.md": policy_source("P", BODY)})
    repo.commit("Fix punctuation", {"policy/p.md": policy_source("P", BODY.replace(".", "!"))})
    version = read_catalog(repo.path, classify=suggest, drafts=False).get("p").versions[1]
    assert version.significance is Significance.PATCH
    assert version.significance_source is SignificanceSource.CLASSIFIED
    assert version.summary == "Fix punctuation"


def test_undeclared_new_section_is_a_classified_major_with_notice(repo: GitRepo) -> None:
    repo.commit("Add", {"policy/p.md": policy_source("P", BODY, notice_days=30)})
    more = BODY + "\n\n## Retention\n\nWe keep your data for 30 days after you leave."
    repo.commit("Add retention", {"policy/p.md": policy_source("P", more, notice_days=30)})
    version = read_catalog(repo.path, classify=suggest, drafts=False).get("p").versions[1]
    assert version.significance is Significance.MAJOR
    assert version.significance_source is SignificanceSource.CLASSIFIED
    assert version.effective == version.published.date() + timedelta(days=30)


def test_declaration_wins_over_the_classifier(repo: GitRepo) -> None:
    repo.commit("Add", {"policy/p.md": policy_source("P", BODY)})
    repo.commit(
        "Punctuation\n\nPolicy-Change: minor",
        {"policy/p.md": policy_source("P", BODY.replace(".", "!"))},
    )
    version = read_catalog(repo.path, classify=suggest, drafts=False).get("p").versions[1]
    assert version.significance is Significance.MINOR
    assert version.significance_source is SignificanceSource.DECLARED


def test_scoped_trailer_may_name_the_old_slug_in_the_renaming_commit(repo: GitRepo) -> None:
    text = BODY + "\n\nWe also log your IP address for security reasons."
    repo.commit("Add", {"policy/privacy.md": policy_source("Privacy", text)})
    repo.commit(
        "Move and fix\n\nPolicy-Change: privacy=patch",
        {
            "policy/privacy.md": None,
            "policy/data.md": policy_source("Privacy", text.replace("security", "Security")),
        },
    )
    policy = read_catalog(repo.path, classify=suggest, drafts=False).get("data")
    assert policy.aliases == ("privacy",)
    version = policy.versions[1]
    assert version.significance_source is SignificanceSource.DECLARED
    assert version.significance is Significance.PATCH
