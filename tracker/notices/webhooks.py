"""Webhook endpoints (add, list, remove, rotate) and dead deliveries (list, replay)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, get_args

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tracker.contract.responses import DeliveryState
from tracker.errors import Conflict, InvalidInput, NotFound
from tracker.inputs import printable, row_id
from tracker.notices.signing import new_secret
from tracker.notices.urls import AllowList, check_url
from tracker.store.notices import EVENT_TYPES, DeliveryRow, EndpointRow, MessageRow

#: The states a delivery can be in, as the API's DeliveryState names them.
DELIVERY_STATES: tuple[str, ...] = get_args(DeliveryState)


@dataclass(frozen=True)
class EndpointInfo:
    id: int
    url: str
    description: str
    events: tuple[str, ...]
    enabled: bool
    disabled_reason: str | None
    created_at: datetime
    removed_at: datetime | None
    rotating_until: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "url": self.url,
            "description": self.description,
            "events": list(self.events),
            "enabled": self.enabled,
            "disabled_reason": self.disabled_reason,
            "created_at": self.created_at.isoformat(),
            "removed_at": self.removed_at.isoformat() if self.removed_at else None,
            "previous_secret_until": (
                self.rotating_until.isoformat() if self.rotating_until else None
            ),
        }


def _info(row: EndpointRow, now: datetime | None = None) -> EndpointInfo:
    until = row.previous_secret_until
    if until is not None and now is not None and until <= now:
        until = None
    return EndpointInfo(
        row.id,
        row.url,
        row.description,
        tuple(e for e in row.event_types.split(",") if e),
        row.enabled,
        row.disabled_reason,
        row.created_at,
        row.removed_at,
        until,
    )


def parse_events(value: str | list[str] | None) -> tuple[str, ...]:
    """Event types from a list or comma-separated string; every type when none is given."""
    if value is None:
        return EVENT_TYPES
    items = value.split(",") if isinstance(value, str) else value
    wanted = sorted({e.strip() for e in items if e.strip()})
    unknown = [e for e in wanted if e not in EVENT_TYPES]
    if unknown or not wanted:
        raise InvalidInput(
            f"events: unknown event type {', '.join(unknown)}; use {', '.join(EVENT_TYPES)}"
            if unknown
            else f"events: name at least one of {', '.join(EVENT_TYPES)}"
        )
    return tuple(wanted)


def add_endpoint(
    session: Session,
    url: str,
    events: tuple[str, ...],
    allowed: AllowList,
    now: datetime,
    description: str = "",
) -> tuple[str, EndpointInfo]:
    """Store an endpoint; returns its secret (shown once) and its record."""
    check_url(url, allowed)
    printable("description", description)
    secret = new_secret()
    row = EndpointRow(
        url=url,
        description=description,
        event_types=",".join(sorted(events)),
        secret=secret,
        enabled=True,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return secret, _info(row, now)


def list_endpoints(session: Session, now: datetime, *, removed: bool = False) -> list[EndpointInfo]:
    query = select(EndpointRow).order_by(EndpointRow.id)
    if not removed:
        query = query.where(EndpointRow.removed_at.is_(None))
    return [_info(r, now) for r in session.scalars(query)]


def _endpoint(session: Session, ident: int | str) -> EndpointRow:
    text = str(ident)
    key = row_id(text)
    row = session.get(EndpointRow, key, with_for_update=True) if key is not None else None
    if row is None or row.removed_at is not None:
        raise NotFound(f"no webhook endpoint {ident}", code="webhook_not_found")
    return row


def remove_endpoint(session: Session, ident: int | str, now: datetime) -> EndpointInfo:
    """Stop sending to an endpoint; its pending deliveries are cancelled."""
    row = _endpoint(session, ident)
    row.removed_at = now
    row.enabled = False
    row.disabled_reason = "removed"
    cancel_pending(session, row.id, "endpoint removed", now)
    session.flush()
    return _info(row, now)


def cancel_pending(session: Session, endpoint_id: int, reason: str, now: datetime) -> None:
    session.execute(
        update(DeliveryRow)
        .where(DeliveryRow.endpoint_id == endpoint_id, DeliveryRow.state == "pending")
        .values(state="cancelled", last_error=reason, finished_at=now, lease_token=None)
        .execution_options(synchronize_session=False)
    )


#: Longest a rotated-out secret may keep signing.
MAX_OVERLAP = timedelta(days=365)
_OVERLAP_RULE = f"overlap_hours: must be from 0 to {MAX_OVERLAP.days * 24} (a year)"


def rotation_overlap(hours: float) -> timedelta:
    """A rotation's overlap from hours, or an ``InvalidInput`` (negative, NaN, too long)."""
    try:
        overlap = timedelta(hours=hours)
    except (ValueError, OverflowError):
        raise InvalidInput(_OVERLAP_RULE) from None
    if not timedelta(0) <= overlap <= MAX_OVERLAP:
        raise InvalidInput(_OVERLAP_RULE)
    return overlap


