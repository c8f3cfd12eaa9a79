"""The hosted page in the reader's language, over real HTTP on SQLite and PostgreSQL: the
link's ``locale``, then ``Accept-Language``, then the source; the translated text (or its
redline) with a link to the original; and the event bound to the text shown.

privacy v1 (major) with de and fr; v2 (major) with de updated and fr left behind."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.hosted.conftest import RETURN, make_app_key, read_form, text_of
from tests.service.helpers import catalog_of, sync
from tracker.policy import Catalog
from tracker.store import Store


class Browser:
    """A browser over real HTTP: it keeps the page's cookie and sends its Accept-Language."""

    def __init__(self, server: str, key: str, catalog: Catalog):
        self.server = server
        self.key = key
        self.catalog = catalog
        self.http = httpx.Client(base_url=server, follow_redirects=False, timeout=30)

    def link(self, user: str, **body: Any) -> str:
        r = self.http.post(
            "/v1/acceptance-links",
            json={"user_id": user, "return_url": RETURN, **body},
            headers={"Authorization": f"Bearer {self.key}"},
        )
        assert r.status_code == 201, r.text
        return str(r.json()["url"]).removeprefix(self.server)

    def open(self, path: str, language: str | None = None) -> httpx.Response:
        headers = {"Accept-Language": language} if language else {}
        r = self.http.get(path, headers=headers)
        assert r.status_code == 200, r.text
        return r

    def accept(
        self, path: str, page: httpx.Response, language: str | None = None
    ) -> httpx.Response:
        data: dict[str, list[str]] = {}
        for name, value in [*read_form(page.text).fields, ("decision", "accept")]:
            data.setdefault(name, []).append(value)
        headers = {"Accept-Language": language} if language else {}
        return self.http.post(path, data=data, headers=headers)

    def api(self, path: str, **params: str) -> Any:
        r = self.http.get(path, params=params, headers={"Authorization": f"Bearer {self.key}"})
        assert r.status_code == 200, r.text
        return r.json()

    def record(self, user: str, version: int, locale: str | None) -> None:
        body = {"user_id": user, "policy": "privacy", "version": version, "locale": locale}
        r = self.http.post(
            "/v1/acceptances", json=body, headers={"Authorization": f"Bearer {self.key}"}
        )
        assert r.status_code == 201, r.text


@pytest.fixture
def browser(server: str, store: Store, tmp_path: Path) -> Iterator[Browser]:
    catalog = catalog_of(tmp_path, "major")
    sync(store, catalog)
    opened = Browser(server, make_app_key(store), catalog)
    yield opened
    opened.http.close()


def _fields(page: httpx.Response) -> dict[str, str]:
    return dict(read_form(page.text).fields)


def test_the_links_locale_shows_the_translation_and_the_event_names_it(browser: Browser) -> None:
    catalog = browser.catalog
    german = catalog.translations["privacy"]["de"].versions[-1]
    source = catalog.get("privacy").version(2)
    path = browser.link("anna", locale="de-DE")
    page = browser.open(path, "fr, en;q=0.5")  # the link's locale comes first
    text = text_of(page.text)
    assert "Wir speichern Ihre Daten 60 Tage" in text and "We keep" not in text
    assert re.search(r'class="pt-document"[^>]*lang="de"', page.text)
    assert "This is the German text (Deutsch) of version 2" in text
    assert re.search(r'<a href="[^"]*/privacy/v2/">Read the original</a>', page.text)
    assert german.sha256 in text and source.sha256 in text
    assert _fields(page)["text"] == german.sha256 and _fields(page)["sha256"] == source.sha256
    done = browser.accept(path, page, "fr")
    assert done.status_code == 303, done.text
    (event,) = browser.api("/v1/users/anna/events")["events"]
    assert (event["version"], event["sha256"], event["locale"]) == (2, source.sha256, "de-DE")
    assert event["translation"] == {
        "language": "de",
        "version": 2,
        "translates": 2,
        "sha256": german.sha256,
    }
    status = browser.api("/v1/users/anna/status", locale="de")["policies"][0]
    assert (status["state"], status["accepted_version"]) == ("accepted", 2)


def test_accept_language_picks_the_text_by_weight(browser: Browser) -> None:
    german = browser.catalog.translations["privacy"]["de"].versions[-1]
    # French has no text of v2: the next language wanted by weight that has one (German).
    path = browser.link("bruno")
    page = browser.open(path, "fr-CA, fr;q=0.9, de;q=0.8")
    assert "Wir speichern Ihre Daten 60 Tage" in text_of(page.text)
    assert browser.accept(path, page, "fr-CA, fr;q=0.9, de;q=0.8").status_code == 303
    (event,) = browser.api("/v1/users/bruno/events")["events"]
    assert event["locale"] == "de" and event["translation"]["sha256"] == german.sha256
    # The source's language before German: the original, and no text bound.
    path = browser.link("carla")
    page = browser.open(path, "de;q=0.8, en-GB")
    text = text_of(page.text)
    assert "We keep your data for 60 days" in text and "Wir speichern" not in text
    assert 'lang="de"' not in page.text and _fields(page)["text"] == _fields(page)["sha256"]
    assert browser.accept(path, page, "de;q=0.8, en-GB").status_code == 303
    (event,) = browser.api("/v1/users/carla/events")["events"]
    assert (event["locale"], event["translation"]) == (None, None)


def test_a_translation_behind_the_version_says_so_and_shows_the_original(
    browser: Browser,
) -> None:
    browser.record("dora", 1, "fr")
    path = browser.link("dora", locale="fr")
    page = browser.open(path)
    text = text_of(page.text)
    assert "The French text (Français) has not been updated to version 2 yet" in text
    assert "We keep your data for" in text and "Nous gardons" not in text
    assert browser.accept(path, page).status_code == 303
    events = browser.api("/v1/users/dora/events")["events"]
    assert (events[-1]["locale"], events[-1]["translation"]) == ("fr", None)


def test_the_redline_is_in_the_readers_language(browser: Browser) -> None:
    browser.record("emil", 1, "de")
    page = browser.open(browser.link("emil", locale="de"))
    assert re.search(r"<del>[^<]*90[^<]*</del>", page.text), page.text
    assert re.search(r"<ins>[^<]*60[^<]*</ins>", page.text)
    assert "Tage" in text_of(page.text) and "days" not in text_of(page.text)


def test_a_text_changed_between_page_and_answer_records_nothing(
    browser: Browser, store: Store
) -> None:
    path = browser.link("fritz")
    page = browser.open(path, "de")
    # The same page answered from a browser now preferring English: the text it would show
    # is not the one the user read.
    again = browser.accept(path, page, "en")
    assert again.status_code == 409
    assert "The text shown in your language changed while you were reading" in text_of(again.text)
    with pytest.raises(AssertionError):
        browser.api("/v1/users/fritz/events")
    assert browser.accept(path, again, "en").status_code == 303
    (event,) = browser.api("/v1/users/fritz/events")["events"]
    assert event["translation"] is None
