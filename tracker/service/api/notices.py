"""Notices: a user's notices, acknowledging one, and counts per version."""

from __future__ import annotations

from typing import Any

from tracker.answers.notices import notice_dict
from tracker.service import validate as v
from tracker.service.http import Call, Reply
from tracker.service.problems import FieldError
from tracker.store.notices import (
    NOTICE_STATES,
    acknowledge,
    notice_stats,
    user_notices,
)


def list_notices(call: Call) -> dict[str, Any]:
    """The user's pending notices, or ``?state=all|acknowledged|superseded|accepted``."""
    user = v.user_id(call.params["user_id"])
    state = call.query.get("state", "pending")
    if state not in NOTICE_STATES:
        raise FieldError("state", f"must be one of {', '.join(NOTICE_STATES)}")
    slug = call.query.get("policy")
    app = call.state
    with app.store.read() as session:
        snap = app.snapshots.get(session)
        policy = snap.policy(slug) if slug is not None else None
        rows = user_notices(session, user, state=state, policy_id=policy.id if policy else None)
    site = app.settings.site_url
    return {"user_id": user, "notices": [notice_dict(r, snap, site) for r in rows]}


def ack(call: Call) -> Reply:
    """Record that the app showed the notice; repeating it changes nothing (200)."""
    notice_id = call.params["notice_id"]
    assert isinstance(notice_id, int)
    app = call.state
    now = app.now()
    row, created = app.store.write(lambda s: acknowledge(s, notice_id, call.key.id, now))
    with app.store.read() as session:
        snap = app.snapshots.get(session)
    return Reply(notice_dict(row, snap, app.settings.site_url), 201 if created else 200)


def stats(call: Call) -> dict[str, Any]:
    """How many notices a version created, and how many are acknowledged or pending."""
    app = call.state
    number = call.params["n"]
    assert isinstance(number, int)
    with app.store.read() as session:
        snap = app.snapshots.get(session)
        policy = snap.policy(call.params["slug"])
        version = policy.version(number)
        counts = notice_stats(session, version.id)
    return {"policy": policy.slug, "version": version.number, **counts}
