"""Strict builds stay green: links between policies resolve against the repository as it
was at each version; and the page cache gives the same site, byte for byte, as a cold build
(even after an entry is damaged)."""

from __future__ import annotations

import filecmp
import gzip
import json
import logging
from pathlib import Path

import pytest
import yaml

from tests.gitrepo import GitRepo, policy_source
from tests.publish.conftest import build_site, write_config

TERMS = (
    "## Disputes\n\nDisputes go to the courts.\n\nSee the [privacy policy](privacy.md#contact).\n"
)
PRIVACY = "## Data\n\nWe collect your email.\n\n## Contact\n\nWrite to us.\n"
AUP = "## Rules\n\nBe kind.\n"


def _repository(path: Path) -> GitRepo:
    repo = GitRepo(path)
    repo.commit(
        "Publish",
        {
            "policy/privacy.md": policy_source("Privacy", PRIVACY),
            "policy/terms.md": policy_source("Terms", TERMS),
            "policy/aup.md": policy_source("Acceptable Use", AUP),
        },
    )
    # v2 of the terms: links to the AUP and to a document that never existed
    linked = TERMS + "\nFollow the [rules](aup.md) and the [schedule](retention.md).\n"
    repo.commit("Link the rules", {"policy/terms.md": policy_source("Terms", linked)})
    repo.commit(
        "Privacy v2", {"policy/privacy.md": policy_source("Privacy", PRIVACY + "\nMore.\n")}
    )
    repo.rename("policy/privacy.md", "policy/legal/privacy.md", "Move privacy under legal")
    repo.commit("Retire the rules", {"policy/aup.md": None})
    # v3: the dead link dropped; the privacy link is left as it was (privacy.md moved away)
    terms_v3 = policy_source("Terms", TERMS + "\nMore terms.\n")
    repo.commit("Drop the schedule link", {"policy/terms.md": terms_v3})
    return repo


def test_links_resolve_as_they_were_and_strict_builds_pass(tmp_path: Path) -> None:
    repo = _repository(tmp_path / "repo")
    config = write_config(tmp_path / "config", repo.path, as_of="2030-01-01")
    build_site(config, tmp_path / "site")  # strict: any unresolved link would fail it
    site = tmp_path / "site"
    v1 = (site / "terms" / "v1" / "index.html").read_text()
    # archived v1 (before the rename): privacy's version in force then, anchor kept
    assert 'href="../../legal/privacy/v1/#contact"' in v1
    v2 = (site / "terms" / "v2" / "index.html").read_text()
    assert 'href="../../aup/v1/"' in v2  # withdrawn since: its last version
    assert 'schedule <span class="pt-dead-link"' in v2  # never existed: text and a note
    current = (site / "terms" / "index.html").read_text()
    # the version in force still says privacy.md: through the rename, to the current page
    assert 'href="../legal/privacy/#contact"' in current


def test_warm_build_is_the_cold_build_and_damaged_entries_are_rebuilt(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    repo = _repository(tmp_path / "repo")
    config = write_config(tmp_path / "config", repo.path, as_of="2030-01-01")
    build_site(config, tmp_path / "cold")
    entries = [p for p in (repo.path / ".cache" / "policy-tracker").rglob("*") if p.is_file()]
    assert len(entries) > 10
    build_site(config, tmp_path / "warm")
    _same(tmp_path / "cold", tmp_path / "warm")
    for entry in entries[:3]:
        if entry.name != ".gitignore":
            entry.write_bytes(entry.read_bytes()[:-7])
    with caplog.at_level(logging.WARNING, logger="tracker.cache"):
        build_site(config, tmp_path / "rebuilt")
    warnings = [r for r in caplog.records if r.name == "tracker.cache"]
    assert len(warnings) == 1 and "rebuilt" in warnings[0].getMessage()
    _same(tmp_path / "cold", tmp_path / "rebuilt")
    assert repo.git("status", "--porcelain") == ""


def test_a_warm_build_lists_the_cached_pages_in_the_sitemap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pages that come from the cache are files to copy for MkDocs, not pages: the sitemap
    of a warm build must still list them, as the cold build's does."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")  # both builds on the same day
    repo = _repository(tmp_path / "repo")
    config = write_config(tmp_path / "config", repo.path, as_of="2030-01-01")
    settings = yaml.safe_load(config.read_text(encoding="utf-8"))
    settings["site_url"] = "https://policies.example.com/"
    config.write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")
    build_site(config, tmp_path / "cold")
    build_site(config, tmp_path / "warm")
    cold = (tmp_path / "cold" / "sitemap.xml").read_text(encoding="utf-8")
    assert "<loc>https://policies.example.com/terms/v1/</loc>" in cold  # an archived version
    assert "<loc>https://policies.example.com/terms/history/</loc>" in cold
    assert (tmp_path / "warm" / "sitemap.xml").read_text(encoding="utf-8") == cold
    with gzip.open(tmp_path / "warm" / "sitemap.xml.gz", "rt", encoding="utf-8") as packed:
        assert packed.read() == cold
    _same(tmp_path / "cold", tmp_path / "warm")


def _same(a: Path, b: Path) -> None:
    left = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    right = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert left == right
    names = [str(p) for p in left if p.suffix != ".gz"]
    _, mismatch, errors = filecmp.cmpfiles(a, b, names, shallow=False)
    assert mismatch == [] and errors == []


def test_check_reports_a_link_that_never_resolved_once(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from tracker.cli import cli

    repo = _repository(tmp_path / "repo")
    first = repo.git("rev-list", "--max-parents=0", "HEAD")
    result = CliRunner().invoke(cli, ["--repo", str(repo.path), "check", "--base", first, "--json"])
    reports = json.loads(result.stdout)
    dead = [p for r in reports for p in r["problems"] if "retention.md" in p]
    assert len(dead) == 1, reports
    assert "terms v2" in dead[0] and "links to retention.md" in dead[0]
    assert repo.git("rev-parse", "--short=12", "HEAD~4") in dead[0]
    assert result.exit_code == 1
