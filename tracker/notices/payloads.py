"""Webhook bodies, rendered at send time from rows that never change.

Every body is ``{"type", "timestamp", "data"}`` (the Standard Webhooks shape) with keys
sorted and no spaces, so that each retry of a message sends the very same bytes. The JSON
schema of each event's body ships in ``tracker/notices/schemas/<type>.json``.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.answers.notices import redline_url, translation_url
from tracker.store.catalog import Snapshot
from tracker.store.notices import EVENT_TYPES, NoticeRow
from tracker.store.translations import translation_by_id


@cache
def schema(event_type: str) -> dict[str, Any]:
    """The JSON schema of the body of ``event_type`` messages."""
    if event_type not in EVENT_TYPES:
        raise KeyError(event_type)
    text = resources.files("tracker.notices").joinpath(f"schemas/{event_type}.json").read_text()
    loaded: dict[str, Any] = json.loads(text)
    return loaded


#: Event types whose bodies are rendered from the catalog snapshot.
NEEDS_CATALOG = frozenset(
    {"policy.version_published", "notice.created", "policy.translation_published"}
)


def _iso(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


def render(
    session: Session,
    snapshot: Snapshot | None,
    event_type: str,
    data: dict[str, Any],
    created_at: datetime,
    site_url: str,
) -> bytes:
    """The body of one message; ``snapshot`` may be None unless the type is NEEDS_CATALOG."""
    if event_type not in NEEDS_CATALOG:
        body = dict(data)
    elif snapshot is None:
        raise ValueError(f"{event_type} bodies are rendered from the catalog snapshot")
    elif event_type == "policy.version_published":
        body = _version_published(snapshot, data, site_url)
    elif event_type == "policy.translation_published":
        body = _translation_published(snapshot, data, site_url)
    else:
        body = _notice_created(session, snapshot, data, site_url)
    envelope = {"type": event_type, "timestamp": _iso(created_at), "data": body}
    return json.dumps(envelope, sort_keys=True, separators=(",", ":")).encode()


def _version_published(snapshot: Snapshot, data: dict[str, Any], site_url: str) -> dict[str, Any]:
    version = snapshot.versions[data["version_id"]]
    policy = snapshot.by_id[version.policy_id]
    base = site_url.rstrip("/")
    return {
        "policy": policy.slug,
        "title": version.title,
        "version": version.number,
        "significance": version.significance,
        "summary": version.summary,
        "published": _iso(version.published_at),
        "effective": version.effective_on.isoformat(),
        "sha256": version.sha256,
        "url": f"{base}/{policy.slug}/v{version.number}/",
        "redline_url": (
            redline_url(site_url, policy.slug, version.number - 1, version.number)
            if version.number > 1
            else None
        ),
        "notices_created": data.get("notices_created", 0),
    }


def _translation_published(
    snapshot: Snapshot, data: dict[str, Any], site_url: str
) -> dict[str, Any]:
    policy = snapshot.by_id[data["policy_id"]]
    info = translation_by_id(snapshot.translations, policy.id, data["translation_version_id"])
    if info is None:
        raise KeyError(data["translation_version_id"])
    source = policy.version(info.translates)
    return {
        "policy": policy.slug,
        "language": info.language,
        "title": info.title,
        "version": info.number,
        "translates": info.translates,
        "source_sha256": source.sha256,
        "sha256": info.sha256,
        "published": _iso(info.published_at),
        "url": translation_url(site_url, info.language, policy.slug, info.number),
    }


def _notice_created(
    session: Session, snapshot: Snapshot, data: dict[str, Any], site_url: str
) -> dict[str, Any]:
    new = snapshot.versions[data["version_id"]]
    old = snapshot.versions[data["from_version_id"]]
    policy = snapshot.by_id[new.policy_id]
    rows = session.execute(
        select(NoticeRow.user_id, NoticeRow.significance, NoticeRow.acceptance_required)
        .where(
            NoticeRow.to_version_id == new.id,
            NoticeRow.from_version_id == old.id,
            NoticeRow.id.between(data["first_notice_id"], data["last_notice_id"]),
        )
        .order_by(NoticeRow.id)
    ).all()
    covered = [
        v
        for v in policy.versions
        if old.number < v.number <= new.number and v.significance != "patch" and v.summary
    ]
    return {
        "policy": policy.slug,
        "version": new.number,
        "from_version": old.number,
        "significance": rows[0].significance if rows else new.significance,
        "acceptance_required": bool(rows[0].acceptance_required) if rows else False,
        "summary": "; ".join(v.summary for v in covered),
        "effective": new.effective_on.isoformat(),
        "redline_url": redline_url(site_url, policy.slug, old.number, new.number),
        "user_ids": [r.user_id for r in rows],
    }
