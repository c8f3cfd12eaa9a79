"""A policy written in German (``language: de``) with English and French translations: the
tracker serves and names languages by the policy's source language, as the site does, over
real HTTP on SQLite and PostgreSQL.

privacy v1 (major) with en and fr; v2 (major) with en updated and fr left behind. The
versions reach the tracker as CI sends them (``policy-tracker sync --to``: the site's
versions.json with the texts, ``POST /v1/admin/versions``) or from git (``sync``)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from tests.api import Api
from tests.gitrepo import GitRepo
from tests.hosted.conftest import RETURN, make_app_key, read_form, text_of
from tests.service.helpers import T0, payload, policy, version
from tests.translated import german_repo, second_german_version
from tracker import migrations, sync
from tracker.audit.bundle import render_html, verify
from tracker.audit.evidence import evidence
from tracker.history import read_catalog
from tracker.policy import Catalog
from tracker.redline import suggest
from tracker.settings import Settings
from tracker.store import Store
from tracker.store.catalog import load_snapshot

SITE = "http://127.0.0.1:8000"  # the settings' default site_url


class Tracker:
    """The tracker over real HTTP, as CI publishes to it and apps call it."""

    def __init__(self, server: str, settings: Settings, keys: dict[str, str], app_key: str):
        self.server = server
        self.settings = settings
        self.admin = keys["admin"]
        self.app_key = app_key
        self.http = httpx.Client(base_url=server, follow_redirects=False, timeout=30)

    def publish(self) -> None:
        """``policy-tracker sync --to``: versions.json and the texts, posted to the tracker."""
        sync.sync_to(self.settings, self.server, self.admin, as_of=T0.date())

    def get(self, path: str, **params: str) -> Any:
        r = self.http.get(path, params=params, headers={"Authorization": f"Bearer {self.admin}"})
        assert r.status_code == 200, r.text
        return r.json()

    def accept(self, user: str, version: int, locale: str) -> dict[str, Any]:
        body = {"user_id": user, "policy": "privacy", "version": version, "locale": locale}
        r = self.http.post(
            "/v1/acceptances", json=body, headers={"Authorization": f"Bearer {self.admin}"}
        )
        assert r.status_code == 201, r.text
        return dict(r.json()["event"])

    def translation(self, locale: str) -> Any:
        (entry,) = self.get("/v1/users/nobody/status", locale=locale)["policies"]
        return entry["translation"]

    def notice(self, user: str, **params: str) -> Any:
        (found,) = self.get(f"/v1/users/{user}/notices", **params)["notices"]
        assert found["redline_url"] == f"{SITE}/privacy/changes/1-2/"
        return found.get("translation")

    def page(self, user: str, language: str) -> tuple[str, httpx.Response]:
        r = self.http.post(
            "/v1/acceptance-links",
            json={"user_id": user, "return_url": RETURN},
            headers={"Authorization": f"Bearer {self.app_key}"},
        )
        assert r.status_code == 201, r.text
        path = str(r.json()["url"]).removeprefix(self.server)
        page = self.http.get(path, headers={"Accept-Language": language})
        assert page.status_code == 200, page.text
        return path, page

    def answer(self, path: str, page: httpx.Response, language: str) -> None:
        data: dict[str, list[str]] = {}
        for name, value in [*read_form(page.text).fields, ("decision", "accept")]:
            data.setdefault(name, []).append(value)
        done = self.http.post(path, data=data, headers={"Accept-Language": language})
        assert done.status_code == 303, done.text

    def events(self, user: str) -> list[dict[str, Any]]:
        return list(self.get(f"/v1/users/{user}/events")["events"])


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    return german_repo(tmp_path / "repo", start=T0 - timedelta(days=30))


@pytest.fixture
def tracker(
    server: str, settings: Settings, keys: dict[str, str], store: Store, repo: GitRepo
) -> Iterator[Tracker]:
    found = Tracker(server, replace(settings, repository=repo.path), keys, make_app_key(store))
    yield found
    found.http.close()


def catalog(repo: GitRepo) -> Catalog:
    return read_catalog(repo.path, classify=suggest)


def test_status_serves_each_locale_by_the_source_language(tracker: Tracker) -> None:
    tracker.publish()
    (stored,) = tracker.get("/v1/policies")["policies"]
    assert (stored["slug"], stored["language"]) == ("privacy", "de")
    english = tracker.translation("en")
    assert english["url"] == f"{SITE}/en/privacy/" and english["state"] == "current"
    assert tracker.translation("en-GB")["language"] == "en"
    assert tracker.translation("fr")["url"] == f"{SITE}/fr/privacy/"
    for german in ("de", "de-DE", "de-AT"):  # the source serves its own language
        assert tracker.translation(german) is None


def test_notices_name_the_source_language(tracker: Tracker, repo: GitRepo, store: Store) -> None:
    tracker.publish()
    anna = tracker.accept("anna", 1, "en")
    bruno = tracker.accept("bruno", 1, "fr")
    carl = tracker.accept("carl", 1, "de")
    texts = catalog(repo).translations["privacy"]
    assert anna["translation"]["sha256"] == texts["en"].versions[0].sha256
    assert bruno["translation"]["sha256"] == texts["fr"].versions[0].sha256
    assert carl["translation"] is None  # the German source itself
    second_german_version(repo)
    tracker.publish()

    english = {"language": "en", "redline_url": f"{SITE}/en/privacy/changes/1-2/", "note": None}
    french = {
        "language": "fr",
        "redline_url": None,
        "note": "No French redline from version 1 to version 2: the French text has not been "
        "updated to version 2 yet; the German redline is linked (redline_url).",
    }
    assert tracker.notice("anna") == english  # the locale anna accepted v1 in
    assert tracker.notice("bruno") == french
    assert tracker.notice("carl") is None
    assert tracker.notice("carl", locale="en-US") == english
    assert tracker.notice("anna", locale="de") is None
    (entry,) = tracker.get("/v1/users/bruno/status", locale="fr")["policies"]
    assert entry["notices"][0]["translation"] == french
    assert entry["translation"]["state"] == "stale"

    # the evidence names the language of each text accepted: the German source, the English
    bundle = evidence(store, tracker.settings, "anna", T0)
    assert [(v["version"], v["language"]) for v in bundle["versions"]] == [(1, "de")]
    assert [t["language"] for t in bundle["translations"]] == ["en"]
    assert '<pre lang="de">' in render_html(bundle, verify(bundle))


def test_the_hosted_page_shows_and_labels_the_language_asked_for(
    tracker: Tracker, repo: GitRepo
) -> None:
    second_german_version(repo)
    tracker.publish()
    texts = catalog(repo).translations["privacy"]
    source = catalog(repo).get("privacy").version(2)

    # English first: the English text of v2, labelled English, and the event bound to it
    path, page = tracker.page("dora", "en, de;q=0.5")
    shown = text_of(page.text)
    assert "We keep your data for 60 days" in shown and "Wir speichern" not in shown
    assert "This is the English text (English) of version 2" in shown
    assert '<html lang="en"' in page.text
    assert re.search(r'class="pt-document"[^>]*lang="en"', page.text)
    assert dict(read_form(page.text).fields)["text"] == texts["en"].versions[1].sha256
    tracker.answer(path, page, "en, de;q=0.5")
    (event,) = tracker.events("dora")
    assert (event["locale"], event["sha256"]) == ("en", source.sha256)
    assert event["translation"]["sha256"] == texts["en"].versions[1].sha256

    # German first: the German source, labelled German, no translation bound
    path, page = tracker.page("emil", "de-DE, en;q=0.5")
    shown = text_of(page.text)
    assert "Wir speichern Ihre Daten 60 Tage" in shown and "We keep" not in shown
    assert "This is the" not in shown
    assert '<html lang="de"' in page.text
    assert re.search(r'class="pt-document"[^>]*lang="de"', page.text)
    tracker.answer(path, page, "de-DE, en;q=0.5")
    (event,) = tracker.events("emil")
    assert (event["locale"], event["translation"]) == (None, None)

    # French first: its text is behind v2, so the (German) original is shown and said so
    _, page = tracker.page("fritz", "fr")
    shown = text_of(page.text)
    assert "The French text (Français) has not been updated to version 2 yet" in shown
    assert "Wir speichern Ihre Daten 60 Tage" in shown and '<html lang="de"' in page.text


def test_git_sync_stores_the_source_language(
    settings: Settings, store: Store, repo: GitRepo
) -> None:
    sync.sync(replace(settings, repository=repo.path), store)
    with store.read() as session:
        (stored,) = load_snapshot(session).policies
    assert stored.language == "de"
    assert sorted(load_translations_of(store)) == ["en", "fr"]


def load_translations_of(store: Store) -> list[str]:
    with store.read() as session:
        return [lang for by in load_snapshot(session).translations.values() for lang in by]


def _policies(api: Api) -> Any:
    return api.get("/v1/policies").json()["policies"]


@pytest.mark.parametrize(
    ("language", "detail"),
    [
        ("xx", "unknown language 'xx'; the tag must start with an ISO 639-1 code such as de"),
        ("de-", "must be a language tag such as en or pt-BR"),
        ("", "must not be empty"),
        (7, None),
    ],
)
def test_a_bad_source_language_is_refused_and_changes_nothing(
    api: Api, language: object, detail: str | None
) -> None:
    before = _policies(api)
    body = payload(policy("privacy", version(1, "major"), language=language))
    r = api.post("/v1/admin/versions", json=body)
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["field"] == "policies[0].language"
    assert "\n" not in problem["detail"]
    if detail is not None:
        assert detail in problem["detail"]
    assert _policies(api) == before


def test_a_translation_in_the_source_language_is_refused(api: Api) -> None:
    german = version(1, "major")
    body = payload(
        policy(
            "privacy",
            german,
            language="de",
            translations=[
                {
                    "language": "DE",
                    "title": "Datenschutz",
                    "versions": [{**german, "translates": 1}],
                }
            ],
        )
    )
    for key in ("significance", "summary"):
        del body["policies"][0]["translations"][0]["versions"][0][key]
    r = api.post("/v1/admin/versions", json=body)
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["field"] == "policies[0].translations[0].language"
    assert problem["detail"] == (
        "policies[0].translations[0].language: de is the language of policy privacy itself; "
        "a translation is in another language"
    )
    assert _policies(api) == []


def test_the_source_language_defaults_to_english_and_follows_the_repository(api: Api) -> None:
    r = api.post("/v1/admin/versions", json=payload(policy("privacy", version(1, "major"))))
    assert r.status_code == 201, r.text
    assert [p["language"] for p in _policies(api)] == ["en"]
    body = payload(policy("privacy", version(1, "major"), language="pt-br"))
    r = api.post("/v1/admin/versions", json=body)
    assert r.status_code == 200 and r.json()["policies_updated"] == ["privacy"], r.text
    assert [p["language"] for p in _policies(api)] == ["pt-BR"]


def test_policies_stored_before_the_migration_are_english(store: Store) -> None:
    migrations.downgrade(store.engine, "0010")
    with store.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO policies (slug, title, path, aliases, acceptance_required, "
                "notice_days, withdrawn, updated_at) VALUES ('privacy', 'Privacy', '', '[]', "
                ":yes, 0, :no, :at)"
            ),
            {"yes": True, "no": False, "at": T0},
        )
    migrations.upgrade(store.engine)
    with store.read() as session:
        (stored,) = load_snapshot(session).policies
    assert stored.language == "en"
