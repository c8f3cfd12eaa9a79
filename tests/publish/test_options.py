"""Plugin options and their environment variables: as_of, drafts, banner_days, enabled."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.gitrepo import GitRepo, policy_source
from tests.publish.conftest import PRIVACY_DRAFT, Site, build_site, make_repository, write_config


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    return make_repository(tmp_path / "repo")


def build(tmp_path: Path, repo: GitRepo, *, command: str = "build", **options: object) -> Site:
    config = write_config(tmp_path / "config", repo.path, **options)
    build_site(config, tmp_path / "site", command=command)
    return Site(tmp_path / "site", repo)


def version_shown(site: Site, slug: str) -> int:
    match = re.search(r"Version</dt>\s*<dd>(\d+)</dd>", site.page(slug))
    assert match
    return int(match.group(1))


def test_scheduled_rebuild_switches_to_the_upcoming_version(
    tmp_path: Path, repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POLICY_TRACKER_AS_OF", "2024-03-01")
    site = build(tmp_path, repo)
    assert version_shown(site, "privacy") == 3
    page = site.page("privacy")
    assert "takes effect on" not in page
    assert "pt-banner--changed" in page, "effective today: the change banner shows"
    assert 'href="changes/2-3/"' in page


def test_as_of_option(tmp_path: Path, repo: GitRepo) -> None:
    site = build(tmp_path, repo, as_of="2024-02-29")
    assert version_shown(site, "privacy") == 2


def test_bad_as_of_is_a_clear_error(
    tmp_path: Path, repo: GitRepo, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("POLICY_TRACKER_AS_OF", "tomorrow")
    with pytest.raises(SystemExit):
        build(tmp_path, repo)
    assert "POLICY_TRACKER_AS_OF: malformed date 'tomorrow'" in caplog.text


def test_banner_window(tmp_path: Path, repo: GitRepo) -> None:
    site = build(tmp_path, repo, banner_days=5)
    assert "pt-banner--changed" not in site.page("privacy"), "published 17 days earlier"
    assert "Version 3 takes effect" in site.page("privacy"), "upcoming banner regardless"


def test_drafts_on_show_a_marked_page_and_a_redline(tmp_path: Path, repo: GitRepo) -> None:
    repo.write("policy/privacy.md", policy_source("Privacy Policy", PRIVACY_DRAFT, notice_days=30))
    repo.write("policy/refunds.md", policy_source("Refund Policy", "## Refunds\n\nWithin 14 days."))
    site = build(tmp_path, repo, drafts=True)
    draft = site.page("privacy/draft")
    assert "Unpublished draft" in draft
    assert "It would become version 4" in draft
    assert "We keep your data for 12 months" in draft
    changes = site.page("privacy/draft/changes")
    assert "<del>24</del>" in changes and "<ins>12</ins>" in changes
    assert "The classifier suggests" in changes
    assert "Preview: this policy has an unpublished draft" in site.page("privacy")
    assert "We keep your data for 12 months" not in site.page("privacy/v3")
    new = site.page("refunds/draft")
    assert "It would become version 1" in new
    assert 'href="refunds/draft/"' in site.page("")
    assert not site.exists("refunds"), "never published"
    assert '"refunds"' not in site.file("versions.json"), "drafts are never versions"


def test_drafts_default_on_under_serve_only(tmp_path: Path, repo: GitRepo) -> None:
    repo.write("policy/privacy.md", policy_source("Privacy Policy", PRIVACY_DRAFT, notice_days=30))
    assert not build(tmp_path / "b", repo).exists("privacy/draft")
    assert build(tmp_path / "s", repo, command="serve").exists("privacy/draft")


def test_drafts_environment_variable(
    tmp_path: Path, repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo.write("policy/privacy.md", policy_source("Privacy Policy", PRIVACY_DRAFT, notice_days=30))
    monkeypatch.setenv("POLICY_TRACKER_DRAFTS", "1")
    assert build(tmp_path / "on", repo).exists("privacy/draft")
    monkeypatch.setenv("POLICY_TRACKER_DRAFTS", "0")
    assert not build(tmp_path / "off", repo, command="serve").exists("privacy/draft")


def test_disabled_plugin_generates_nothing(tmp_path: Path, repo: GitRepo) -> None:
    site = build(tmp_path, repo, enabled=False)
    assert site.exists("")
    assert not site.exists("privacy")
    assert not (site.root / "versions.json").exists()
    assert "policy-tracker.css" not in site.page("")


def test_site_url_makes_feed_and_index_urls_absolute(tmp_path: Path, repo: GitRepo) -> None:
    config = write_config(tmp_path / "config", repo.path)
    text = config.read_text().replace(
        "site_name:", "site_url: https://policies.example.org/\nsite_name:"
    )
    config.write_text(text)
    build_site(config, tmp_path / "site")
    document = (tmp_path / "site" / "versions.json").read_text()
    assert '"url": "https://policies.example.org/privacy/v1/"' in document
    feed = (tmp_path / "site" / "feed.xml").read_text()
    assert "<id>https://policies.example.org/privacy/v3/</id>" in feed


def test_withdrawn_policy_keeps_its_pages_with_a_banner(tmp_path: Path, repo: GitRepo) -> None:
    repo.commit("Withdraw the cookie policy", {"policy/cookies.md": None})
    site = build(tmp_path, repo)
    page = site.page("cookies")
    assert "This policy has been withdrawn" in page
    assert site.exists("cookies/v2") and site.exists("cookies/history")
    nav = site.page("privacy").split("<article", 1)[0]
    assert "Cookie Policy" not in nav


def test_serve_watches_the_policy_sources(tmp_path: Path, repo: GitRepo) -> None:
    from mkdocs.config import load_config

    config = load_config(config_file=str(write_config(tmp_path / "config", repo.path)))
    plugin = config.plugins["policy-tracker"]
    watched: list[str] = []

    class Server:
        def watch(self, path: str) -> None:
            watched.append(path)

    plugin.on_serve(Server(), config=config, builder=lambda: None)  # type: ignore[arg-type]
    assert watched == [str(repo.path / "policy")]
