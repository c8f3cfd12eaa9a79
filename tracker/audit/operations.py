"""What the audit commands and endpoints do: checkpoint, verify, export, evidence,
purge, erase and forced re-acceptance. Each is one function over a ``Store``."""

from __future__ import annotations

import heapq
import json
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Column, Table, Text, cast, delete, func, null, or_, select, update
from sqlalchemy.orm import Session

from tracker.audit import bundle
from tracker.audit.verify import verify_session
from tracker.chain.canonical import PSEUDONYM_PREFIX, rfc3339
from tracker.chain.checkpoint import Checkpoint, load_signing_key, sign
from tracker.chain.events import event_record
from tracker.chain.records import ChainRecord, Report
from tracker.errors import InvalidInput, NotFound, TrackerError
from tracker.settings import Settings
from tracker.store import Snapshot, Store
from tracker.store.audit_models import AuditRecordRow, CheckpointRow
from tracker.store.catalog import PolicyInfo, load_snapshot
from tracker.store.chain import (
    EVENT_COLUMNS,
    audit_record,
    chain_record,
    event_records,
    head,
    hold_head,
    other_records,
    stored_checkpoints,
    version_hashes,
)
from tracker.store.events import NewEvent, event_dict, record
from tracker.store.models import Base, ConsentRow, EventRow, IdempotencyRow, VersionRow
from tracker.store.notices import MessageRow, user_notices
from tracker.store.sealer import PASS_SIZE, flush, seal_pending


def trusted_key(settings: Settings) -> Ed25519PublicKey | None:
    """The public half of the configured signing key, if there is one."""
    if not settings.audit_signing_key.strip():
        return None
    return load_signing_key(settings.audit_signing_key).public_key()


def seal(store: Store) -> int:
    """Seal events left pending (a writer that died before its pass); how many."""
    shas: dict[int, str] = {}
    total = 0
    while True:
        n = store.write(lambda session: seal_pending(session.connection(), shas))
        total += n
        if n < PASS_SIZE:
            return total


def settle(store: Store) -> int:
    """Wait for this process's sealer, then seal anything still pending."""
    flush(store.engine)
    if store.dialect == "sqlite":
        return 0  # SQLite writers seal inline
    return seal(store)


def checkpoint(store: Store, settings: Settings, now: datetime) -> Checkpoint:
    """Seal pending events, sign the chain's head and keep the checkpoint in the database."""
    key = load_signing_key(settings.audit_signing_key)
    settle(store)
    with store.read() as session:
        seq, hash_ = head(session)
    if seq == 0:
        raise TrackerError("the audit log is empty: there is nothing to checkpoint yet")
    cp = sign(key, seq, hash_, now)

    def work(session: Session) -> None:
        session.add(
            CheckpointRow(
                sequence=cp.sequence,
                head_hash=cp.head_hash,
                time=cp.time,
                public_key=cp.public_key,
                signature=cp.signature,
            )
        )

    store.write(work)
    return cp


def verify(
    store: Store,
    settings: Settings,
    external: Sequence[Checkpoint] = (),
    trusted: Ed25519PublicKey | None = None,
) -> Report:
    """Verify the chain as stored (read only: events still unsealed are reported pending).

    Checkpoints are checked against ``trusted``, or else the configured signing key; with
    neither, none of them anchors the chain.
    """
    flush(store.engine)
    with store.read() as session:
        key = trusted if trusted is not None else trusted_key(settings)
        return verify_session(session, external, key)


# ---------------------------------------------------------------------------
# Export


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
    "context",
    "recorded_at",
    "prev_hash",
    "hash",
]


def _version_url(settings: Settings, slug: str | None, number: int | None) -> str | None:
    if slug is None or number is None:
        return None
    return f"{settings.site_url.rstrip('/')}/{slug}/v{number}/"


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
        yield {
            "sequence": rec.seq,
            "type": rec.data["kind"],
            "user_id": rec.personal["user_id"],
            "policy": slug,
            "version": number,
            "sha256": rec.data["version_sha256"],
            "url": _version_url(settings, slug, number),
            "method": rec.data["method"],
            "api_key_id": rec.data["api_key_id"],
            "ip": rec.personal["ip"],
            "user_agent": rec.personal["user_agent"],
            "locale": rec.data["locale"],
            "context": rec.personal["context"],
            "recorded_at": rec.data["recorded_at"],
            "prev_hash": rec.prev_hash,
            "hash": rec.hash,
        }


# ---------------------------------------------------------------------------
# Evidence bundle


def evidence(store: Store, settings: Settings, user_id: str, now: datetime) -> dict[str, Any]:
    """A self-contained evidence bundle for one user (see ``tracker.audit.bundle``)."""
    settle(store)
    with store.read() as session:
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
                    "title": v.title,
                    "published": rfc3339(v.published_at),
                    "effective": v.effective_on.isoformat(),
                    "sha256": v.sha256,
                    "url": _version_url(settings, policy.slug, v.number),
                    "text": v.text,
                }
            )
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
        notices=notices,
        checkpoint=cp,
        links=links,
        generated_at=now,
        site_url=settings.site_url,
    )


