"""A notice as the API answers it (plain data: ids resolved through the catalog snapshot),
from a ``NoticeRow`` or a row of the pending-notices lookup."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from tracker.store.catalog import Snapshot
from tracker.store.notices import SIGNIFICANT, NoticeRow
from tracker.store.status import utc


def redline_url(site_url: str, slug: str, old: int, new: int) -> str:
    """The site's redline page from version ``old`` to ``new`` (root-relative without a site)."""
    return f"{site_url.rstrip('/')}/{slug}/changes/{old}-{new}/"


def notice_state(row: NoticeRow) -> str:
    if row.acknowledged_at is not None:
        return "acknowledged"
    return row.closed_reason or "pending"


def notice_dict(row: NoticeRow, snapshot: Snapshot, site_url: str = "") -> dict[str, Any]:
    return _notice_dict(
        snapshot,
        site_url,
        (row.id, row.user_id, row.policy_id, row.from_version_id, row.to_version_id),
        row.significance,
        row.acceptance_required,
        notice_state(row),
        row.created_at,
        row.acknowledged_at,
        row.acknowledged_by,
    )


def _notice_dict(
    snapshot: Snapshot,
    site_url: str,
    ids: tuple[int, str, int, int, int],
    significance: str,
    acceptance_required: bool,
    state: str,
    created_at: datetime,
    acknowledged_at: datetime | None = None,
    acknowledged_by: int | None = None,
) -> dict[str, Any]:
    notice_id, user_id, policy_id, from_version_id, to_version_id = ids
    policy = snapshot.policy_by_id(policy_id)
    old = snapshot.version_by_id(from_version_id)
    new = snapshot.version_by_id(to_version_id)
    covered = [
        v
        for v in policy.versions
        if old.number < v.number <= new.number and v.significance in SIGNIFICANT and v.summary
    ]
    return {
        "id": notice_id,
        "user_id": user_id,
        "policy": policy.slug,
        "title": policy.title,
        "from_version": old.number,
        "to_version": new.number,
        "significance": significance,
        "summary": "; ".join(v.summary for v in covered),
        "effective": policy.takes_effect(new).isoformat(),
        "acceptance_required": acceptance_required,
        "redline_url": redline_url(site_url, policy.slug, old.number, new.number),
        "state": state,
        "created_at": created_at.isoformat(),
        "acknowledged_at": acknowledged_at.isoformat() if acknowledged_at else None,
        "acknowledged_by": acknowledged_by,
    }


def pending_dict(snapshot: Snapshot, site_url: str, row: Sequence[Any]) -> dict[str, Any]:
    """A pending notice from a row of ``pending_sql``'s columns."""
    nid, uid, pid, from_v, to_v, sig, required, created = row
    ids = (nid, uid, pid, from_v, to_v)
    return _notice_dict(snapshot, site_url, ids, sig, bool(required), "pending", utc(created))
