"""Status: must this user (re-)accept? One user, or up to 10,000 in one set-based call."""

from __future__ import annotations

from typing import Any

import orjson

from tracker.answers.status import user_statuses
from tracker.contract import BatchStatusRequest
from tracker.service import validate as v
from tracker.service.http import Call, Reply
from tracker.service.localised import checked_locale, status_locale
from tracker.service.problems import FieldError
from tracker.store.events import user_events


def user_status(call: Call) -> Reply:
    """The user's status for every policy, or for ``?policy=slug``."""
    user = v.user_id(call.params["user_id"])
    slug = call.query.get("policy")
    state = call.state
    session = call.session
    snap = state.snapshot(session)
    policy = snap.policy(slug) if slug is not None else None
    site = state.settings.site_url
    asked = call.query.get("locale")
    today = state.today()
    locale = status_locale(snap, today, checked_locale(asked), site) if asked else None
    body = user_statuses(session, snap, [user], today, policy, site, locale)[0]
    return Reply(orjson.Fragment(body))


def batch_status(call: Call) -> Reply:
    """``{user_ids: [...], policy?}`` → the status of each user."""
    call.json()  # malformed JSON is a 400, before any field is looked at
    data = v.parse(BatchStatusRequest, call.raw)
    users, slug = v.none_reserved(data.user_ids), data.policy
    limit = call.state.settings.max_batch_users
    if len(users) > limit:
        raise FieldError("user_ids", f"has {len(users)} entries; the limit is {limit}")
    state = call.state
    session = call.session
    snap = state.snapshot(session)
    policy = snap.policy(slug) if slug is not None else None
    site = state.settings.site_url
    answers = user_statuses(session, snap, users, state.today(), policy, site)
    return Reply(orjson.Fragment(b'{"users":[' + b",".join(answers) + b"]}"))


def _decode_cursor(value: str | None) -> int:
    """Cursors are opaque to clients; today they are the last event id of the page."""
    if value is None:
        return 0
    if not value.isascii() or not value.isdigit() or len(value) > 18:
        raise FieldError("cursor", "is not a cursor this API returned")
    return int(value)


def _encode_cursor(after: int) -> str:
    return str(after)


def events(call: Call) -> dict[str, Any]:
    """The user's events, oldest first, a page at a time (``cursor``, ``limit`` ≤ 1000)."""
    user = v.user_id(call.params["user_id"])
    after = _decode_cursor(call.query.get("cursor"))
    raw_limit = call.query.get("limit", "100")
    if not (raw_limit.isascii() and raw_limit.isdigit()) or not 1 <= int(raw_limit) <= 1000:
        raise FieldError("limit", "must be a whole number from 1 to 1000")
    slug = call.query.get("policy")
    state = call.state
    session = call.session
    snap = state.snapshot(session)
    policy = snap.policy(slug) if slug is not None else None
    page, last = user_events(session, snap, user, after=after, limit=int(raw_limit), policy=policy)
    return {
        "user_id": user,
        "events": page,
        "next_cursor": _encode_cursor(last) if last is not None else None,
    }
