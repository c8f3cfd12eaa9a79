"""``versions.json``: every policy and version of the site, for apps and the tracker.

The format is described by ``versions.schema.json`` (shipped in this package, copied to
the site next to ``versions.json``) and documented in ``docs/versions-json.md``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from tracker.history.translations import withdrawal
from tracker.policy import Version, source_language
from tracker.publish import site
from tracker.publish.site import PolicyView, SitePlan

FORMAT_VERSION = 1
SCHEMA_NAME = "versions.schema.json"

Url = Callable[[str], str]


def schema_text() -> str:
    return resources.files("tracker.publish").joinpath(SCHEMA_NAME).read_text(encoding="utf-8")


def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(schema_text())
    return loaded


def build(plan: SitePlan, url: Url, *, site_url: str | None) -> dict[str, Any]:
    """The document; ``url(src_uri)`` gives a page's URL (absolute, or relative to the file)."""
    return {
        "$schema": url(SCHEMA_NAME),
        "format": FORMAT_VERSION,
        "site_url": site_url,
        "as_of": plan.as_of.isoformat(),
        "commit": plan.head,
        "policies": [
            {**_policy(v, url), "translations": _translations(plan, v, url)}
            for v in plan.views
            if v.policy.versions
        ],
    }


def _translations(plan: SitePlan, source: PolicyView, url: Url) -> list[dict[str, Any]]:
    """The policy's translations: where they are, what they translate, how current."""
    out = []
    for v in plan.translated:
        if v.source is None or v.source.slug != source.slug or v.freshness is None:
            continue
        state = v.freshness
        gone = withdrawal(v.policy)
        out.append(
            {
                "language": v.language,
                "title": v.title,
                "path": v.policy.path,
                "url": url(site.current_uri(v.slug)),
                "history_url": url(site.history_uri(v.slug)),
                "withdrawn": v.policy.withdrawn,
                "withdrawn_at": _instant(gone.withdrawn) if gone is not None else None,
                "state": state.state.value,
                "translates": state.translates,
                "since": state.since,
                "versions": [
                    {
                        "number": t.number,
                        "title": t.title,
                        "translates": t.translates,
                        "commit": t.commit,
                        "published": _instant(t.published),
                        "effective": t.effective.isoformat(),
                        "sha256": t.sha256,
                        "url": url(site.version_uri(v.slug, t.number)),
                    }
                    for t in v.policy.versions
                ],
            }
        )
    return out


def _instant(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _policy(v: PolicyView, url: Url) -> dict[str, Any]:
    settings = v.policy.settings
    return {
        "slug": v.slug,
        "title": v.title,
        "language": source_language(v.policy),
        "path": v.policy.path,
        "aliases": list(v.policy.aliases),
        "withdrawn": v.policy.withdrawn,
        "acceptance_required": settings.acceptance_required,
        "notice_days": settings.notice_days,
        "url": url(site.current_uri(v.slug)),
        "history_url": url(site.history_uri(v.slug)),
        "current_version": v.current.number if v.current else None,
        "latest_version": v.latest.number if v.latest else None,
        "upcoming_versions": [u.number for u in v.upcoming],
        "versions": [_version(v, version, url) for version in v.policy.versions],
        "redlines": [
            {"from": a, "to": b, "url": url(site.redline_uri(v.slug, a, b))}
            for a, b in v.redline_pairs()
        ],
    }


def _version(v: PolicyView, version: Version, url: Url) -> dict[str, Any]:
    n = version.number

    def redline_to(target: Version | None) -> str | None:
        if target is None or target.number <= n:
            return None
        return url(site.redline_uri(v.slug, n, target.number))

    previous = v.previous(version)
    by = v.overtaken_by(version)
    return {
        "number": n,
        "title": version.title,
        "status": v.status(version).value,
        "overtaken_by": by.number if by is not None else None,
        "commit": version.commit,
        "published": _instant(version.published),
        "effective": version.effective.isoformat(),
        "significance": version.significance.value,
        "significance_source": version.significance_source.value,
        "summary": version.summary,
        "sha256": version.sha256,
        "url": url(site.version_uri(v.slug, n)),
        "changes_from_previous_url": (
            url(site.redline_uri(v.slug, previous.number, n)) if previous else None
        ),
        "changes_to_current_url": redline_to(v.current),
        "changes_to_latest_url": redline_to(v.latest),
    }
