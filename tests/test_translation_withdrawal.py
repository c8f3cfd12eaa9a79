"""A translation's day and its withdrawal.

* A translation's version takes effect on its publication day in the publisher's time zone
  (the ``timezone`` setting), by the same rule as a source version, not on the UTC day.
* A translation is withdrawn when its file is deleted, and with its source when the source
  is withdrawn: ``log`` says when and by which commit, ``check`` warns (or fails, for a
  required language or a file left behind by its source), the site keeps its pages with a
  banner but offers it nowhere (switcher, ``hreflang``, search), ``versions.json`` says so,
  and status in that language never points at it, nor does a notice's redline in that
  language (on SQLite and PostgreSQL).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import jsonschema
import pytest
from click.testing import CliRunner
from starlette.applications import Starlette

from tests.gitrepo import GitRepo, policy_source
from tests.publish.conftest import build_site, write_config
from tests.service.helpers import T0, translated_repo
from tracker import audit
from tracker.cli import cli
from tracker.history import read_catalog
from tracker.policy import Catalog
from tracker.publish import versions
from tracker.redline import suggest
from tracker.settings import Settings
from tracker.store import Store, load_snapshot, publish
from tracker.store.models import EventRow
from tracker.store.sealer import flush
from tracker.store.translations import publish_translations

EN = "## Data\n\nWe keep your data for 90 days.\n"
DE = "## Daten\n\nWir speichern Ihre Daten 90 Tage.\n"
FR = "## Données\n\nNous gardons vos données 90 jours.\n"


def run(repo: GitRepo, *args: str, **env: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--repo", str(repo.path), *args], env=env)
    return result.exit_code, result.stdout + result.stderr


# ---------------------------------------------------------------------------
# The publisher's day


@pytest.mark.parametrize(
    ("zone", "day"),
    [("Europe/Berlin", "2024-01-04"), ("America/New_York", "2024-01-03"), ("UTC", "2024-01-03")],
)
def test_a_translation_takes_effect_on_the_publishers_day(
    tmp_path: Path, zone: str, day: str
) -> None:
    repo = GitRepo(tmp_path / "repo")
    late = datetime(2024, 1, 2, 12, 0, tzinfo=UTC)
    repo.commit(
        "Add\n\nPolicy-Change: major",
        {"policy/privacy.md": policy_source("Privacy", EN)},
        date=late - timedelta(days=1),
    )
    # 23:30 UTC on 3 January: 4 January in Berlin, still 3 January (18:30) in New York
    at = datetime(2024, 1, 3, 23, 30, tzinfo=UTC)
    repo.commit(
        "Translate",
        {"policy/privacy.de.md": policy_source("Datenschutz", DE, translates=1)},
        date=at,
    )
    repo.commit(
        "Shorter\n\nPolicy-Change: patch",
        {"policy/privacy.md": policy_source("Privacy", EN.replace("90", "60"))},
        date=at,
    )
    catalog = read_catalog(repo.path, classify=suggest, zone=ZoneInfo(zone))
    german = catalog.translations["privacy"]["de"].versions[0]
    source_v2 = catalog.get("privacy").version(2)
    # the same commit time makes the same day for a source version and a translation
    assert german.effective.isoformat() == source_v2.effective.isoformat() == day
    code, out = run(repo, "log", "privacy", "--json", POLICY_TRACKER_TIMEZONE=zone)
    assert code == 0, out
    (row,) = json.loads(out)["translations"]
    assert row["versions"][0]["effective"] == day


# ---------------------------------------------------------------------------
# Withdrawn translations


def make_repository(path: Path) -> tuple[GitRepo, dict[str, str]]:
    """privacy v1 (German required) with de and fr; then the French file is deleted."""
    repo = GitRepo(path, start=T0 - timedelta(days=30))
    source = policy_source("Privacy", EN, translations_required="[de]")
    shas = {
        "v1": repo.commit("Add\n\nPolicy-Change: major", {"policy/privacy.md": source}),
        "translate": repo.commit(
            "Translate",
            {
                "policy/privacy.de.md": policy_source("Datenschutz", DE, translates=1),
                "policy/privacy.fr.md": policy_source("Confidentialité", FR, translates=1),
            },
        ),
        "drop-fr": repo.commit("Drop the French text", {"policy/privacy.fr.md": None}),
    }
    return repo, shas


def withdraw_source(repo: GitRepo, *, with_translation: bool) -> str:
    files: dict[str, str | bytes | None] = {"policy/privacy.md": None}
    if with_translation:
        files["policy/privacy.de.md"] = None
    return repo.commit("Withdraw the privacy policy", files)


def test_log_and_check_say_a_translation_is_withdrawn(tmp_path: Path) -> None:
    repo, shas = make_repository(tmp_path / "repo")
    code, out = run(repo, "check", "--json")
    assert code == 0, out
    (report,) = json.loads(out)
    assert (report["change"], report["language"], report["commit"]) == (
        "fr withdrawn",
        "fr",
        shas["drop-fr"],
    )
    assert report["warnings"] == [
        "the fr translation is withdrawn; its readers get the source text"
    ]
    code, out = run(repo, "log", "privacy", "--json")
    rows = {t["language"]: t for t in json.loads(out)["translations"]}
    assert (rows["fr"]["withdrawn"], rows["fr"]["withdrawn_by"]) == (True, shas["drop-fr"])
    assert rows["fr"]["withdrawn_on"] == (T0 - timedelta(days=27)).date().isoformat()
    assert (rows["de"]["withdrawn"], rows["de"]["withdrawn_on"], rows["de"]["state"]) == (
        False,
        None,
        "current",
    )
    code, out = run(repo, "log", "privacy")
    line = " ".join(out.split())
    assert (
        "translation fr (policy/privacy.fr.md): v1 translates v1, withdrawn on "
        f"{rows['fr']['withdrawn_on']} by commit {shas['drop-fr'][:12]}"
    ) in line
    assert "translation de (policy/privacy.de.md): v1 translates v1, current" in line

    # the required German text deleted alone fails the check
    repo.commit("Drop the German text", {"policy/privacy.de.md": None})
    code, out = run(repo, "check", "--json")
    assert code == 1
    (report,) = json.loads(out)
    assert report["problems"] == [
        "the required de translation is withdrawn; restore policy/privacy.de.md, "
        "or take de out of translations_required"
    ]
    repo.git("reset", "-q", "--hard", "HEAD~1")

    # the source withdrawn with its German file left behind: check fails, log says so
    left = withdraw_source(repo, with_translation=False)
    code, out = run(repo, "check", "--json")
    assert code == 1, out
    (report,) = json.loads(out)
    assert (report["change"], report["commit"]) == ("de withdrawn", left)
    assert report["problems"] == [
        "policy/privacy.de.md stays while privacy is withdrawn; delete it too "
        "(a translation of a withdrawn policy is withdrawn with it)"
    ]
    code, out = run(repo, "log", "privacy")
    day = repo.git("show", "-s", "--format=%cs", left)
    assert f"withdrawn on {day} by commit {left[:12]} with privacy" in " ".join(out.split())
    code, out = run(repo, "log", "privacy", "--json")
    rows = {t["language"]: t for t in json.loads(out)["translations"]}
    assert (rows["de"]["withdrawn"], rows["de"]["withdrawn_by"]) == (True, left)

    # deleted with its source: nothing to fix
    repo.git("reset", "-q", "--hard", "HEAD~1")
    both = withdraw_source(repo, with_translation=True)
    code, out = run(repo, "check", "--json")
    assert code == 0, out
    (report,) = json.loads(out)
    assert (report["change"], report["commit"], report["problems"], report["warnings"]) == (
        "de withdrawn",
        both,
        [],
        [],
    )


def test_the_site_keeps_a_withdrawn_translation_but_offers_it_nowhere(tmp_path: Path) -> None:
    repo, _ = make_repository(tmp_path / "repo")
    config = write_config(tmp_path / "config", repo.path, as_of=T0.date().isoformat())
    build_site(config, tmp_path / "site")
    site = tmp_path / "site"

    def page(address: str) -> str:
        return (site / address / "index.html").read_text(encoding="utf-8")

    english = page("privacy/")
    assert '<link rel="alternate" hreflang="de"' in english
    assert 'hreflang="fr"' not in english and "Français" not in english
    french = page("fr/privacy/")  # its address stays
    assert "This translation has been withdrawn" in french and "pt-banner--stale" not in french
    assert 'aria-label="Languages"' not in french and 'hreflang="' not in french
    assert "version 1 of the English text</a> (withdrawn)" in french
    assert "read the English text" in french
    german = page("de/privacy/")
    assert "This translation has been withdrawn" not in german and 'hreflang="fr"' not in german
    search = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    locations = {d["location"] for d in search["docs"]}
    assert any(loc.startswith("de/privacy/") for loc in locations)
    assert not any(loc.startswith("fr/privacy/") for loc in locations)
    document = json.loads((site / "versions.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(versions.schema()).validate(document)
    rows = {t["language"]: t for t in document["policies"][0]["translations"]}
    assert (rows["fr"]["withdrawn"], rows["de"]["withdrawn"]) == (True, False)
    assert rows["fr"]["withdrawn_at"] == (T0 - timedelta(days=27)).isoformat().replace(
        "+00:00", "Z"
    )
    assert rows["de"]["withdrawn_at"] is None

    withdraw_source(repo, with_translation=False)
    build_site(config, tmp_path / "site2")
    site = tmp_path / "site2"
    english = page("privacy/")
    assert "This policy has been withdrawn" in english and 'aria-label="Languages"' not in english
    german = page("de/privacy/")
    assert "This translation has been withdrawn" in german
    assert "the English text it translates was withdrawn too" in german


def sync(store: Store, catalog: Catalog) -> None:
    def write(session: Any) -> None:
        publish(session, list(catalog))
        publish_translations(session, catalog.translations, T0)

    store.write(write)


def test_status_never_points_at_a_withdrawn_translation(
    api: Any, app: Starlette, store: Store, settings: Settings, tmp_path: Path
) -> None:
    repo, _ = make_repository(tmp_path / "repo")
    sync(store, read_catalog(repo.path, classify=suggest))
    french = api.get("/v1/users/alice/status", params={"locale": "fr-FR"}).json()
    assert french["policies"][0]["translation"] is None  # the English text, not the French
    german = api.get("/v1/users/alice/status", params={"locale": "de"}).json()
    assert german["policies"][0]["translation"]["language"] == "de"
    # an acceptance in French after the French text was withdrawn is not bound to it
    body = {"user_id": "alice", "policy": "privacy", "version": 1, "locale": "fr"}
    assert api.post("/v1/acceptances", json=body).status_code == 201
    flush(store.engine)  # PostgreSQL seals events right after their commit
    with store.read() as session:
        snapshot = load_snapshot(session)
        (row,) = audit.export_rows(session, snapshot, settings, [EventRow.chain_seq.is_not(None)])
    assert (row["version"], row["translation_language"]) == (1, None)

    withdraw_source(repo, with_translation=False)
    sync(store, read_catalog(repo.path, classify=suggest))
    app.state.tracker.snapshots.clear()  # as a sync through the API does
    answer = api.get("/v1/users/alice/status", params={"locale": "de-DE"}).json()
    (entry,) = answer["policies"]
    assert entry["translation"] is None and entry["needs_acceptance"] is False


def test_a_notice_never_links_a_withdrawn_translations_redline(
    server: str, keys: dict[str, str], store: Store, tmp_path: Path
) -> None:
    """The French text translates v1 and v2 and has redline pages from one to the other;
    once its file is deleted a notice from v1 to v2 in French links none of them: the
    note says why and that the English redline is linked, as status offers no French text."""
    repo = translated_repo(tmp_path)  # privacy v1, its German and French texts
    sync(store, read_catalog(repo.path, classify=suggest))
    admin = {"Authorization": f"Bearer {keys['admin']}"}
    for user, locale in (("anna", "de"), ("bruno", "fr-FR")):
        body = {"user_id": user, "policy": "privacy", "version": 1, "locale": locale}
        assert httpx.post(f"{server}/v1/acceptances", json=body, headers=admin).status_code == 201
    repo.commit(
        "Shorter\n\nPolicy-Change: minor",
        {
            f"policy/privacy{suffix}.md": policy_source(title, text.replace("90", "60"), **meta)
            for suffix, title, text, meta in (
                ("", "Privacy", EN, {}),
                (".de", "Datenschutz", DE, {"translates": 2}),
                (".fr", "Confidentialité", FR, {"translates": 2}),
            )
        },
    )
    repo.commit("Drop the French text", {"policy/privacy.fr.md": None})
    sync(store, read_catalog(repo.path, classify=suggest))

    french = {
        "language": "fr",
        "redline_url": None,
        "note": "No French redline from version 1 to version 2: the French text was "
        "withdrawn; the English redline is linked (redline_url).",
    }
    german = {
        "language": "de",
        "redline_url": "http://127.0.0.1:8000/de/privacy/changes/1-2/",
        "note": None,
    }

    def notice(user: str, **params: str) -> Any:
        url = f"{server}/v1/users/{user}/notices"
        (found,) = httpx.get(url, params=params, headers=admin).json()["notices"]
        assert found["redline_url"] == "http://127.0.0.1:8000/privacy/changes/1-2/"
        return found["translation"]

    assert notice("anna") == german
    assert notice("bruno") == french  # the locale bruno accepted v1 in
    assert notice("anna", locale="fr") == french
    assert notice("bruno", locale="de-DE") == german
    for user, locale, expected in (("bruno", "fr", french), ("anna", "de", german)):
        url = f"{server}/v1/users/{user}/status"
        (entry,) = httpx.get(url, params={"locale": locale}, headers=admin).json()["policies"]
        assert entry["notices"][0]["translation"] == expected
        assert (entry["translation"] or {}).get("language") == (None if locale == "fr" else "de")
