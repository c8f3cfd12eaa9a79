"""Building publish payloads and a controllable clock for service tests, and a policy with
translations synced into a store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.gitrepo import GitRepo, policy_source
from tracker.history import read_catalog
from tracker.policy import Catalog, normalise_text, sha256_text
from tracker.redline import suggest
from tracker.store import Store, publish
from tracker.store.translations import publish_translations

T0 = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


@dataclass
class Clock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, days: int) -> None:
        self.now += timedelta(days=days)


def version(
    number: int,
    significance: str = "minor",
    *,
    effective: date | None = None,
    published: datetime | None = None,
    body: str | None = None,
    title: str = "Privacy Policy",
    summary: str = "",
) -> dict[str, Any]:
    published = published or T0 - timedelta(days=100 - number)
    text = normalise_text(title, body if body is not None else f"Version {number} text.\n")
    return {
        "number": number,
        "commit": f"{number:040x}",
        "published": published.isoformat(),
        "effective": (effective or published.date()).isoformat(),
        "significance": significance,
        "summary": summary or f"v{number}",
        "title": title,
        "sha256": sha256_text(text),
        "text": text,
    }


def policy(slug: str, *versions: dict[str, Any], **settings: Any) -> dict[str, Any]:
    return {
        "slug": slug,
        "title": settings.pop("title", slug.title()),
        "versions": list(versions),
        **settings,
    }


def payload(*policies: dict[str, Any]) -> dict[str, Any]:
    return {"policies": list(policies)}


EN = "## Data\n\nWe keep your data for 90 days.\n"
DE = "## Daten\n\nWir speichern Ihre Daten 90 Tage.\n"
FR = "## Données\n\nNous gardons vos données 90 jours.\n"


def translated_repo(tmp_path: Path) -> GitRepo:
    """privacy v1 (major), then its de and fr translations."""
    repo = GitRepo(tmp_path / "repo", start=T0 - timedelta(days=30))
    repo.commit("Add\n\nPolicy-Change: major", {"policy/privacy.md": policy_source("Privacy", EN)})
    repo.commit(
        "Translate",
        {
            "policy/privacy.de.md": policy_source("Datenschutz", DE, translates=1),
            "policy/privacy.fr.md": policy_source("Confidentialité", FR, translates=1),
        },
    )
    return repo


def second_version(repo: GitRepo, significance: str) -> Catalog:
    """privacy v2 (60 days, not 90) with de updated and fr left behind; the catalog."""
    repo.commit(
        f"Shorter\n\nPolicy-Change: {significance}",
        {
            "policy/privacy.md": policy_source("Privacy", EN.replace("90", "60")),
            "policy/privacy.de.md": policy_source(
                "Datenschutz", DE.replace("90", "60"), translates=2
            ),
        },
    )
    return read_catalog(repo.path, classify=suggest)


def catalog_of(tmp_path: Path, significance: str = "minor") -> Catalog:
    """privacy v1 (de, fr translate it), v2 (de updated, fr left stale)."""
    return second_version(translated_repo(tmp_path), significance)


def sync(store: Store, catalog: Catalog) -> list[tuple[str, str, int]]:
    def write(session: Any) -> list[tuple[str, str, int]]:
        publish(session, list(catalog))
        return publish_translations(session, catalog.translations, T0)

    return store.write(write)
