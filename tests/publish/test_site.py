"""The built site: pages at their addresses, headers, banners, redlines, history, index."""

from __future__ import annotations

import json
import re

from tests.publish.conftest import Site


def article(html: str) -> str:
    """The page's content, without the theme's navigation."""
    start, end = html.index("<article"), html.index("</article>")
    return html[start:end]


def test_every_page_is_at_its_address(built: Site) -> None:
    for address in [
        "",
        "privacy",
        "privacy/v1",
        "privacy/v2",
        "privacy/v3",
        "privacy/changes/1-2",
        "privacy/changes/2-3",
        "privacy/changes/1-3",
        "privacy/history",
        "legal/terms",
        "legal/terms/v1",
        "legal/terms/v2",
        "legal/terms/changes/1-2",
        "legal/terms/history",
        "cookies",
        "cookies/v2",
        "cookies/changes/1-2",
    ]:
        assert built.exists(address), address
    assert not built.exists("privacy/draft"), "drafts are off for `mkdocs build`"
    assert (built.root / "feed.xml").is_file()
    assert (built.root / "versions.json").is_file()
    assert (built.root / "versions.schema.json").is_file()


def test_current_page_shows_the_version_in_force_with_its_dates(built: Site) -> None:
    page = article(built.page("privacy"))
    assert re.search(r"Last updated</dt>\s*<dd><time datetime=\"2024-01-03\">", page)
    assert re.search(r"Version</dt>\s*<dd>2</dd>", page)
    assert re.search(r"Effective</dt>\s*<dd><time datetime=\"2024-01-03\">", page)
    assert "We use essential cookies to keep you signed in." in page
    assert "Retention" not in page.split("pt-meta", 1)[1], "v3 is upcoming, not in force"


def test_change_banner_and_upcoming_banner(built: Site) -> None:
    page = article(built.page("privacy"))
    assert "pt-banner--changed" in page
    assert "We now say which cookies we use." in page
    assert 'href="changes/1-2/"' in page
    assert "Version 3 takes effect on" in page
    assert '<time datetime="2024-03-01">1 March 2024</time>' in page
    assert 'href="changes/2-3/"' in page and 'href="v3/"' in page


def test_change_banner_for_a_major_version_within_the_window(built: Site) -> None:
    # terms v2 (major) was published 2024-01-08, 12 days before the build date: banner.
    assert "pt-banner--changed" in article(built.page("legal/terms"))


def test_archived_and_upcoming_version_pages(built: Site) -> None:
    v1 = article(built.page("privacy/v1"))
    assert "Archived version" in v1 and 'href="../"' in v1
    from tracker.history import read_catalog
    from tracker.redline import suggest

    version = read_catalog(built.repo.path, classify=suggest).get("privacy").version(1)
    assert version.sha256 in v1
    assert '<time datetime="2024-01-02">' in v1
    v3 = article(built.page("privacy/v3"))
    assert "Upcoming version: takes effect on" in v3
    assert "We now collect your location" in v3
    assert "pt-significance--major" in v3
    assert "We keep your data for 24 months" in v3
    v2 = article(built.page("privacy/v2"))
    assert "This is the version in force" in v2


def test_redlines_mark_insertions_and_deletions(built: Site) -> None:
    page = article(built.page("privacy/changes/1-2"))
    assert "<del>remember your preferences</del>" in page
    assert "<ins>keep you signed in</ins>" in page
    assert "<ins>essential</ins>" in page
    assert "redline-summary" in page, "the section summary is at the top"
    to_latest = article(built.page("privacy/changes/1-3"))
    assert "<ins>We keep your data for 24 months after you close your account.</ins>" in to_latest
    terms = article(built.page("legal/terms/changes/1-2"))
    assert "<del>the courts of Paris</del>" in terms
    assert "<ins>binding arbitration in Geneva</ins>" in terms


def test_the_stylesheet_keeps_the_marks_in_print(built: Site) -> None:
    css = built.file("assets/policy-tracker/policy-tracker.css")
    print_rules = css[css.index("@media print") :]
    assert "line-through" in print_rules and "underline" in print_rules
    assert "policy-tracker.css" in built.page("privacy/changes/1-2")


def test_history_page_lists_every_version_with_links(built: Site) -> None:
    page = article(built.page("privacy/history"))
    rows = re.findall(r"<tr class=\"pt-history__row[^\"]*\">(.*?)</tr>", page, re.S)
    assert len(rows) == 3
    assert 'href="../v3/"' in rows[0] and "upcoming" in rows[0]
    assert 'href="../changes/2-3/"' in rows[0]
    assert 'href="../v2/"' in rows[1] and "current" in rows[1]
    assert "We now say which cookies we use." in rows[1]
    assert 'href="../changes/1-3/"' in rows[2]
    assert "2 January 2024" in rows[2]


def test_index_lists_policies(built: Site) -> None:
    page = article(built.page(""))
    assert "Our policies" in page, "the docs_dir index is kept, the list appended"
    for href in ('href="privacy/"', 'href="legal/terms/"', 'href="cookies/"'):
        assert href in page
    assert 'href="versions.json"' in page and 'href="feed.xml"' in page


def test_renamed_policy_keeps_its_old_addresses(built: Site) -> None:
    stub = (built.root / "cookie" / "v1" / "index.html").read_text()
    assert 'url=../../cookies/v1/"' in stub
    assert "moved" in stub.lower()
    versions = json.loads(built.file("versions.json"))
    cookies = next(p for p in versions["policies"] if p["slug"] == "cookies")
    assert cookies["aliases"] == ["cookie"]


def test_search_covers_current_versions_only(built: Site) -> None:
    index = json.loads(built.file("search/search_index.json"))
    locations = {doc["location"].split("#")[0] for doc in index["docs"]}
    assert "privacy/" in locations
    assert not {loc for loc in locations if re.search(r"/(v\d+|changes|history)/", loc)}


def test_archived_pages_are_not_in_the_navigation(built: Site) -> None:
    nav = built.page("privacy").split("<article", 1)[0]
    assert 'href="v1/"' not in nav and "changes/" not in nav
    assert "Privacy Policy" in nav


def test_dates_come_from_history_not_from_the_build(built: Site) -> None:
    page = built.page("cookies")
    assert '<time datetime="2024-01-05">' in page
