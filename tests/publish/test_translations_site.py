"""Translations on the built site: pages at /<lang>/<slug>/, every version and redline,
the language switcher, the stale banner, hreflang links and the page's language; checked
in the HTML and in a real browser (Debian's chromium driven by Playwright)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest
from playwright.sync_api import expect, sync_playwright

from tests.browser import ARTIFACTS, launch
from tests.gitrepo import EPOCH
from tests.publish.conftest import Site, build_site, write_config
from tests.servers import serve_folder
from tests.translated import german_repo, make_translated_repository
from tracker.publish import versions


@pytest.fixture(scope="module")
def translated(tmp_path_factory: pytest.TempPathFactory) -> Site:
    folder = tmp_path_factory.mktemp("translated")
    repo = make_translated_repository(folder / "repo")
    build_site(write_config(folder / "config", repo.path), folder / "site")
    return Site(folder / "site", repo)


def test_pages_of_each_translation(translated: Site) -> None:
    for address in (
        "de/privacy/",
        "de/privacy/v3/",
        "de/privacy/changes/2-3/",
        "de/privacy/history/",
        "fr/privacy/",
        "fr/privacy/v1/",
        "pt-BR/privacy/",
        "pt-BR/privacy/changes/1-2/",
    ):
        assert translated.exists(address), address
    german = translated.page("de/privacy/")
    assert '<html lang="de"' in german
    assert "Datenschutzerklärung" in german and "pt-banner--stale" not in german
    assert "Translation of" in german and "version 3 of the English text" in german
    french = translated.page("fr/privacy/")
    assert "pt-banner--stale" in french
    assert "The English text changed on" in french and "Read the current English version" in french
    assert "version 1 of the English text</a> (stale)" in french
    english = translated.page("privacy/")
    assert '<html lang="en"' in english and "pt-banner--stale" not in english
    for tag in ("en", "de", "fr", "pt-BR"):
        assert f'<link rel="alternate" hreflang="{tag}"' in english
        assert f'<link rel="alternate" hreflang="{tag}"' in german
    # the navigation and the index list the policy once, in its source language
    index = translated.page("")
    assert "Datenschutz" not in index


def test_versions_json_and_feed_carry_the_translations(translated: Site) -> None:
    document = json.loads(translated.file("versions.json"))
    jsonschema.Draft202012Validator(versions.schema()).validate(document)
    (policy,) = document["policies"]
    rows = {t["language"]: t for t in policy["translations"]}
    assert sorted(rows) == ["de", "fr", "pt-BR"]
    assert (rows["de"]["state"], rows["de"]["translates"]) == ("current", 3)
    assert (rows["fr"]["state"], rows["fr"]["since"]) == ("stale", 2)
    assert rows["pt-BR"]["url"].endswith("pt-BR/privacy/")
    assert [v["translates"] for v in rows["de"]["versions"]] == [1, 2, 3]
    feed = translated.file("feed.xml")
    assert "Datenschutzerklärung" in feed and 'xml:lang="de"' in feed


def test_search_covers_each_language(translated: Site) -> None:
    index = json.loads(translated.file("search/search_index.json"))
    locations = {d["location"] for d in index["docs"]}
    assert any(loc.startswith("de/privacy/") for loc in locations)
    assert any(loc.startswith("fr/privacy/") for loc in locations)


@pytest.fixture
def served(translated: Site) -> Iterator[str]:
    with serve_folder(translated.root) as url:
        yield url


def test_switcher_banner_and_hreflang_in_a_browser(served: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(served + "privacy/")
            switcher = page.get_by_role("navigation", name="Languages")
            expect(switcher.get_by_role("link")).to_have_count(3)
            expect(switcher.locator("[aria-current=page]")).to_have_text("English")
            hreflang = page.locator("link[rel=alternate][hreflang]")
            expect(hreflang).to_have_count(4)
            switcher.get_by_role("link", name="Français").click()
            page.wait_for_url(served + "fr/privacy/")
            expect(page.locator("html")).to_have_attribute("lang", "fr")
            banner = page.locator(".pt-banner--stale")
            expect(banner).to_contain_text("The English text changed on 4 January 2024")
            page.screenshot(path=str(ARTIFACTS / "translation-stale.png"), full_page=True)
            banner.get_by_role("link", name="Read the current English version").click()
            page.wait_for_url(served + "privacy/")
            page.get_by_role("navigation", name="Languages").get_by_role(
                "link", name="Deutsch"
            ).click()
            page.wait_for_url(served + "de/privacy/")
            expect(page.locator(".pt-banner--stale")).to_have_count(0)
            expect(page.locator(".pt-translates")).to_contain_text("version 3 of the English text")
        finally:
            browser.close()


def test_a_german_source_says_so_on_every_page(tmp_path: Path) -> None:
    """A policy written in German (``language: de``): its own pages say ``lang="de"`` (not the
    theme's en), its English and French texts theirs, and versions.json gives de."""
    repo = german_repo(tmp_path / "repo", start=EPOCH)
    built = Site(tmp_path / "site", repo)
    build_site(write_config(tmp_path / "config", repo.path), built.root)
    for address, tag in (
        ("privacy/", "de"),
        ("privacy/v1/", "de"),
        ("privacy/history/", "de"),
        ("en/privacy/", "en"),
        ("fr/privacy/", "fr"),
    ):
        assert f'<html lang="{tag}"' in built.page(address), address
    assert "version 1 of the German text" in built.page("en/privacy/")
    document = json.loads(built.file("versions.json"))
    jsonschema.Draft202012Validator(versions.schema()).validate(document)
    (policy,) = document["policies"]
    assert policy["language"] == "de"
    assert sorted(t["language"] for t in policy["translations"]) == ["en", "fr"]
