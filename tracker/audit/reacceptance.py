"""Forced re-acceptance: users who accepted a policy must accept it again."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.chain.canonical import PSEUDONYM_PREFIX, rfc3339
from tracker.errors import InvalidInput
from tracker.store import Snapshot, Store
from tracker.store.catalog import PolicyInfo, load_snapshot
from tracker.store.chain import (
    chain_record,
)
from tracker.store.events import NewEvent, record
from tracker.store.models import ConsentRow
from tracker.store.notices.fanout import not_erased


def reacceptance(
    store: Store,
    policy_slug: str,
    user_ids: Sequence[str] | None,
    reason: str,
    api_key_id: int | None,
    now: datetime,
    *,
    chunk: int = 500,
    by: str | None = None,
) -> dict[str, Any]:
    """Make the users (or every user who accepted the policy) need acceptance again.

    Each user gets a chained ``withdrawn`` event with method ``reacceptance`` (the status
    answer says ``withdrawn``, ``needs_acceptance: true``); one chained audit entry keeps
    the reason and how many users it covered (and ``by``, who asked, when given: the
    console names the person signed in).
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
                        ConsentRow.policy_id == policy.id,
                        ConsentRow.last_kind == "accepted",
                        not_erased(ConsentRow.user_id),
                    )
                )
            )
    # An erased user is asked for nothing again, even when named.
    user_ids = [u for u in user_ids if not u.startswith(PSEUDONYM_PREFIX)]
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
        if by is not None:
            entry["by"] = by
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
