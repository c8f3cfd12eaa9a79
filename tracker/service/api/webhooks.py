"""Admin: webhook endpoints (add, list, remove, rotate) and dead deliveries (list, replay)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from tracker.contract import WebhookRequest
from tracker.errors import InvalidInput
from tracker.notices.urls import AllowList
from tracker.notices.webhooks import (
    DELIVERY_STATES,
    add_endpoint,
    list_deliveries,
    list_endpoints,
    parse_events,
    remove_endpoint,
    replay,
    rotate_secret,
)
from tracker.service import validate as v
from tracker.service.http import Call, Reply
from tracker.service.problems import FieldError


def webhooks_list(call: Call) -> dict[str, Any]:
    now = call.state.now()
    with call.state.store.read() as session:
        return {"webhooks": [e.to_dict() for e in list_endpoints(session, now)]}


def webhooks_create(call: Call) -> Reply:
    """Subscribe a URL; the answer holds the signing secret, shown this once."""
    call.json()
    data = v.parse(WebhookRequest, call.raw)
    url, description = data.url, data.description
    try:
        events = parse_events(list(data.events) if data.events is not None else None)
    except InvalidInput as exc:
        raise FieldError("events", str(exc).removeprefix("events: ")) from None
    try:
        urlsplit(url)
    except ValueError:  # "https://[": urlsplit refuses it before any rule is checked
        raise FieldError("url", "must be an absolute https:// URL") from None
    allowed = AllowList(call.state.settings.webhook_allowed_hosts)
    now = call.state.now()
    try:
        secret, info = call.state.store.write(
            lambda s: add_endpoint(s, url, events, allowed, now, description)
        )
    except InvalidInput as exc:
        raise FieldError("url", str(exc).removeprefix("url: ")) from None
    return Reply({**info.to_dict(), "secret": secret}, 201)


def webhooks_delete(call: Call) -> dict[str, Any]:
    ident = str(call.params["webhook_id"])
    now = call.state.now()
    return call.state.store.write(lambda s: remove_endpoint(s, ident, now)).to_dict()


def webhooks_rotate(call: Call) -> Reply:
    """A new secret (shown once); the old one keeps signing for the configured overlap."""
    ident = str(call.params["webhook_id"])
    now = call.state.now()
    overlap = timedelta(hours=call.state.settings.webhook_rotation_overlap_hours)
    secret, info = call.state.store.write(lambda s: rotate_secret(s, ident, overlap, now))
    return Reply({**info.to_dict(), "secret": secret}, 200)


def _cursor(value: str | None) -> int:
    """Cursors are the last delivery id of the previous page, as the events API does."""
    if value is None:
        return 0
    if not (value.isascii() and value.isdigit()) or len(value) > 18:
        raise FieldError("cursor", "is not a cursor this API returned")
    return int(value)


def deliveries_list(call: Call) -> dict[str, Any]:
    """Deliveries in a state (default ``dead``), oldest first, cursor-paginated."""
    state = call.query.get("state", "dead")
    if state not in DELIVERY_STATES:
        raise FieldError("state", f"must be one of {', '.join(DELIVERY_STATES)}")
    raw_limit = call.query.get("limit", "100")
    if not (raw_limit.isascii() and raw_limit.isdigit()) or not 1 <= int(raw_limit) <= 1000:
        raise FieldError("limit", "must be a whole number from 1 to 1000")
    after = _cursor(call.query.get("cursor"))
    with call.state.store.read() as session:
        page, last = list_deliveries(session, state, after=after, limit=int(raw_limit))
    return {"deliveries": page, "next_cursor": str(last) if last else None}


def deliveries_replay(call: Call) -> dict[str, Any]:
    """Send a dead delivery again (same ``webhook-id``, a fresh retry schedule)."""
    delivery_id = call.params["delivery_id"]
    assert isinstance(delivery_id, int)
    now = call.state.now()
    return call.state.store.write(lambda s: replay(s, delivery_id, now))