def rotate_secret(
    session: Session, ident: int | str, overlap: timedelta, now: datetime
) -> tuple[str, EndpointInfo]:
    """A new secret (shown once); the current one keeps signing beside it for ``overlap``."""
    if not timedelta(0) <= overlap <= MAX_OVERLAP:
        raise InvalidInput(_OVERLAP_RULE)
    row = _endpoint(session, ident)
    row.previous_secret = row.secret
    row.previous_secret_until = now + overlap
    row.secret = new_secret()
    session.flush()
    return row.secret, _info(row, now)


# ---------------------------------------------------------------------------
# Deliveries


def delivery_dict(delivery: DeliveryRow, message: MessageRow) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "webhook_id": message.webhook_id,
        "event_type": message.event_type,
        "endpoint_id": delivery.endpoint_id,
        "state": delivery.state,
        "attempts": delivery.attempts,
        "next_attempt_at": (
            delivery.next_attempt_at.isoformat() if delivery.state == "pending" else None
        ),
        "last_status": delivery.last_status,
        "last_error": delivery.last_error,
        "created_at": delivery.created_at.isoformat(),
        "finished_at": delivery.finished_at.isoformat() if delivery.finished_at else None,
    }


def list_deliveries(
    session: Session, state: str, *, after: int = 0, limit: int = 100
) -> tuple[list[dict[str, Any]], int | None]:
    """Deliveries in ``state``, oldest first, a page at a time."""
    if state not in DELIVERY_STATES:
        raise InvalidInput(f"state: must be one of {', '.join(DELIVERY_STATES)}")
    rows = session.execute(
        select(DeliveryRow, MessageRow)
        .join(MessageRow, MessageRow.id == DeliveryRow.message_id)
        .where(DeliveryRow.state == state, DeliveryRow.id > after)
        .order_by(DeliveryRow.id)
        .limit(limit + 1)
    ).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return [delivery_dict(d, m) for d, m in rows], (rows[-1][0].id if more else None)


def replay(session: Session, delivery_id: int, now: datetime) -> dict[str, Any]:
    """Send a dead (or cancelled) delivery again, with a fresh schedule and the same id."""
    delivery = (
        session.get(DeliveryRow, delivery_id, with_for_update=True) if delivery_id < 2**63 else None
    )
    if delivery is None:
        raise NotFound(f"no delivery {delivery_id}", code="delivery_not_found")
    endpoint = session.get(EndpointRow, delivery.endpoint_id)
    assert endpoint is not None
    if delivery.state not in ("dead", "cancelled"):
        raise Conflict(
            f"delivery {delivery_id} is {delivery.state}; only dead or cancelled deliveries "
            "are replayed",
            code="delivery_not_dead",
        )
    if not endpoint.enabled or endpoint.removed_at is not None:
        raise Conflict(
            f"webhook endpoint {endpoint.id} is disabled ({endpoint.disabled_reason}); "
            "add it again to send to it",
            code="webhook_disabled",
        )
    delivery.state = "pending"
    delivery.attempts = 0
    delivery.next_attempt_at = now
    delivery.lease_token = None
    delivery.finished_at = None
    session.flush()
    message = session.get(MessageRow, delivery.message_id)
    assert message is not None
    return delivery_dict(delivery, message)
