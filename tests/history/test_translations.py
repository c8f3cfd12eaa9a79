"""Translations: files beside their policy with a language suffix, pinned to the source
version they translate; their staleness; every bad input one line naming file and commit."""

from __future__ import annotations

from datetime import date

import pytest

from tests.gitrepo import GitRepo, policy_source
from tracker.errors import SourceError, TrackerError
from tracker.history import read_catalog
from tracker.history.translations import freshness
from tracker.languages import LanguageError, canonical_tag
from tracker.policy import Catalog
from tracker.redline import suggest

EN = "## Data\n\nWe keep your data for 90 days.\n"
DE = "## Daten\n\nWir speichern Ihre Daten 90 Tage.\n"


def read(repo: GitRepo) -> Catalog:
    return read_catalog(repo.path, classify=suggest)


def error(repo: GitRepo) -> str:
    with pytest.raises(TrackerError) as caught:
        read(repo)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_a_translation_is_not_a_policy_and_is_bound_to_its_source_version(
    repo: GitRepo,
) -> None:
    repo.commit("Add", {"policy/privacy.md": policy_source("Privacy", EN)})
    sha = repo.commit(
        "Übersetzung",
        {"policy/privacy.de.md": policy_source("Datenschutz", DE, translates=1)},
    )
    catalog = read(repo)
    assert list(catalog.policies) == ["privacy"]
    german = catalog.translations["privacy"]["de"]
    assert german.language == "de" and german.slug == "privacy"
    (v1,) = german.versions
    assert (v1.number, v1.translates, v1.commit, v1.title) == (1, 1, sha, "Datenschutz")
    assert v1.text.startswith("# Datenschutz\n\n## Daten")
    import hashlib

    assert v1.sha256 == hashlib.sha256(v1.text.encode()).hexdigest()


def test_trailer_binds_and_a_new_binding_alone_makes_a_version(repo: GitRepo) -> None:
    repo.commit("Add", {"policy/privacy.md": policy_source("Privacy", EN)})
    repo.commit(
        "Übersetzung\n\nPolicy-Translates: privacy.pt-br=1",
        {"policy/privacy.pt-BR.md": policy_source("Privacidade", "Texto.")},
    )
    repo.commit(
        "Fix typo\n\nPolicy-Change: patch",
        {"policy/privacy.md": policy_source("Privacy", EN.replace("data", "data "))},
    )
    repo.commit(
        "Still right",
        {"policy/privacy.pt-BR.md": policy_source("Privacidade", "Texto.", translates=2)},
    )
    catalog = read(repo)
    versions = catalog.translations["privacy"]["pt-BR"].versions
    assert [(v.number, v.translates) for v in versions] == [(1, 1), (2, 2)]
    assert versions[0].text == versions[1].text


def test_staleness_current_behind_stale(repo: GitRepo) -> None:
    repo.commit("Add", {"policy/privacy.md": policy_source("Privacy", EN)})
    repo.commit("de", {"policy/privacy.de.md": policy_source("Datenschutz", DE, translates=1)})
    catalog = read(repo)
    source, german = catalog.get("privacy"), catalog.translations["privacy"]["de"]
    today = date(2030, 1, 1)
    assert freshness(source, german, today).state == "current"
    repo.commit(
        "Typo\n\nPolicy-Change: patch",
        {"policy/privacy.md": policy_source("Privacy", EN.replace("keep", "keep "))},
    )
    catalog = read(repo)
    state = freshness(catalog.get("privacy"), catalog.translations["privacy"]["de"], today)
    assert (state.state, state.translates, state.source, state.since) == ("behind", 1, 2, 2)
    repo.commit(
        "Shorter\n\nPolicy-Change: minor",
        {"policy/privacy.md": policy_source("Privacy", EN.replace("90", "30"))},
    )
    catalog = read(repo)
    state = freshness(catalog.get("privacy"), catalog.translations["privacy"]["de"], today)
    assert (state.state, state.since) == ("stale", 3)


