"""One user's evidence bundle: their records, the versions they saw, the links to a
checkpoint (the format is ``tracker.audit.bundle``)."""

from __future__ import annotations

import heapq
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.answers.notices import notice_dict
from tracker.audit import bundle
from tracker.audit.checkpoints import settle
from tracker.audit.export import translation_url, version_url
from tracker.chain.canonical import rfc3339
from tracker.chain.events import event_record
from tracker.chain.records import ChainRecord
from tracker.errors import NotFound
from tracker.settings import Settings
from tracker.store import Snapshot, Store, siteurl
from tracker.store.audit_models import AuditRecordRow
from tracker.store.catalog import load_snapshot
from tracker.store.chain import (
    EVENT_COLUMNS,
    audit_record,
    event_records,
    other_records,
    stored_checkpoints,
    version_hashes,
)
from tracker.store.events import event_dict
from tracker.store.models import EventRow, VersionRow
from tracker.store.notices import user_notices
from tracker.store.translations import TranslationInfo, translation_by_id, translation_texts


def evidence(store: Store, settings: Settings, user_id: str, now: datetime) -> dict[str, Any]:
    """A self-contained evidence bundle for one user (see ``tracker.audit.bundle``)."""
    settle(store)
    with store.read() as session:
        settings = siteurl.resolve(settings, session)
        snapshot = load_snapshot(session)
        shas = version_hashes(session)
        rows = session.execute(
            select(*EVENT_COLUMNS, EventRow.id)
            .where(EventRow.user_id == user_id, EventRow.chain_seq.is_not(None))
            .order_by(EventRow.chain_seq)
        ).all()
        pairs: list[tuple[ChainRecord, dict[str, Any]]] = []
        event_rows = session.scalars(
            select(EventRow).where(EventRow.user_id == user_id).order_by(EventRow.chain_seq)
        ).all()
        by_seq = {e.chain_seq: e for e in event_rows}
        for r in rows:
            rec = event_record(r, shas)
            pairs.append((rec, event_dict(by_seq[rec.seq], snapshot)))
        acks = session.scalars(
            select(AuditRecordRow)
            .where(AuditRecordRow.user_id == user_id)
            .order_by(AuditRecordRow.seq)
        ).all()
        for a in acks:
            pairs.append((audit_record(a), {"type": a.type, **a.data}))
        if not pairs:
            raise NotFound(f"no events for user {user_id!r}", code="user_not_found")
        pairs.sort(key=lambda p: p[0].seq)
        version_ids = {p[0].data.get("version_id") for p in pairs} - {None}
        versions = []
        for v in session.scalars(select(VersionRow).where(VersionRow.id.in_(version_ids))):
            policy = snapshot.by_id[v.policy_id]
            versions.append(
                {
                    "policy": policy.slug,
                    "version": v.number,
                    "language": policy.language,
                    "title": v.title,
                    "published": rfc3339(v.published_at),
                    "effective": v.effective_on.isoformat(),
                    "sha256": v.sha256,
                    "url": version_url(settings, policy.slug, v.number),
                    "text": v.text,
                }
            )
        translated = _translations(session, snapshot, settings, pairs, versions)
        notices = _notices(session, snapshot, settings, user_id)
        checkpoints = stored_checkpoints(session)
        cp = max(checkpoints, key=lambda c: c.sequence) if checkpoints else None
        links = None
        first = pairs[0][0]
        if cp is not None and first.seq <= cp.sequence:
            links = {
                "from": first.seq,
                "prev_hash": first.prev_hash,
                "digests": _digests(session, shas, first.seq, cp.sequence),
            }
    return bundle.build(
        user_id=user_id,
        records=pairs,
        versions=versions,
        translations=translated,
        notices=notices,
        checkpoint=cp,
        links=links,
        generated_at=now,
        site_url=settings.site_url,
        store_ip=settings.store_ip,
    )


def _translations(
    session: Session,
    snapshot: Snapshot,
    settings: Settings,
    pairs: list[tuple[ChainRecord, dict[str, Any]]],
    versions: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """The exact translated texts the user accepted (an acceptance naming a ``locale``):
    each with its SHA-256, the source version it translates and the records it answers."""
    found: dict[int, tuple[TranslationInfo, list[int]]] = {}
    for record, _ in pairs:
        if record.type != "event":
            continue
        info = translation_by_id(
            snapshot.translations,
            record.data["policy_id"],
            record.data.get("translation_version_id"),
        )
        if info is not None:
            found.setdefault(info.id, (info, []))[1].append(record.seq)
    texts = translation_texts(session, set(found))
    shas = {(v["policy"], v["version"]): v["sha256"] for v in versions}
    out = []
    for tid, (info, seqs) in sorted(found.items()):
        slug = snapshot.by_id[info.policy_id].slug
        out.append(
            {
                "policy": slug,
                "language": info.language,
                "number": info.number,
                "title": info.title,
                "published": rfc3339(info.published_at),
                "translates": info.translates,
                "source_sha256": shas.get((slug, info.translates)),
                "sha256": info.sha256,
                "url": translation_url(settings, info.language, slug, info.number),
                "records": seqs,
                "text": texts[tid],
            }
        )
    return out


def _notices(
    session: Session, snapshot: Snapshot, settings: Settings, user_id: str
) -> list[dict[str, Any]]:
    rows = user_notices(session, user_id, state="all")
    return [notice_dict(r, snapshot, settings.site_url) for r in rows]


def _digests(session: Session, shas: dict[int, str], start: int, end: int) -> list[str]:
    found = event_records(session, shas, [EventRow.chain_seq >= start, EventRow.chain_seq <= end])
    others = other_records(session, [AuditRecordRow.seq >= start, AuditRecordRow.seq <= end])
    return [r.body_digest().hex() for r in heapq.merge(found, others, key=lambda r: r.seq)]
