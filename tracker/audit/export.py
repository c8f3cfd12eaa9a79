"""The audit export: every chained event in chain order, with its version's hash and URL."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.answers import notices
from tracker.chain.events import event_record
from tracker.settings import Settings
from tracker.store import Snapshot, siteurl
from tracker.store.chain import (
    EVENT_COLUMNS,
    version_hashes,
)
from tracker.store.models import EventRow
from tracker.store.translations import translation_by_id

EXPORT_FIELDS = [
    "sequence",
    "type",
    "user_id",
    "policy",
    "version",
    "sha256",
    "url",
    "method",
    "api_key_id",
    "ip",
    "user_agent",
    "locale",
    "translation_language",
    "translation_version",
    "translation_sha256",
    "context",
    "recorded_at",
    "prev_hash",
    "hash",
]


def export_lines(rows: Iterable[dict[str, Any]], fmt: str) -> Iterator[str]:
    """The export as text, one string a line: ``jsonl`` (a JSON object a row) or ``csv`` (a
    header line, then a row a line with ``context`` as JSON), for the command and the API."""
    if fmt != "csv":
        for row in rows:
            yield json.dumps(row, ensure_ascii=False) + "\n"
        return
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, EXPORT_FIELDS)
    writer.writeheader()
    for row in rows:
        yield _taken(buffer)
        writer.writerow({**row, "context": json.dumps(row["context"]) if row["context"] else ""})
    yield _taken(buffer)


def _taken(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def version_url(settings: Settings, slug: str | None, number: int | None) -> str | None:
    if slug is None or number is None:
        return None
    return f"{settings.site_url.rstrip('/')}/{slug}/v{number}/"


def translation_url(settings: Settings, language: str, slug: str, number: int) -> str:
    return notices.translation_url(settings.site_url, language, slug, number)


def export_count(session: Session, where: Sequence[Any]) -> int:
    return int(session.scalar(select(func.count()).select_from(EventRow).where(*where)) or 0)


def export_filters(
    snapshot: Snapshot, policy: str | None, since: datetime | None, user_id: str | None
) -> list[Any]:
    where: list[Any] = [EventRow.chain_seq.is_not(None)]
    if policy:
        where.append(EventRow.policy_id == snapshot.policy(policy).id)
    if since is not None:
        where.append(EventRow.created_at >= since)
    if user_id:
        where.append(EventRow.user_id == user_id)
    return where


def export_rows(
    session: Session, snapshot: Snapshot, settings: Settings, where: Sequence[Any]
) -> Iterator[dict[str, Any]]:
    """Events in chain order with the version's SHA-256, its site URL and the chain fields."""
    settings = siteurl.resolve(settings, session)
    shas = version_hashes(session)
    query = (
        select(*EVENT_COLUMNS)
        .where(*where)
        .order_by(EventRow.chain_seq)
        .execution_options(yield_per=5000)
    )
    for r in session.execute(query):
        rec = event_record(r, shas)
        policy = snapshot.by_id.get(rec.data["policy_id"])
        version = snapshot.versions.get(rec.data["version_id"] or -1)
        slug = policy.slug if policy else None
        number = version.number if version else None
        # The text in the event's language it is bound to: which one and its SHA-256 are
        # in the chain record (None for events without one).
        translated = translation_by_id(
            snapshot.translations,
            rec.data["policy_id"],
            rec.data.get("translation_version_id"),
        )
        yield {
            "sequence": rec.seq,
            "type": rec.data["kind"],
            "user_id": rec.personal["user_id"],
            "policy": slug,
            "version": number,
            "sha256": rec.data["version_sha256"],
            "url": version_url(settings, slug, number),
            "method": rec.data["method"],
            "api_key_id": rec.data["api_key_id"],
            "ip": rec.personal["ip"],
            "user_agent": rec.personal["user_agent"],
            "locale": rec.data["locale"],
            # the text in the acceptance's language, bound to the source version above
            "translation_language": translated.language if translated else None,
            "translation_version": translated.number if translated else None,
            "translation_sha256": rec.data.get("translation_sha256"),
            "context": rec.personal["context"],
            "recorded_at": rec.data["recorded_at"],
            "prev_hash": rec.prev_hash,
            "hash": rec.hash,
        }
