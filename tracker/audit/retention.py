"""Retention: blanking personal fields past their time, and stored responses past theirs."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, null, or_, update
from sqlalchemy.orm import Session

from tracker.chain.canonical import rfc3339
from tracker.settings import Settings
from tracker.store import Store
from tracker.store.chain import (
    chain_record,
    hold_head,
)
from tracker.store.models import EventRow, IdempotencyRow


@dataclass(frozen=True)
class PurgeResult:
    ip: int
    user_agent: int
    context: int
    #: Stored ``Idempotency-Key`` responses deleted (they repeat the event, personal data
    #: included, and only serve retries).
    idempotency: int = 0

    def to_dict(self) -> dict[str, int]:
        return asdict(self)

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

    result = store.write(work)
    if result.ip or result.user_agent or result.context or result.idempotency:
        store.scrub(["events", "idempotency_keys"])  # nothing blanked left in the files
    return result
