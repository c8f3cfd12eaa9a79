"""Issue 18's Done-when walk in one module: a repository with a source and three
translations (``tests/translated.py``) through a ``minor`` and a ``major`` source change,
German updated each time, French left stale since v2, Brazilian Portuguese stale since v3.

Every surface must tell the same story of who translates what and what is stale:
``log --json``, ``check``, the built site (``versions.json``; the switcher, the banners and
``hreflang`` in a real browser), and a real tracker fed by ``sync --to`` over HTTP (SQLite
and PostgreSQL): status without and with ``locale``, the notices the changes create for
readers of the German, French and English texts (the redline in the reader's language, or a
word that there is none), and the hosted acceptance page opened in German, which shows the
German text and whose acceptance is bound to the German text of v3.

The one story, by language (the source version each text renders, and its state):
de translates v3, current; fr translates v1, stale since v2; pt-BR translates v2, stale
since v3.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from click.testing import CliRunner
from playwright.sync_api import expect, sync_playwright

from tests.browser import ARTIFACTS, launch
from tests.gitrepo import GitRepo
from tests.hosted.conftest import RETURN, make_app_key
from tests.publish.conftest import build_site, write_config
from tests.servers import serve_folder
from tests.translated import make_translated_repository
from tracker.cli import cli
from tracker.history import read_catalog
from tracker.policy import Catalog
from tracker.publish import versions
from tracker.redline import suggest
from tracker.store import Store

#: language → (the source version its latest version translates, state, stale since)
STORY = {"de": (3, "current", None), "fr": (1, "stale", 2), "pt-BR": (2, "stale", 3)}
NAMES = {"en": "English", "de": "Deutsch", "fr": "Français", "pt-BR": "Português (pt-BR)"}


@dataclass
class Walk:
    repo: GitRepo
    catalog: Catalog
    site: Path
    shas: list[str]  # first-parent commits, oldest first

    def page(self, address: str) -> str:
        return (self.site / address / "index.html").read_text(encoding="utf-8")

    def versions_json(self) -> dict[str, Any]:
        document: dict[str, Any] = json.loads((self.site / "versions.json").read_text())
        return document


@pytest.fixture(scope="module")
def walk(tmp_path_factory: pytest.TempPathFactory) -> Walk:
    folder = tmp_path_factory.mktemp("done-when")
    repo = make_translated_repository(folder / "repo")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("NO_MKDOCS_2_WARNING", "1")
        env.delenv("POLICY_TRACKER_AS_OF", raising=False)
        build_site(write_config(folder / "config", repo.path), folder / "site")
    shas = repo.git("rev-list", "--first-parent", "--reverse", "HEAD").split()
    catalog = read_catalog(repo.path, classify=suggest, drafts=False)
    return Walk(repo, catalog, folder / "site", shas)


def cli_run(walk: Walk, *args: str, **env: str | None) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--repo", str(walk.repo.path), *args], env=env)
    return result.exit_code, result.stdout + result.stderr


def story_of(rows: list[dict[str, Any]]) -> dict[str, tuple[int, str, int | None]]:
    return {r["language"]: (r["translates"], r["state"], r["since"]) for r in rows}


# ---------------------------------------------------------------------------
# The repository: log and check


def test_log_and_check_tell_the_story(walk: Walk) -> None:
    code, out = cli_run(walk, "log", "privacy", "--json")
    assert code == 0, out
    entry = json.loads(out)
    assert story_of(entry["translations"]) == STORY
    assert [v["significance"] for v in reversed(entry["versions"])] == ["major", "minor", "major"]
    code, out = cli_run(walk, "log", "privacy")
    text = " ".join(out.split())
    assert "translation de (policy/privacy.de.md): v3 translates v3, current" in text
    assert "translation fr (policy/privacy.fr.md): v1 translates v1, stale since v2" in text
    assert "translation pt-BR (policy/privacy.pt-BR.md): v2 translates v2, stale since v3" in text

    # every commit after the first: the minor and the major change pass (de and fr, the
    # required languages, are declared pending by the major one); what they leave stale
    # are warnings naming the language and what it translates
    code, out = cli_run(walk, "check", "--json", "--base", walk.shas[0])
    assert code == 0, out
    reports = {(r["language"], r["change"]): r for r in json.loads(out)}
    assert reports[None, "v2"]["warnings"] == [
        "the fr translation is stale after v2 (it translates v1)"
    ]
    assert reports[None, "v3"]["warnings"] == [
        "the fr translation is stale after v3 (it translates v1)",
        "the pt-BR translation is stale after v3 (it translates v2)",
    ]
    assert reports["de", "de v3"]["warnings"] == []
    assert reports["pt-BR", "pt-BR v2"]["warnings"] == ["translates privacy v2; the latest is v3"]
    # without the pending declaration, the major change fails for both required languages
    walk.repo.git("checkout", "-q", "-b", "undeclared", walk.shas[2])
    try:
        walk.repo.commit(
            "Share data with partners\n\nPolicy-Change: major",
            {"policy/privacy.md": (walk.repo.path / "policy/privacy.md").read_text()
             .replace("never sell it", "share it with our partners")},
        )  # fmt: skip
        code, out = cli_run(walk, "check", "--json")
        assert code == 1
        (report,) = [r for r in json.loads(out) if r["change"] == "v3"]
        assert [p.split(";")[0] for p in report["problems"]] == [
            "v3 is major and leaves the required de translation stale (it translates v2)",
            "v3 is major and leaves the required fr translation stale (it translates v1)",
        ]
    finally:
        walk.repo.git("checkout", "-q", "main")


# ---------------------------------------------------------------------------
# The site: versions.json, pages, and a real browser


def test_versions_json_and_pages_tell_the_story(walk: Walk) -> None:
    document = walk.versions_json()
    jsonschema.Draft202012Validator(versions.schema()).validate(document)
    (policy,) = document["policies"]
    assert (policy["current_version"], policy["latest_version"]) == (3, 3)
    assert story_of(policy["translations"]) == STORY
    for t in policy["translations"]:
        assert t["url"] == f"{t['language']}/privacy/" and t["withdrawn"] is False
    english = walk.page("privacy/")
    for tag in ("en", "de", "fr", "pt-BR"):
        assert f'<link rel="alternate" hreflang="{tag}"' in english
    for tag, (translates, state, since) in STORY.items():
        html = walk.page(f"{tag}/privacy/")
        assert f'<html lang="{tag}"' in html
        assert f"version {translates} of the English text</a> ({state})" in html
        assert ("pt-banner--stale" in html) == (state == "stale"), tag
        if since is not None:
            day = walk.catalog.get("privacy").version(since).published.date()
            changed = f'The English text changed on <time datetime="{day.isoformat()}">'
            assert changed in html, tag


@pytest.fixture
def served(walk: Walk) -> Iterator[str]:
    with serve_folder(walk.site) as url:
        yield url


def test_the_browser_shows_the_story(served: str) -> None:
    """Each language's page: the switcher offers the other three, hreflang joins all four,
    and the stale banner shows exactly on the French and Portuguese texts."""
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            for tag, address in [("en", "privacy/")] + [(t, f"{t}/privacy/") for t in STORY]:
                page.goto(served + address)
                expect(page.locator("html")).to_have_attribute("lang", tag)
                switcher = page.get_by_role("navigation", name="Languages")
                expect(switcher.locator("[aria-current=page]")).to_have_text(NAMES[tag])
                others = [NAMES[t] for t in NAMES if t != tag]
                expect(switcher.get_by_role("link")).to_have_text(others)
                expect(page.locator("link[rel=alternate][hreflang]")).to_have_count(4)
                stale = tag in STORY and STORY[tag][1] == "stale"
                expect(page.locator(".pt-banner--stale")).to_have_count(1 if stale else 0)
            page.goto(served + "pt-BR/privacy/")
            banner = page.locator(".pt-banner--stale")
            expect(banner).to_contain_text("this translation has not been updated yet")
            page.screenshot(path=str(ARTIFACTS / "done-when-pt-BR.png"), full_page=True)
            banner.get_by_role("link", name="Read the current English version").click()
            page.wait_for_url(served + "privacy/")
        finally:
            browser.close()


# ---------------------------------------------------------------------------
# The tracker: sync --to, status, notices and the hosted page (SQLite and PostgreSQL)


class Tracker:
    def __init__(self, server: str, keys: dict[str, str]):
        self.server, self.keys = server, dict(keys)

    def call(self, method: str, path: str, key: str = "admin", **kw: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.keys[key]}"}
        answer = httpx.request(method, self.server + path, headers=headers, timeout=30, **kw)
        assert answer.status_code in (200, 201), f"{path}: {answer.text}"
        return answer.json()

    def status(self, user: str, locale: str | None = None) -> dict[str, Any]:
        params = {"locale": locale} if locale else {}
        found: dict[str, Any] = self.call("GET", f"/v1/users/{user}/status", params=params)
        return found

    def accept(self, user: str, version: int, locale: str | None) -> None:
        body = {"user_id": user, "policy": "privacy", "version": version, "locale": locale}
        self.call("POST", "/v1/acceptances", "write", json=body)


def test_the_tracker_tells_the_same_story(
    walk: Walk, server: str, keys: dict[str, str], store: Store
) -> None:
    tracker = Tracker(server, keys)
    # the tracker first knows v1 and its three translations; readers accept v1 in German,
    # in French and in English, then the minor and the major change are synced
    code, out = cli_run(
        walk, "sync", "--to", server, POLICY_TRACKER_ADMIN_KEY=keys["admin"],
        POLICY_TRACKER_REF=walk.shas[1],
    )  # fmt: skip
    assert code == 0, out
    assert "privacy v1, privacy (de) v1, privacy (fr) v1, privacy (pt-BR) v1;" in out
    for user, locale in (("alice", "de-DE"), ("carol", "fr"), ("bob", None)):
        tracker.accept(user, 1, locale)
    code, out = cli_run(walk, "sync", "--to", server, POLICY_TRACKER_ADMIN_KEY=keys["admin"])
    assert code == 0, out
    assert "privacy v2, privacy v3, privacy (de) v2, privacy (de) v3, privacy (pt-BR) v2;" in out

    # status without a locale: the source's story, the same for every reader
    for user in ("alice", "bob", "carol"):
        (entry,) = tracker.status(user)["policies"]
        assert (entry["current_version"], entry["accepted_version"]) == (3, 1)
        assert (entry["state"], entry["needs_acceptance"]) == ("major_change", True)
        assert "translation" not in entry
    # with a locale: each language's text and state, as log, check and the site say
    site = {t["language"]: t for t in walk.versions_json()["policies"][0]["translations"]}
    for tag, (translates, state, _) in STORY.items():
        (entry,) = tracker.status("alice", tag)["policies"]
        translation = entry["translation"]
        assert translation["language"] == tag
        assert (translation["translates"], translation["state"]) == (translates, state)
        assert translation["current"] is (state == "current")
        assert translation["url"].endswith(f"/{site[tag]['url']}")
        assert translation["sha256"] == site[tag]["versions"][-1]["sha256"]
    assert tracker.status("alice", "ja")["policies"][0]["translation"] is None

    # notices: v2 and v3 (synced together: one notice, v1 → v3, major) reached every reader
    # of v1, with the source's redline and, for a reader of a translation, the redline in
    # that language when the site has one (German: /de/privacy/changes/1-3/, a page of the
    # built site) or a word that it has none (French: not updated since v1)
    notices = {}
    for user in ("alice", "bob", "carol"):
        found = tracker.call("GET", f"/v1/users/{user}/notices", "read")["notices"]
        (notices[user],) = found
        notice = notices[user]
        assert (notice["from_version"], notice["to_version"], notice["significance"]) == (
            1,
            3,
            "major",
        )
        assert notice["redline_url"].endswith("/privacy/changes/1-3/")
    german = notices["alice"]["translation"]
    assert (german["language"], german["note"]) == ("de", None)
    assert german["redline_url"].endswith("/de/privacy/changes/1-3/")
    assert (walk.site / "de/privacy/changes/1-3/index.html").is_file()
    french = notices["carol"]["translation"]
    assert (french["language"], french["redline_url"]) == ("fr", None)
    assert "the French text has not been updated to version 3 yet" in french["note"]
    assert notices["bob"].get("translation") is None

    # the hosted page opened with locale de shows the German text (its redline from v1) and
    # alice accepts v3 there; the acceptance is bound to the German text of v3, counts as v3
    german_v3 = walk.catalog.translations["privacy"]["de"].versions[2]
    tracker.keys["shop"] = make_app_key(store)  # an app allowed to send readers back to RETURN
    link = tracker.call(
        "POST",
        "/v1/acceptance-links",
        "shop",
        json={"user_id": "alice", "return_url": RETURN, "locale": "de"},
    )
    with httpx.Client(timeout=30) as browser:  # keeps the page's cookie, as a browser does
        page = browser.get(link["url"].replace("http://127.0.0.1:8000", server))
        assert page.status_code == 200, page.text
        assert '<html lang="de"' in page.text
        fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text)
        assert ("version", "3") in fields
        shown = " ".join(re.sub(r"<[^>]+>", " ", page.text).split())
        assert "This is the German text (Deutsch) of version 3." in shown
        assert "mit unseren Partnern" in shown  # the German redline, 1 → 3
        assert f"SHA-256 of this German text: {german_v3.sha256}" in shown
        data: dict[str, list[str]] = {}
        for name, value in [*fields, ("decision", "accept")]:
            data.setdefault(name, []).append(value)
        done = browser.post(str(page.url), data=data, follow_redirects=False)
    assert done.status_code == 303, done.text
    (entry,) = tracker.status("alice", "de")["policies"]
    assert (entry["state"], entry["accepted_version"]) == ("accepted", 3)
    assert entry["translation"]["state"] == "current"
    (carol,) = tracker.status("carol", "fr")["policies"]
    assert (carol["state"], carol["translation"]["state"]) == ("major_change", "stale")
    export = httpx.get(
        f"{server}/v1/admin/export",
        params={"user_id": "alice"},
        headers={"Authorization": f"Bearer {keys['admin']}"},
        timeout=30,
    )
    assert export.status_code == 200, export.text
    rows = [r for r in _rows(export) if r["user_id"] == "alice" and r["version"] == 3]
    assert [(r["translation_language"], r["translation_version"]) for r in rows] == [("de", 3)]
    assert rows[0]["translation_sha256"] == german_v3.sha256
    assert rows[0]["sha256"] == walk.catalog.get("privacy").version(3).sha256


def _rows(export: httpx.Response) -> list[dict[str, Any]]:
    """The JSON Lines of an export."""
    return [json.loads(line) for line in export.text.splitlines() if line.strip()]
