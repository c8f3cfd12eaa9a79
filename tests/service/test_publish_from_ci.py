"""Publishing from CI: a real site's versions.json plus texts is a publish body, and
``policy-tracker sync --to URL`` sends one to a running tracker over HTTP."""

from __future__ import annotations

import copy
import json
from datetime import date
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from tests.api import Api
from tests.gitrepo import GitRepo
from tests.publish.conftest import AS_OF, build_site, make_repository, write_config
from tests.servers import free_port
from tests.service.helpers import payload, policy, version
from tracker.cli import cli
from tracker.history import read_catalog
from tracker.policy import Catalog
from tracker.redline import suggest
from tracker.store import Store
from tracker.store.models import PolicyRow, VersionRow
from tracker.sync import publish_document


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> GitRepo:
    return make_repository(tmp_path_factory.mktemp("policies") / "repo")


@pytest.fixture(scope="module")
def catalog(repo: GitRepo) -> Catalog:
    return read_catalog(repo.path, classify=suggest, drafts=False)


@pytest.fixture(scope="module")
def site_versions(tmp_path_factory: pytest.TempPathFactory, repo: GitRepo) -> dict[str, Any]:
    """The versions.json of the site MkDocs builds from ``repo`` (as of 2024-01-20)."""
    folder = tmp_path_factory.mktemp("site")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("NO_MKDOCS_2_WARNING", "1")
        env.delenv("POLICY_TRACKER_AS_OF", raising=False)
        env.delenv("POLICY_TRACKER_DRAFTS", raising=False)
        build_site(write_config(folder / "config", repo.path), folder / "site")
    document: dict[str, Any] = json.loads((folder / "site" / "versions.json").read_text())
    return document


def with_texts(document: dict[str, Any], catalog: Catalog) -> dict[str, Any]:
    body = copy.deepcopy(document)
    for item in body["policies"]:
        for entry in item["versions"]:
            entry["text"] = catalog.get(item["slug"]).version(entry["number"]).text
    return body


def numbers(document: dict[str, Any]) -> set[tuple[str, int]]:
    return {(p["slug"], v["number"]) for p in document["policies"] for v in p["versions"]}


def test_the_sites_versions_json_plus_texts_publishes(
    api: Api, site_versions: dict[str, Any], catalog: Catalog
) -> None:
    body = with_texts(site_versions, catalog)
    first = api.post("/v1/admin/versions", json=body)
    assert first.status_code == 201, first.text
    created = {(c["policy"], c["version"]) for c in first.json()["created"]}
    assert created == numbers(site_versions) and ("privacy", 3) in created
    stored = api.get("/v1/policies/privacy/versions").json()["versions"]
    assert [v["sha256"] for v in stored] == [v.sha256 for v in catalog.get("privacy").versions]
    assert api.get("/v1/policies/cookie").json()["slug"] == "cookies", "aliases are read"

    again = api.post("/v1/admin/versions", json=body)
    assert again.status_code == 200, again.text
    assert again.json()["created"] == [] and again.json()["unchanged"] == len(created)


@pytest.mark.parametrize(
    "where,field",
    [
        ((), "polices"),
        (("policies", 0), "histroy_url"),
        (("policies", 0, "versions", 0), "sumary"),
    ],
)
def test_a_field_versions_json_does_not_have_is_still_422(
    api: Api,
    site_versions: dict[str, Any],
    catalog: Catalog,
    where: tuple[str | int, ...],
    field: str,
) -> None:
    body = with_texts(site_versions, catalog)
    target: Any = body
    for step in where:
        target = target[step]
    target[field] = "x"
    r = api.post("/v1/admin/versions", json=body)
    assert r.status_code == 422, r.text
    path = "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in where).lstrip(".")
    assert r.json()["field"] == (f"{path}.{field}" if path else field)
    assert "unknown field" in r.json()["detail"]


@pytest.mark.parametrize("given", [2, "1", None, True])
def test_another_format_is_refused(
    api: Api, site_versions: dict[str, Any], catalog: Catalog, given: object
) -> None:
    body = {**with_texts(site_versions, catalog), "format": given}
    r = api.post("/v1/admin/versions", json=body)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == "format" and "must be 1" in r.json()["detail"]


