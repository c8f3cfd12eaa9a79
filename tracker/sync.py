"""Bring a tracker up to date with the repository's versions.

``sync`` publishes them into the tracker's database (migrating it first, in ``prepare``);
``sync_to`` posts them to a running tracker's ``POST /v1/admin/versions``, for a CI job that
can reach the tracker but not its database.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

import httpx
from sqlalchemy.orm import Session

from tracker import migrations
from tracker.cache import Cache
from tracker.errors import Conflict, TrackerError
from tracker.policy import Catalog
from tracker.settings import Settings
from tracker.store import PublishResult, Store, publish
from tracker.store.translations import publish_translations


def read_versions(settings: Settings) -> Catalog:
    """The repository's published versions, as ``tracker.history`` reads them (no drafts)."""
    from tracker.history import read_catalog
    from tracker.redline.cached import cached_classifier

    classify = cached_classifier(Cache.for_repository(settings.repository))
    return read_catalog(
        settings.repository,
        source=settings.source,
        ref=settings.ref,
        drafts=False,
        classify=classify,
        zone=settings.zone,
    )


def sync(settings: Settings, store: Store) -> PublishResult:
    """Read versions from git (``tracker.history``) and upsert them, idempotently.

    A version stored with another SHA-256 is refused (``Conflict`` naming both hashes).
    """
    catalog = read_versions(settings)
    policies = list(catalog)

    def write(session: Session) -> PublishResult:
        result = publish(session, policies)
        result.translations = publish_translations(session, catalog.translations, datetime.now(UTC))
        return result

    return store.write(write)


def prepare(
    settings: Settings, *, sync_repository: bool = True
) -> tuple[Store, PublishResult | None]:
    """Create and migrate the database if needed, and sync from the repository."""
    store = Store.open(settings)
    try:
        migrations.upgrade(store.engine)
        result = sync(settings, store) if sync_repository else None
    except BaseException:
        store.dispose()
        raise
    return store, result


def publish_document(catalog: Catalog, as_of: date) -> dict[str, Any]:
    """The body of ``POST /v1/admin/versions``: the site's ``versions.json`` for ``as_of``
    (addresses relative to it) with each version's text, author and path added."""
    from tracker.publish import site, versions

    plan = site.plan(catalog, as_of, drafts=False, index_page="index.md")
    document = versions.build(plan, _address, site_url=None)
    by_number = {(p.slug, v.number): v for p in catalog for v in p.versions}
    for policy in document["policies"]:
        for entry in policy["versions"]:
            version = by_number[policy["slug"], entry["number"]]
            entry.update(text=version.text, author=version.author, path=version.path)
        translated = catalog.translations.get(policy["slug"], {})
        for translation in policy["translations"]:
            texts = translated[translation["language"]].versions
            for entry in translation["versions"]:
                version = texts[entry["number"] - 1]
                entry.update(text=version.text, author=version.author, path=version.path)
    return document


def _address(src_uri: str) -> str:
    """Where MkDocs (``use_directory_urls``) puts a page: ``privacy/v2.md`` → ``privacy/v2/``."""
    return src_uri.removesuffix(".md") + "/" if src_uri.endswith(".md") else src_uri


def sync_to(settings: Settings, url: str, key: str, *, as_of: date) -> dict[str, Any]:
    """Post the repository's versions to the tracker at ``url``; its ``PublishResult`` answer.

    Idempotent like ``sync``; every failure (unreachable, refused key, a changed version
    answered 409) is a ``TrackerError`` naming what the tracker said.
    """
    document = publish_document(read_versions(settings), as_of)
    endpoint = url.rstrip("/") + "/v1/admin/versions"
    try:
        response = httpx.post(
            endpoint,
            json=document,
            headers={"Authorization": f"Bearer {key}"},
            timeout=60,
        )
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise TrackerError(f"cannot reach {endpoint}: {exc}") from None
    if response.is_success:
        try:
            answer: dict[str, Any] = response.json()
        except ValueError:
            raise TrackerError(
                f"{endpoint} answered {response.status_code} without JSON: is it a tracker?"
            ) from None
        return answer
    detail = _problem_detail(response)
    if response.status_code == 409:
        raise Conflict(f"{endpoint} refused the versions: {detail}")
    raise TrackerError(f"{endpoint} answered {response.status_code}: {detail}")


def _problem_detail(response: httpx.Response) -> str:
    try:
        problem = response.json()
    except ValueError:
        problem = None
    if isinstance(problem, Mapping) and isinstance(problem.get("detail"), str):
        return " ".join(problem["detail"].split())
    return " ".join(response.text.split())[:200] or response.reason_phrase


def remote_summary(answer: Mapping[str, Any]) -> str:
    """One line, like ``PublishResult.summary``, from the JSON a tracker answered."""
    made = ", ".join(
        [f"{c['policy']} v{c['version']}" for c in answer.get("created", [])]
        + [
            f"{c['policy']} ({c['language']}) v{c['version']}"
            for c in answer.get("translations_created", [])
        ]
    )
    return f"{made or 'no new versions'}; {answer.get('unchanged', 0)} version(s) already stored"