def test_an_upcoming_source_version_translated_is_current(repo: GitRepo) -> None:
    repo.commit("Add", {"policy/privacy.md": policy_source("Privacy", EN)})
    repo.commit(
        "Later\n\nPolicy-Change: major\nPolicy-Effective: 2031-01-01",
        {"policy/privacy.md": policy_source("Privacy", EN.replace("90", "30"))},
    )
    repo.commit("de", {"policy/privacy.de.md": policy_source("Datenschutz", DE, translates=2)})
    catalog = read(repo)
    german = catalog.translations["privacy"]["de"]
    assert freshness(catalog.get("privacy"), german, date(2030, 1, 1)).current
    assert german.versions[0].effective == date(2031, 1, 1)


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"policy/terms.de.md": policy_source("AGB", "Text.", translates=1)}, "no source file"),
        ({"policy/privacy.de.md": policy_source("D", "Text.", translates=2)}, "has only versions"),
        ({"policy/privacy.de.md": policy_source("D", "Text.")}, "names no source version"),
        ({"policy/privacy.de.md": policy_source("D", "T.", translates="x")}, "must be a source"),
        ({"policy/privacy.xx.md": policy_source("D", "Text.", translates=1)}, "unknown language"),
        ({"policy/privacy.de_DE.md": policy_source("D", "T.", translates=1)}, "malformed language"),
        ({"policy/privacy.en.md": policy_source("D", "Text.", translates=1)}, "is the language of"),
        (
            {"policy/privacy.de.fr.md": policy_source("D", "T.", translates=1)},
            "itself a translation",
        ),
        (
            {
                "policy/privacy.de.md": policy_source("D", "Text.", translates=1),
                "policy/privacy.DE.md": policy_source("D", "Text.", translates=1),
            },
            "both map to",
        ),
    ],
)
def test_bad_input_is_one_line_naming_file_and_commit(
    repo: GitRepo, files: dict[str, str | bytes | None], expected: str
) -> None:
    repo.commit("Add", {"policy/privacy.md": policy_source("Privacy", EN)})
    sha = repo.commit("Translate", files)
    message = error(repo)
    assert expected in message and sha[:12] in message
    assert "policy/privacy" in message or "policy/terms" in message


def test_translates_going_backwards_is_refused(repo: GitRepo) -> None:
    repo.commit("Add", {"policy/privacy.md": policy_source("Privacy", EN)})
    repo.commit(
        "v2\n\nPolicy-Change: minor",
        {"policy/privacy.md": policy_source("Privacy", EN + "More.\n")},
    )
    repo.commit("de", {"policy/privacy.de.md": policy_source("D", "Text.", translates=2)})
    sha = repo.commit("de", {"policy/privacy.de.md": policy_source("D", "Text 2.", translates=1)})
    message = error(repo)
    assert "never goes backwards" in message and sha[:12] in message


def test_a_malformed_translates_trailer_names_the_commit(repo: GitRepo) -> None:
    repo.commit("Add", {"policy/privacy.md": policy_source("Privacy", EN)})
    sha = repo.commit(
        "de\n\nPolicy-Translates: privacy.de=five",
        {"policy/privacy.de.md": policy_source("D", "Text.", translates=1)},
    )
    message = error(repo)
    assert "Policy-Translates" in message and sha[:12] in message


def test_translation_files_are_not_drafts(repo: GitRepo) -> None:
    repo.commit("Add", {"policy/privacy.md": policy_source("Privacy", EN)})
    repo.write("policy/privacy.de.md", policy_source("D", "Text.", translates=1))
    assert list(read(repo).policies) == ["privacy"]


def test_tags_are_canonical() -> None:
    assert canonical_tag("pt-br") == "pt-BR"
    assert canonical_tag("zh-hant-tw") == "zh-Hant-TW"
    with pytest.raises(LanguageError):
        canonical_tag("german")


def test_source_errors_are_source_errors(repo: GitRepo) -> None:
    repo.commit("Add", {"policy/privacy.md": policy_source("Privacy", EN)})
    repo.commit("de", {"policy/privacy.zz.md": policy_source("D", "T.", translates=1)})
    with pytest.raises(SourceError):
        read(repo)
