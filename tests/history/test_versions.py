"""Versions read from real repositories: numbering, dates, hashes, declarations."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta

import pytest

from tests.gitrepo import EPOCH, GitRepo, policy_source
from tracker.history import read_catalog
from tracker.policy import Significance, SignificanceSource
from tracker.redline import suggest

DAY = timedelta(days=1)


def declared(subject: str, level: str = "minor", **trailers: str) -> str:
    lines = [f"Policy-Change: {level}"] + [f"Policy-{k.title()}: {v}" for k, v in trailers.items()]
    return subject + "\n\n" + "\n".join(lines)


def test_each_text_change_makes_the_next_version(repo: GitRepo) -> None:
    first = repo.commit("Add privacy", {"policy/privacy.md": policy_source("Privacy", "We care.")})
    second = repo.commit(
        declared("Say more", "major"),
        {"policy/privacy.md": policy_source("Privacy", "We care.\n\nWe keep logs.")},
    )
    repo.commit("Unrelated", {"README.md": "hello\n"})
    third = repo.commit(
        declared("Retitle", "patch"),
        {"policy/privacy.md": policy_source("Privacy notice", "We care.\n\nWe keep logs.")},
    )

    catalog = read_catalog(repo.path, classify=suggest, drafts=False)

    assert catalog.head == third
    policy = catalog.get("privacy")
    assert [v.number for v in policy.versions] == [1, 2, 3]
    assert [v.commit for v in policy.versions] == [first, second, third]
    assert [v.significance for v in policy.versions] == ["major", "major", "patch"]
    v1, v2, v3 = policy.versions
    assert v1.significance_source is SignificanceSource.CLASSIFIED  # new text, undeclared
    assert v2.significance_source is SignificanceSource.DECLARED
    assert v1.published == EPOCH + DAY
    assert v1.published.tzinfo is not None and v1.published.utcoffset() == timedelta(0)
    assert v3.published == EPOCH + 4 * DAY
    assert v1.author == "Test Editor <editor@example.org>"
    assert v1.text == "# Privacy\n\nWe care.\n"
    assert v3.title == "Privacy notice" and v3.text.startswith("# Privacy notice\n\n")
    for version in policy.versions:
        assert version.sha256 == hashlib.sha256(version.text.encode("utf-8")).hexdigest()
        assert version.policy == "privacy" and version.path == "policy/privacy.md"
    assert [v.summary for v in policy.versions] == ["Add privacy", "Say more", "Retitle"]
    assert v2.effective == v2.published.date()
    assert policy.settings.title == "Privacy notice"
    assert not policy.withdrawn and policy.aliases == ()


def test_published_date_is_the_committer_date_in_utc(repo: GitRepo) -> None:
    local = datetime(2024, 3, 1, 23, 30, tzinfo=UTC).astimezone(
        __import__("datetime").timezone(timedelta(hours=-5))
    )
    repo.commit("Add", {"policy/privacy.md": policy_source("Privacy", "Text.")}, date=local)
    version = read_catalog(repo.path, classify=suggest, drafts=False).get("privacy").versions[0]
    assert version.published == datetime(2024, 3, 1, 23, 30, tzinfo=UTC)
    assert version.published.tzinfo == UTC


def test_front_matter_only_change_is_not_a_version_but_updates_settings(repo: GitRepo) -> None:
    repo.commit("Add", {"policy/privacy.md": policy_source("Privacy", "Text.")})
    repo.commit(
        declared("Bookkeeping", "major"),
        {"policy/privacy.md": policy_source("Privacy", "Text.", notice_days=30, owner="legal")},
    )
    policy = read_catalog(repo.path, classify=suggest, drafts=False).get("privacy")
    assert len(policy.versions) == 1
    assert policy.settings.notice_days == 30
    assert policy.settings.extra == {"owner": "legal"}


def test_line_endings_and_blank_lines_do_not_make_versions(repo: GitRepo) -> None:
    repo.commit("Add", {"policy/privacy.md": policy_source("Privacy", "Text.")})
    repo.commit("CRLF", {"policy/privacy.md": "---\r\ntitle: Privacy\r\n---\r\n\r\nText.\r\n\r\n"})
    assert len(read_catalog(repo.path, classify=suggest, drafts=False).get("privacy").versions) == 1


def test_nested_slugs_and_several_policies(repo: GitRepo) -> None:
    repo.commit(
        "Add two",
        {
            "policy/legal/terms.md": policy_source("Terms", "Be nice."),
            "policy/privacy.md": policy_source("Privacy", "Text."),
            "docs/not-a-policy.md": "# Docs\n",
            "policy/notes.txt": "not markdown\n",
        },
    )
    catalog = read_catalog(repo.path, classify=suggest, drafts=False)
    assert sorted(catalog.policies) == ["legal/terms", "privacy"]
    terms = catalog.get("legal/terms")
    assert terms.path == "policy/legal/terms.md" and terms.versions[0].policy == "legal/terms"


def test_other_source_folder(repo: GitRepo) -> None:
    repo.commit("Add", {"legal/privacy.md": policy_source("Privacy", "Text.")})
    assert list(
        read_catalog(repo.path, classify=suggest, source="legal/", drafts=False).policies
    ) == ["privacy"]
    assert not read_catalog(repo.path, classify=suggest, drafts=False).policies


def test_title_defaults_to_the_slug(repo: GitRepo) -> None:
    repo.commit("Add", {"policy/cookie-policy.md": "Some text.\n"})
    version = (
        read_catalog(repo.path, classify=suggest, drafts=False).get("cookie-policy").versions[0]
    )
    assert version.title == "Cookie Policy"
    assert version.text == "# Cookie Policy\n\nSome text.\n"


def test_rename_keeps_history_and_records_the_alias(repo: GitRepo) -> None:
    body = "We care about your data. " * 20
    repo.commit("Add", {"policy/privacy.md": policy_source("Privacy", body)})
    repo.rename("policy/privacy.md", "policy/legal/data-privacy.md", "Move privacy")
    repo.commit(
        declared("Edit after move", "minor"),
        {"policy/legal/data-privacy.md": policy_source("Privacy", body + "More.")},
    )
    catalog = read_catalog(repo.path, classify=suggest, drafts=False)
    assert list(catalog.policies) == ["legal/data-privacy"]
    policy = catalog.get("legal/data-privacy")
    assert policy.aliases == ("privacy",)
    assert catalog.get("privacy") is policy
    assert [v.number for v in policy.versions] == [1, 2]  # the rename itself is not a version
    assert [v.path for v in policy.versions] == [
        "policy/privacy.md",
        "policy/legal/data-privacy.md",
    ]
    assert [v.policy for v in policy.versions] == ["privacy", "legal/data-privacy"]


def test_rename_with_an_edit_makes_a_version(repo: GitRepo) -> None:
    body = "\n\n".join(f"Paragraph {i} about how we handle your data." for i in range(20))
    repo.commit("Add", {"policy/privacy.md": policy_source("Privacy", body)})
    repo.commit(
        declared("Move and edit", "patch"),
        {
            "policy/privacy.md": None,
            "policy/data.md": policy_source("Privacy", body + "\n\nOne more."),
        },
    )
    policy = read_catalog(repo.path, classify=suggest, drafts=False).get("data")
    assert policy.aliases == ("privacy",)
    assert len(policy.versions) == 2 and policy.versions[1].significance == "patch"


def test_deleted_policy_is_withdrawn_with_its_history(repo: GitRepo) -> None:
    repo.commit(
        "Add", {"policy/privacy.md": policy_source("Privacy", "Text."), "policy/t.md": "T\n"}
    )
    repo.commit("Drop t", {"policy/t.md": None})
    catalog = read_catalog(repo.path, classify=suggest, drafts=False)
    assert catalog.get("t").withdrawn and len(catalog.get("t").versions) == 1
    assert not catalog.get("privacy").withdrawn


def test_policy_added_again_continues_its_numbering(repo: GitRepo) -> None:
    repo.commit("Add", {"policy/t.md": "One\n"})
    repo.commit("Drop", {"policy/t.md": None})
    repo.commit(declared("Back", "major"), {"policy/t.md": "Two\n"})
    policy = read_catalog(repo.path, classify=suggest, drafts=False).get("t")
    assert not policy.withdrawn and [v.number for v in policy.versions] == [1, 2]


def test_scoped_trailers(repo: GitRepo) -> None:
    repo.commit("Add", {"policy/privacy.md": "Privacy.\n", "policy/legal/terms.md": "Terms.\n"})
    repo.commit(
        "Both\n\nPolicy-Change: privacy=major, legal/terms=patch\nPolicy-Summary: Clearer",
        {"policy/privacy.md": "Privacy!\n", "policy/legal/terms.md": "Terms!\n"},
    )
    catalog = read_catalog(repo.path, classify=suggest, drafts=False)
    privacy, terms = catalog.get("privacy").versions[1], catalog.get("legal/terms").versions[1]
    assert (privacy.significance, terms.significance) == ("major", "patch")
    assert privacy.significance_source is SignificanceSource.DECLARED
    assert privacy.summary == terms.summary == "Clearer"


def test_unscoped_and_scoped_trailers_mix(repo: GitRepo) -> None:
    repo.commit("Add", {"policy/a.md": "A.\n", "policy/b.md": "B.\n"})
    repo.commit(
        "Both\n\nPolicy-Change: patch\nPolicy-Change: b=major",
        {"policy/a.md": "A!\n", "policy/b.md": "B!\n"},
    )
    catalog = read_catalog(repo.path, classify=suggest, drafts=False)
    assert catalog.get("a").versions[1].significance == "patch"
    assert catalog.get("b").versions[1].significance == "major"


def test_declared_effective_date(repo: GitRepo) -> None:
    repo.commit("Add", {"policy/privacy.md": "One.\n"})
    repo.commit(declared("Later", "major", effective="2024-06-01"), {"policy/privacy.md": "Two.\n"})
    version = read_catalog(repo.path, classify=suggest, drafts=False).get("privacy").versions[1]
    assert version.effective == date(2024, 6, 1)
    assert version.published.date() == date(2024, 1, 3)


def test_notice_days_defer_an_undeclared_major_change_only(repo: GitRepo) -> None:
    repo.commit("Add", {"policy/p.md": policy_source("P", "One.", notice_days=30)})
    repo.commit(
        declared("Major", "major"), {"policy/p.md": policy_source("P", "Two.", notice_days=30)}
    )
    repo.commit(
        declared("Minor", "minor"), {"policy/p.md": policy_source("P", "Three.", notice_days=30)}
    )
    versions = read_catalog(repo.path, classify=suggest, drafts=False).get("p").versions
    # The first version has nothing to give notice of: effective when published.
    assert versions[0].effective == versions[0].published.date()
    assert versions[1].effective == versions[1].published.date() + timedelta(days=30)
    # A minor change takes effect when published, but never before the upcoming major
    # version it is built on: its text includes the major change.
    assert versions[2].effective == versions[1].effective


def test_a_version_on_an_upcoming_one_takes_effect_no_earlier_than_it(repo: GitRepo) -> None:
    repo.commit("Add", {"policy/p.md": "One.\n"})
    repo.commit(
        declared("New clause", "major", effective="2100-01-01"),
        {"policy/p.md": "One.\n\nWe share your data.\n"},
    )
    repo.commit(declared("Typo", "patch"), {"policy/p.md": "One!\n\nWe share your data.\n"})
    repo.commit(
        declared("Now", "minor", effective="2024-01-05"),
        {"policy/p.md": "One!\n\nWe share your data.\n\nMore.\n"},
    )
    versions = read_catalog(repo.path, classify=suggest, drafts=False).get("p").versions
    assert [v.effective for v in versions] == [
        versions[0].published.date(),
        date(2100, 1, 1),
        date(2100, 1, 1),  # the patch waits for the major change
        date(2024, 1, 5),  # a declared date is taken as declared (check warns)
    ]
    assert [v.effective_declared for v in versions] == [False, True, False, True]
    line = (
        read_catalog(repo.path, classify=suggest, drafts=False).get("p").timeline(date(2024, 2, 1))
    )
    assert [s.value for s in line.states] == ["archived", "overtaken", "overtaken", "current"]


def test_notice_days_come_from_the_front_matter_at_that_commit(repo: GitRepo) -> None:
    repo.commit("Add", {"policy/p.md": policy_source("P", "One.")})
    repo.commit(declared("Major", "major"), {"policy/p.md": policy_source("P", "Two.")})
    repo.commit("Set notice", {"policy/p.md": policy_source("P", "Two.", notice_days=10)})
    repo.commit(
        declared("Major", "major"), {"policy/p.md": policy_source("P", "Three.", notice_days=10)}
    )
    versions = read_catalog(repo.path, classify=suggest, drafts=False).get("p").versions
    assert versions[1].effective == versions[1].published.date()
    assert versions[2].effective == versions[2].published.date() + timedelta(days=10)


def test_merge_counts_the_trailers_of_the_commits_it_brings_in(repo: GitRepo) -> None:
    repo.commit("Add", {"policy/privacy.md": "One.\n", "policy/terms.md": "T.\n"})
    repo.branch("edit")
    repo.commit(declared("Fix typo", "patch"), {"policy/privacy.md": "One!\n"})
    repo.commit(
        "Add retention\n\nPolicy-Change: privacy=major\nPolicy-Effective: 2024-03-01",
        {"policy/privacy.md": "One!\n\nWe keep logs for 30 days.\n"},
    )
    repo.checkout("main")
    repo.commit("Unrelated on main", {"README.md": "x\n"})
    merge = repo.merge("edit", "Merge pull request #7 from someone/edit\n\nKeep logs for 30 days")

    policy = read_catalog(repo.path, classify=suggest, drafts=False).get("privacy")
    assert len(policy.versions) == 2  # only first-parent commits make versions
    version = policy.versions[1]
    assert version.commit == merge
    assert version.significance is Significance.MAJOR
    assert version.significance_source is SignificanceSource.DECLARED
    assert version.effective == date(2024, 3, 1)
    assert version.summary == "Keep logs for 30 days"  # the merge body's first line
    assert version.text == "# Privacy\n\nOne!\n\nWe keep logs for 30 days.\n"


def test_merge_summary_trailer_and_subject_fallback(repo: GitRepo) -> None:
    repo.commit("Add", {"policy/privacy.md": "One.\n"})
    repo.branch("a")
    repo.commit(
        "Edit\n\nPolicy-Change: minor\nPolicy-Summary: From the branch",
        {"policy/privacy.md": "Two.\n"},
    )
    repo.checkout("main")
    repo.merge("a", "Merge branch 'a'")
    repo.branch("b")
    repo.commit("Edit again\n\nPolicy-Change: patch", {"policy/privacy.md": "Three.\n"})
    repo.checkout("main")
    repo.merge("b", "Merge branch 'b'\n\nPolicy-Change: minor")
    versions = read_catalog(repo.path, classify=suggest, drafts=False).get("privacy").versions
    assert versions[1].summary == "From the branch"
    assert versions[2].summary == "Merge branch 'b'"  # the body is only trailers
    assert versions[2].significance == "minor"  # highest of merge and brought-in


def test_fast_forward_merge_versions_each_commit(repo: GitRepo) -> None:
    repo.commit("Add", {"policy/privacy.md": "One.\n"})
    repo.branch("ff")
    repo.commit(declared("Two", "minor"), {"policy/privacy.md": "Two.\n"})
    repo.commit(declared("Three", "patch"), {"policy/privacy.md": "Three.\n"})
    repo.checkout("main")
    repo.git("merge", "-q", "--ff-only", "ff")
    versions = read_catalog(repo.path, classify=suggest, drafts=False).get("privacy").versions
    assert [v.summary for v in versions] == ["Add", "Two", "Three"]


def test_ref_selects_the_history(repo: GitRepo) -> None:
    first = repo.commit("Add", {"policy/privacy.md": "One.\n"})
    repo.commit(declared("Two", "minor"), {"policy/privacy.md": "Two.\n"})
    catalog = read_catalog(repo.path, classify=suggest, ref=first, drafts=False)
    assert catalog.head == first and len(catalog.get("privacy").versions) == 1


@pytest.mark.parametrize("significance", ["major", "MINOR", " patch "])
def test_significance_values_are_case_insensitive(repo: GitRepo, significance: str) -> None:
    repo.commit("Add", {"policy/p.md": "One.\n"})
    repo.commit(f"Edit\n\nPolicy-Change: {significance}", {"policy/p.md": "Two.\n"})
    version = read_catalog(repo.path, classify=suggest, drafts=False).get("p").versions[1]
    assert version.significance == significance.strip().lower()


def test_symlink_becoming_a_file_is_an_edit(repo: GitRepo) -> None:
    repo.commit("Add", {"policy/p.md": "One.\n", "shared.md": "Shared.\n"})
    (repo.path / "policy/link.md").symlink_to("../shared.md")
    repo.commit("Link")
    assert "link" not in read_catalog(repo.path, classify=suggest, drafts=False).policies
    (repo.path / "policy/link.md").unlink()
    repo.commit("Real file", {"policy/link.md": "Now a file.\n"})
    policy = read_catalog(repo.path, classify=suggest, drafts=False).get("link")
    assert [v.text for v in policy.versions] == ["# Link\n\nNow a file.\n"]


def test_repository_may_be_named_by_a_subfolder_or_a_string(repo: GitRepo) -> None:
    repo.commit("Add", {"policy/legal/terms.md": "Terms.\n"})
    catalog = read_catalog(str(repo.path / "policy" / "legal"), classify=suggest, drafts=False)
    assert list(catalog.policies) == ["legal/terms"]
