"""Recording acceptances, declines and withdrawals, with Idempotency-Key semantics."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tracker.service import validate as v
from tracker.service.http import Call, Reply
from tracker.service.idempotency import Idempotency, Outcome, reply
from tracker.service.problems import FieldError
from tracker.store.events import NewEvent, record
from tracker.store.models import Method
from tracker.store.status import policy_status

FIELDS = {"user_id", "policy", "version", "method", "ip", "user_agent", "locale", "context"}
METHODS = tuple(m.value for m in Method)


def accept(call: Call) -> Reply:
    """Record that a user accepted a version."""
    return _record(call, "accepted")


def decline(call: Call) -> Reply:
    """Record that a user declined a version (``version`` optional: the one in force)."""
    return _record(call, "declined")


def withdraw(call: Call) -> Reply:
    """Record that a user withdrew their acceptance (``version`` optional)."""
    return _record(call, "withdrawn")


def _record(call: Call, kind: str) -> Reply:
    body = call.json()
    data = v.obj(body, allowed=FIELDS)
    user = v.user_id(data.get("user_id")) if "user_id" in data else None
    if user is None:
        raise FieldError("user_id", "is required")
    slug = v.req_text(data, "policy", max_len=200)
    number = v.integer(data, "version", required=kind == "accepted")
    new = NewEvent(
        user_id=user,
        kind=kind,
        method=v.choice(data, "method", METHODS, default="api"),
        api_key_id=call.key.id,
        ip=v.ip(data),
        user_agent=v.text(data, "user_agent", required=False, max_len=1024, min_len=0) or None,
        locale=v.locale(data),
        context=v.context(data, call.state.settings.max_context_bytes),
    )
    idem = Idempotency.from_call(call, body)
    state = call.state
    now = state.now()

    def work(session: Session) -> Outcome:
        replayed = idem.replay(session)
        if replayed is not None:
            return replayed
        snapshot = state.snapshots.get(session)
        policy = snapshot.policy(slug)
        version = policy.version(number) if number is not None else None
        if version is None and kind == "declined":
            version = policy.current(state.today())
            if version is None:
                raise FieldError(
                    "version", f"is required: policy {policy.slug} has no version in force yet"
                )
        event, consent, created = record(session, snapshot, policy, version, new, now)
        result = {
            "event": event,
            "created": created,
            "status": policy_status(policy, consent, state.today(), snapshot),
        }
        return idem.remember(session, 201 if created else 200, result, now)

    return reply(state.store.write(work))