def test_the_publish_document_is_the_sites_versions_json_plus_texts(
    site_versions: dict[str, Any], catalog: Catalog
) -> None:
    built = publish_document(catalog, date.fromisoformat(AS_OF))
    for item in built["policies"]:
        for entry in item["versions"]:
            found = catalog.get(item["slug"]).version(entry["number"])
            assert entry.pop("text") == found.text
            assert entry.pop("author") == found.author != ""
            assert entry.pop("path") == found.path
    assert built == site_versions


# -- policy-tracker sync --to URL ----------------------------------------------------------


def sync_to(repo: GitRepo, *args: str, env: dict[str, str | None] | None = None) -> Result:
    environ: dict[str, str | None] = {"POLICY_TRACKER_ADMIN_KEY": None, **(env or {})}
    return CliRunner().invoke(cli, ["--repo", str(repo.path), "sync", "--to", *args], env=environ)


def one_line_error(result: Result) -> str:
    assert result.exit_code != 0, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def stored(store: Store) -> set[tuple[Any, ...]]:
    with store.read() as session:
        rows = session.execute(
            select(PolicyRow, VersionRow).join(VersionRow, VersionRow.policy_id == PolicyRow.id)
        )
        return {
            (
                p.slug,
                p.title,
                p.path,
                tuple(p.aliases),
                p.acceptance_required,
                p.notice_days,
                p.withdrawn,
                v.number,
                v.commit,
                v.published_at,
                v.effective_on,
                v.significance,
                v.significance_source,
                v.summary,
                v.title,
                v.author,
                v.path,
                v.text,
                v.sha256,
            )
            for p, v in rows
        }


def expected(catalog: Catalog) -> set[tuple[Any, ...]]:
    return {
        (
            p.slug,
            p.title,
            p.path,
            p.aliases,
            p.settings.acceptance_required,
            p.settings.notice_days,
            p.withdrawn,
            v.number,
            v.commit,
            v.published,
            v.effective,
            v.significance.value,
            v.significance_source.value,
            v.summary,
            v.title,
            v.author,
            v.path,
            v.text,
            v.sha256,
        )
        for p in catalog
        for v in p.versions
    }


def test_sync_to_publishes_over_http_and_is_idempotent(
    server: str, keys: dict[str, str], store: Store, repo: GitRepo, catalog: Catalog
) -> None:
    first = sync_to(repo, server, "--key", keys["admin"])
    assert first.exit_code == 0, first.output
    assert first.stdout.startswith(f"synced to {server}: ")
    assert "privacy v3" in first.stdout and "0 version(s) already stored" in first.stdout
    assert stored(store) == expected(catalog), "the same rows as plain `sync` writes"

    second = sync_to(repo, server, env={"POLICY_TRACKER_ADMIN_KEY": keys["admin"]})
    assert second.exit_code == 0, second.output
    count = len(expected(catalog))
    assert (
        second.stdout == f"synced to {server}: no new versions; {count} version(s) already stored\n"
    )


def test_sync_to_with_a_wrong_key_is_a_one_line_error(
    server: str, keys: dict[str, str], store: Store, repo: GitRepo
) -> None:
    for key in (keys["write"], "ptk_00000000_nope"):
        line = one_line_error(sync_to(repo, server, "--key", key))
        assert line.startswith("error: ") and f"{server}/v1/admin/versions answered 40" in line
    assert stored(store) == set()


def test_sync_to_without_a_key_is_a_one_line_error(server: str, repo: GitRepo) -> None:
    line = one_line_error(sync_to(repo, server))
    assert "--key" in line and "POLICY_TRACKER_ADMIN_KEY" in line


def test_sync_to_an_unreachable_tracker_is_a_one_line_error(repo: GitRepo) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    line = one_line_error(sync_to(repo, url, "--key", "ptk_00000000_x"))
    assert line.startswith(f"error: cannot reach {url}/v1/admin/versions")


def test_sync_to_a_tracker_holding_another_text_shows_the_conflict(
    server: str, keys: dict[str, str], repo: GitRepo
) -> None:
    admin = {"Authorization": f"Bearer {keys['admin']}"}
    other = payload(policy("privacy", version(1, "major", body="Something else.\n")))
    assert httpx.post(f"{server}/v1/admin/versions", json=other, headers=admin).status_code == 201
    line = one_line_error(sync_to(repo, server, "--key", keys["admin"]))
    assert "refused the versions" in line and "SHA-256" in line and "version 1" in line
