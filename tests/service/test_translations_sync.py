"""Translations through ``policy-tracker sync --to URL`` and ``POST /v1/admin/versions``: a
real tracker served over HTTP (uvicorn) on SQLite and PostgreSQL stores every version of
every translation as ``sync`` does (bound to its SHA-256 and to its source version), once;
status in the reader's language answers from them, a withdrawn translation is marked
withdrawn, and a bad translation is one 422 naming its field, with nothing stored."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from tests.gitrepo import GitRepo
from tests.translated import make_translated_repository
from tracker.cli import cli
from tracker.history import read_catalog
from tracker.policy import Catalog
from tracker.redline import suggest
from tracker.store import Store
from tracker.store.models import PolicyRow, VersionRow
from tracker.store.translations import TranslationVersionRow
from tracker.sync import publish_document


def sync_to(repo: GitRepo, server: str, key: str) -> Result:
    environ: dict[str, str | None] = {"POLICY_TRACKER_ADMIN_KEY": key}
    return CliRunner().invoke(cli, ["--repo", str(repo.path), "sync", "--to", server], env=environ)


def stored(store: Store) -> set[tuple[Any, ...]]:
    with store.read() as session:
        rows = session.execute(
            select(PolicyRow.slug, TranslationVersionRow, VersionRow.number)
            .join(TranslationVersionRow, TranslationVersionRow.policy_id == PolicyRow.id)
            .join(VersionRow, VersionRow.id == TranslationVersionRow.translates_version_id)
        )
        return {
            (
                slug,
                t.language,
                t.number,
                translates,
                t.commit,
                t.published_at,
                t.effective_on,
                t.title,
                t.path,
                t.text,
                t.sha256,
                t.withdrawn_at,
            )
            for slug, t, translates in rows
        }


def expected(catalog: Catalog) -> set[tuple[Any, ...]]:
    return {
        (
            slug,
            tag,
            v.number,
            v.translates,
            v.commit,
            v.published,
            v.effective,
            v.title,
            v.path,
            v.text,
            v.sha256,
            t.gaps[-1].withdrawn if t.withdrawn else None,
        )
        for slug, by_language in catalog.translations.items()
        for tag, t in by_language.items()
        for v in t.versions
    }


def status(server: str, key: str, locale: str) -> dict[str, Any]:
    answer = httpx.get(
        f"{server}/v1/users/alice/status",
        params={"locale": locale},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert answer.status_code == 200, answer.text
    translation: dict[str, Any] = answer.json()["policies"][0]["translation"]
    return translation


def test_sync_to_publishes_translations_like_sync(
    server: str, keys: dict[str, str], store: Store, tmp_path: Path
) -> None:
    repo = make_translated_repository(tmp_path / "repo")
    catalog = read_catalog(repo.path, classify=suggest, drafts=False)
    first = sync_to(repo, server, keys["admin"])
    assert first.exit_code == 0, first.output
    assert first.stdout == (
        f"synced to {server}: privacy v1, privacy v2, privacy v3, privacy (de) v1, "
        "privacy (de) v2, privacy (de) v3, privacy (fr) v1, privacy (pt-BR) v1, "
        "privacy (pt-BR) v2; 0 version(s) already stored\n"
    )
    assert stored(store) == expected(catalog), "the rows plain `sync` writes"
    again = sync_to(repo, server, keys["admin"])
    assert again.stdout == f"synced to {server}: no new versions; 3 version(s) already stored\n"
    assert len(stored(store)) == 6

    german = status(server, keys["read"], "de-DE")
    assert (german["language"], german["version"], german["translates"]) == ("de", 3, 3)
    assert german["sha256"] == catalog.translations["privacy"]["de"].versions[2].sha256
    assert (german["state"], german["current"]) == ("current", True)
    french = status(server, keys["read"], "fr")
    assert (french["state"], french["translates"]) == ("stale", 1)
    assert status(server, keys["read"], "pt")["language"] == "pt-BR"

    # the French text is withdrawn: synced as withdrawn, never pointed at
    repo.commit("Drop the French text", {"policy/privacy.fr.md": None})
    catalog = read_catalog(repo.path, classify=suggest, drafts=False)
    done = sync_to(repo, server, keys["admin"])
    assert done.exit_code == 0, done.output
    assert stored(store) == expected(catalog)
    (row,) = [r for r in stored(store) if r[1] == "fr"]
    assert row[-1] == catalog.translations["privacy"]["fr"].gaps[-1].withdrawn
    assert status(server, keys["read"], "fr") is None
    assert status(server, keys["read"], "de")["language"] == "de"


def _document(tmp_path: Path) -> dict[str, Any]:
    repo = make_translated_repository(tmp_path / "repo")
    catalog = read_catalog(repo.path, classify=suggest, drafts=False)
    return publish_document(catalog, datetime.now(UTC).date())


@pytest.mark.parametrize(
    ("change", "field", "detail"),
    [
        (
            lambda t: t["versions"][0].update(text="Anders."),
            "policies[0].translations[0].versions[0].sha256",
            "but the text given hashes to",
        ),
        (
            lambda t: t.update(language="xx"),
            "policies[0].translations[0].language",
            "unknown language 'xx'",
        ),
        (
            lambda t: t.update(language="de DE"),
            "policies[0].translations[0].language",
            "language tag",
        ),
        (
            lambda t: t["versions"][2].update(translates=1),
            "policies[0].translations[0].versions[2].translates",
            "never goes backwards",
        ),
        (
            lambda t: t.update(withdrawn=True, withdrawn_at=None),
            "policies[0].translations[0].withdrawn_at",
            "required when withdrawn",
        ),
    ],
)
def test_a_bad_translation_is_refused_and_nothing_is_stored(
    server: str,
    keys: dict[str, str],
    store: Store,
    tmp_path: Path,
    change: Any,
    field: str,
    detail: str,
) -> None:
    body = copy.deepcopy(_document(tmp_path))
    (german,) = [t for t in body["policies"][0]["translations"] if t["language"] == "de"]
    assert body["policies"][0]["translations"][0] is german
    change(german)
    answer = httpx.post(
        f"{server}/v1/admin/versions",
        json=body,
        headers={"Authorization": f"Bearer {keys['admin']}"},
    )
    assert answer.status_code == 422, answer.text
    problem = answer.json()
    assert problem["detail"].startswith(f"{field}: ") and detail in problem["detail"], problem
    assert stored(store) == set()
    with store.read() as session:
        assert session.scalars(select(VersionRow.id)).first() is None


def test_a_translation_of_an_unpublished_source_version_is_refused(
    server: str, keys: dict[str, str], store: Store, tmp_path: Path
) -> None:
    body = _document(tmp_path)
    policy = body["policies"][0]
    policy["versions"] = policy["versions"][:2]  # v3 left out, the German v3 translates it
    answer = httpx.post(
        f"{server}/v1/admin/versions",
        json=body,
        headers={"Authorization": f"Bearer {keys['admin']}"},
    )
    assert answer.status_code == 422, answer.text
    assert "translates v3, which privacy has not published" in answer.json()["detail"]
    assert stored(store) == set()