def _notices(
    session: Session, snapshot: Snapshot, settings: Settings, user_id: str
) -> list[dict[str, Any]]:
    return user_notices(session, snapshot, user_id, state="all", site_url=settings.site_url)


def _digests(session: Session, shas: dict[int, str], start: int, end: int) -> list[str]:
    found = event_records(session, shas, [EventRow.chain_seq >= start, EventRow.chain_seq <= end])
    others = other_records(session, [AuditRecordRow.seq >= start, AuditRecordRow.seq <= end])
    return [r.body_digest().hex() for r in heapq.merge(found, others, key=lambda r: r.seq)]


# ---------------------------------------------------------------------------
# Retention and erasure


@dataclass(frozen=True)
class PurgeResult:
    ip: int
    user_agent: int
    context: int
    #: Stored ``Idempotency-Key`` responses deleted (they repeat the event, personal data
    #: included, and only serve retries).
    idempotency: int = 0

    def to_dict(self) -> dict[str, int]:
        return {
            "ip": self.ip,
            "user_agent": self.user_agent,
            "context": self.context,
            "idempotency": self.idempotency,
        }

    def summary(self) -> str:
        return (
            f"purged {self.ip} IP address(es), {self.user_agent} user agent(s), "
            f"{self.context} context object(s), {self.idempotency} stored idempotent "
            "response(s)"
        )


def purge(store: Store, settings: Settings, now: datetime) -> PurgeResult:
    """Blank IP addresses, user agents and contexts past their retention, with their salts,
    and delete stored idempotent responses past theirs.

    One set-based statement per field; the commitments stay, so the chain still verifies.
    The chain's ``purge`` entry counts the blanked evidence; the stored responses are not
    evidence (they copy it), so deleting them alone adds no entry.
    """
    rules = [
        ("ip", EventRow.ip, EventRow.ip_salt, settings.retention_ip_days),
        (
            "user_agent",
            EventRow.user_agent,
            EventRow.user_agent_salt,
            settings.retention_user_agent_days,
        ),
        ("context", EventRow.context, EventRow.context_salt, settings.retention_context_days),
    ]

    def work(session: Session) -> PurgeResult:
        hold_head(session)
        counts: dict[str, int] = {}
        for name, value, salt, days in rules:
            if days <= 0:
                counts[name] = 0
                continue
            cutoff = now - timedelta(days=days)
            result = session.execute(
                update(EventRow)
                .where(EventRow.created_at < cutoff, or_(value.is_not(None), salt.is_not(None)))
                .values({value.key: null(), salt.key: None}),  # SQL NULL, not JSON null
                execution_options={"synchronize_session": False},
            )
            counts[name] = int(getattr(result, "rowcount", 0) or 0)
        if any(counts.values()):
            chain_record(session, "audit", {"action": "purge", **counts, "at": rfc3339(now)}, now)
        replays = 0
        if settings.retention_idempotency_days > 0:
            cutoff = now - timedelta(days=settings.retention_idempotency_days)
            result = session.execute(
                delete(IdempotencyRow).where(IdempotencyRow.created_at < cutoff),
                execution_options={"synchronize_session": False},
            )
            replays = int(getattr(result, "rowcount", 0) or 0)
        return PurgeResult(**counts, idempotency=replays)

    return store.write(work)


def _user_tables() -> list[Table]:
    """Every table with a ``user_id`` column (events, consents, notices, audit records…)."""
    return [t for t in Base.metadata.sorted_tables if isinstance(t.c.get("user_id"), Column)]


def erase(store: Store, user_id: str, now: datetime) -> dict[str, Any]:
    """Remove a user's personal data; their id becomes a pseudonym everywhere.

    Counts stay (the rows stay); the chain still verifies (commitments stay, salts go).
    The erasure is chained itself, naming the pseudonym and never the id.
    """
    pseudonym = PSEUDONYM_PREFIX + secrets.token_hex(12)

    def work(session: Session) -> dict[str, Any]:
        hold_head(session)
        events = session.execute(
            update(EventRow)
            .where(EventRow.user_id == user_id)
            .values(
                user_id=pseudonym,
                ip=None,
                user_agent=None,
                context=null(),
                user_id_salt=None,
                ip_salt=None,
                user_agent_salt=None,
                context_salt=None,
            ),
            execution_options={"synchronize_session": False},
        )
        n_events = int(getattr(events, "rowcount", 0) or 0)
        records = session.execute(
            update(AuditRecordRow)
            .where(AuditRecordRow.user_id == user_id)
            .values(user_id=pseudonym, user_id_salt=None),
            execution_options={"synchronize_session": False},
        )
        n_records = int(getattr(records, "rowcount", 0) or 0)
        other = 0
        for table in _user_tables():
            if table.name in {"events", "audit_records"}:
                continue
            result = session.execute(
                table.update().where(table.c.user_id == user_id).values(user_id=pseudonym)
            )
            other += int(getattr(result, "rowcount", 0) or 0)
        # Stored responses repeat the id with the event's personal data; they only serve
        # retries, so they go.
        other += _drop_replays(session, user_id)
        # Webhook messages name the user in their stored data (bodies are rendered from it
        # when sent, so a retry after erasure carries the pseudonym).
        other += _rewrite_outbox(session, user_id, pseudonym)
        if n_events + n_records + other == 0:
            raise NotFound(f"no data for user {user_id!r}", code="user_not_found")
        entry = {
            "action": "erasure",
            "pseudonym": pseudonym,
            "events": n_events,
            "records": n_records,
            "at": rfc3339(now),
        }
        chain_record(session, "audit", entry, now)
        return {"pseudonym": pseudonym, "events": n_events, "records": n_records + other}

    return store.write(work)


