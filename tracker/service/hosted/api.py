"""``POST /v1/acceptance-links``: a signed, short-lived, single-use link to the hosted page."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from tracker.contract import AcceptanceLinkRequest
from tracker.errors import Forbidden
from tracker.service import validate as v
from tracker.service.hosted import tokens
from tracker.service.hosted.secret import link_secret
from tracker.service.http import Call, Reply
from tracker.service.idempotency import Idempotency, Outcome, reply
from tracker.store.links import (
    create_link,
    key_app,
    normalise_return_url,
    return_url_allowed,
)


def _base_url(call: Call) -> str:
    public = call.state.settings.public_url
    return (public or str(call.request.base_url)).rstrip("/")


def create(call: Call) -> Reply:
    """Make a link for ``user_id`` that returns to ``return_url`` (on the key's allow-list)."""
    body = call.json()
    data = v.parse(AcceptanceLinkRequest, call.raw)
    user, slugs, return_url, locale = data.user_id, data.policies, data.return_url, data.locale
    v.not_reserved(user)
    idem = Idempotency.from_call(call, body)
    state = call.state
    secret = link_secret(call.request, state)
    base = _base_url(call)
    now = state.now()
    ttl = timedelta(seconds=state.settings.acceptance_link_seconds)

    def work(session: Session) -> Outcome:
        replayed = idem.replay(session)
        if replayed is not None:
            return replayed
        app = key_app(session, call.key.id)
        if app is None or not return_url_allowed(return_url, app.return_urls):
            raise Forbidden(
                f"return_url {return_url!r} is not on this API key's allow-list; add it with "
                "`policy-tracker keys app KEY --return-url URL` or "
                "PUT /v1/admin/keys/{key_id}/app",
                code="return_url_not_allowed",
            )
        canonical = None
        if slugs is not None:
            snapshot = state.snapshots.get(session)
            canonical = list(dict.fromkeys(snapshot.policy(s).slug for s in slugs))
        link = create_link(
            session,
            api_key_id=call.key.id,
            user_id=user,
            policies=canonical,
            return_url=normalise_return_url(return_url) or return_url,
            locale=locale,
            now=now,
            ttl=ttl,
        )
        # Stored for replays without its signature: the token is a bearer credential, and
        # the link id alone opens nothing (the reply signs it again, the same way).
        result = {"url": f"{base}/accept/{link.id}", "expires_at": link.expires_at.isoformat()}
        return idem.remember(session, 201, result, now)

    status, result, replayed = state.store.write(work)
    return reply((status, {**result, "url": _signed(result["url"], secret)}, replayed))


def _signed(url: str, secret: str) -> str:
    base, _, link_id = url.rpartition("/accept/")
    if "." in link_id:  # stored signed, before tokens were kept out of the store
        return url
    return f"{base}/accept/{tokens.sign(secret, link_id)}"
