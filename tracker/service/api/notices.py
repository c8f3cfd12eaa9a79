"""Notices: a user's notices, acknowledging one, and counts per version."""

from __future__ import annotations

from typing import Any

from tracker.answers.notices import notice_dict, translated_redline
from tracker.service import validate as v
from tracker.service.http import Call, Reply
from tracker.service.localised import checked_locale
from tracker.service.problems import FieldError
from tracker.store.events import acceptance_locales
from tracker.store.notices import (
    NOTICE_STATES,
    acknowledge,
    notice_stats,
    user_notices,
)


def list_notices(call: Call) -> dict[str, Any]:
    """The user's pending notices, or ``?state=all|acknowledged|superseded|accepted``; each
    with its redline in the user's language when there is one to speak to them in
    (``?locale=``, else the locale they accepted the notice's ``from_version`` in)."""
    user = v.user_id(call.params["user_id"])
    state = call.query.get("state", "pending")
    if state not in NOTICE_STATES:
        raise FieldError("state", f"must be one of {', '.join(NOTICE_STATES)}")
    asked = call.query.get("locale")
    locale = checked_locale(asked) if asked else None
    slug = call.query.get("policy")
    app = call.state
    with app.store.read() as session:
        snap = app.snapshots.get(session)
        policy = snap.policy(slug) if slug is not None else None
        rows = user_notices(session, user, state=state, policy_id=policy.id if policy else None)
        accepted_in = acceptance_locales(session, user) if rows and locale is None else {}
    site = app.settings.site_url
    notices = []
    for row in rows:
        notice = notice_dict(row, snap, site)
        wanted = locale or accepted_in.get((row.policy_id, row.from_version_id))
        if wanted:
            span = (notice["from_version"], notice["to_version"])
            notice["translation"] = translated_redline(snap, row.policy_id, *span, wanted, site)
        notices.append(notice)
    return {"user_id": user, "notices": notices}


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
