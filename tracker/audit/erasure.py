"""Erasure: a user's id becomes a pseudonym everywhere, their personal data goes, and the
chain still verifies (commitments stay, salts go)."""

from __future__ import annotations

import json
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Table, Text, cast, null, or_, select, update
from sqlalchemy.orm import Session

from tracker.chain.canonical import PSEUDONYM_PREFIX, rfc3339
from tracker.errors import NotFound
from tracker.store import Store
from tracker.store.audit_models import AuditRecordRow
from tracker.store.chain import (
    chain_record,
    hold_head,
)
from tracker.store.models import Base, EventRow, IdempotencyRow
from tracker.store.notices import MessageRow


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

    result = store.write(work)
    store.scrub(erased_tables())  # the id's old copies out of the files (Store.scrub)
    return result


def erased_tables() -> list[str]:
    """The tables an erasure rewrites (docs/audit.md names them for ``VACUUM FULL``)."""
    touched = [t.name for t in _user_tables()] + ["idempotency_keys", "outbox_messages"]
    return sorted(set(touched))


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
