"""What an admin does from the console: each a POST (signed in, from this site, with the
form's token), each chained in the audit log with who did it."""

from __future__ import annotations

from sqlalchemy.orm import Session
from starlette.responses import Response

from tracker import audit as ops
from tracker.console.auth import Ctx, audit
from tracker.console.pages import keys
from tracker.errors import InvalidInput, NotFound
from tracker.notices.webhooks import replay as replay_delivery
from tracker.store.keys import SCOPES, create_key, revoke_key

USER_IDS_MAX = 10_000


def reacceptance(ctx: Ctx) -> Response:
    """Every user who accepted the policy (or the ids given, one a line) must accept again."""
    slug = str(ctx.request.path_params["slug"])
    reason = ctx.form.get("reason", "")
    if not reason.strip() or len(reason) > 1000:
        raise InvalidInput("reason: say why users must accept again (1 to 1000 characters)")
    named = [u.strip() for u in ctx.form.get("user_ids", "").splitlines() if u.strip()]
    if len(named) > USER_IDS_MAX:
        raise InvalidInput(f"user ids: at most {USER_IDS_MAX:,} at a time")
    h = ctx.host
    result = ops.reacceptance(
        h.store, slug, named or None, reason.strip(), None, h.now(), by=ctx.who.who
    )
    h.snapshots.clear()
    back = f"/console/policies/{result['policy']}/versions/{ctx.request.path_params['n']}"
    return ctx.message(
        200,
        "Re-acceptance requested",
        f"{result['users']:,} users must accept {result['policy']} again "
        f"(audit record {result['sequence']}).",
        link=(back, "Back to the version"),
    )


def replay(ctx: Ctx) -> Response:
    text = str(ctx.request.path_params["delivery_id"])
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        raise NotFound(f"there is no delivery {text[:40]!r}")
    delivery_id = int(text)
    h = ctx.host
    now = h.now()

    def work(session: Session) -> int:
        replay_delivery(session, delivery_id, now)
        return audit(session, "replay", ctx.who.who, now, delivery_id=delivery_id)

    seq = h.store.write(work)
    return ctx.message(
        200,
        "Delivery queued again",
        f"Delivery {delivery_id} will be sent again shortly (audit record {seq}).",
        link=("/console/webhooks", "Back to webhooks"),
    )


def key_create(ctx: Ctx) -> Response:
    name = ctx.form.get("name", "")
    scopes = frozenset(s for s in SCOPES if ctx.form.get(f"scope_{s}") == "on")
    if not scopes:
        raise InvalidInput("scopes: choose at least one of " + ", ".join(SCOPES))
    h = ctx.host
    now = h.now()

    def work(session: Session) -> tuple[str, object]:
        key, info = create_key(session, name, scopes)
        audit(
            session,
            "key_created",
            ctx.who.who,
            now,
            key_id=info.id,
            name=info.name,
            scopes=sorted(scopes),
        )
        return key, info

    return keys(ctx, created=h.store.write(work))


def key_revoke(ctx: Ctx) -> Response:
    ident = str(ctx.request.path_params["key_id"])
    h = ctx.host
    now = h.now()

    def work(session: Session) -> str:
        info = revoke_key(session, ident)
        audit(session, "key_revoked", ctx.who.who, now, key_id=info.id, name=info.name)
        return info.name

    name = h.store.write(work)
    h.forget_keys()
    return ctx.message(
        200,
        "Key revoked",
        f"The key {name!r} no longer works.",
        link=("/console/keys", "Back to keys"),
    )