def _needles(user_id: str) -> set[str]:
    """How the id appears in stored JSON text (escaped or not, as the driver wrote it)."""
    return {json.dumps(user_id), json.dumps(user_id, ensure_ascii=False)}


def _drop_replays(session: Session, user_id: str) -> int:
    """Delete the stored idempotent responses whose data names the user; how many."""
    text = cast(IdempotencyRow.response, Text)
    found = session.scalars(
        select(IdempotencyRow).where(
            or_(*(text.contains(n, autoescape=True) for n in _needles(user_id)))
        )
    )
    n = 0
    for row in found:
        if _mentions(row.response, user_id):
            session.delete(row)
            n += 1
    session.flush()
    return n


def _rewrite_outbox(session: Session, user_id: str, pseudonym: str) -> int:
    """Replace the id in every outbox message whose data mentions it; how many."""
    text = cast(MessageRow.data, Text)
    needles = _needles(user_id)
    found = session.scalars(
        select(MessageRow).where(or_(*(text.contains(n, autoescape=True) for n in needles)))
    )
    n = 0
    for message in found:
        if _mentions(message.data, user_id):
            message.data = _replaced(message.data, user_id, pseudonym)
            n += 1
    session.flush()
    return n


def _replaced(value: Any, user_id: str, pseudonym: str) -> Any:
    if isinstance(value, str):
        return pseudonym if value == user_id else value
    if isinstance(value, dict):
        return {k: _replaced(v, user_id, pseudonym) for k, v in value.items()}
    if isinstance(value, list):
        return [_replaced(v, user_id, pseudonym) for v in value]
    return value


def _mentions(value: Any, user_id: str) -> bool:
    if isinstance(value, str):
        return value == user_id
    if isinstance(value, dict):
        return any(_mentions(v, user_id) for v in value.values())
    if isinstance(value, list):
        return any(_mentions(v, user_id) for v in value)
    return False


def reacceptance(
    store: Store,
    policy_slug: str,
    user_ids: Sequence[str] | None,
    reason: str,
    api_key_id: int | None,
    now: datetime,
    *,
    chunk: int = 500,
) -> dict[str, Any]:
    """Make the users (or every user who accepted the policy) need acceptance again.

    Each user gets a chained ``withdrawn`` event with method ``reacceptance`` (the status
    answer says ``withdrawn``, ``needs_acceptance: true``); one chained audit entry keeps
    the reason and how many users it covered.
    """
    if not reason.strip(" \t\n\r\f\v"):  # as the OpenAPI pattern says: ASCII whitespace
        raise InvalidInput("reason: is required")
    with store.read() as session:
        snapshot = load_snapshot(session)
        policy = snapshot.policy(policy_slug)
        if user_ids is None:
            user_ids = list(
                session.scalars(
                    select(ConsentRow.user_id).where(
                        ConsentRow.policy_id == policy.id, ConsentRow.last_kind == "accepted"
                    )
                )
            )
    forced = 0
    for start in range(0, len(user_ids), chunk):
        batch = user_ids[start : start + chunk]

        def force(session: Session, batch: Sequence[str] = batch) -> int:
            return _force(session, snapshot, policy, batch, api_key_id, now)

        forced += store.write(force)

    def note(session: Session) -> int:
        entry = {
            "action": "reacceptance",
            "policy_id": policy.id,
            "reason": reason,
            "users": forced,
            "at": rfc3339(now),
        }
        return chain_record(session, "audit", entry, now).seq

    seq = store.write(note)
    return {"policy": policy.slug, "users": forced, "reason": reason, "sequence": seq}


def _force(
    session: Session,
    snapshot: Snapshot,
    policy: PolicyInfo,
    user_ids: Sequence[str],
    api_key_id: int | None,
    now: datetime,
) -> int:
    n = 0
    for uid in user_ids:
        new = NewEvent(user_id=uid, kind="withdrawn", method="reacceptance", api_key_id=api_key_id)
        _, _, created = record(session, snapshot, policy, None, new, now)
        n += int(created)
    return n
