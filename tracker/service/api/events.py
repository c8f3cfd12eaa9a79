"""Recording acceptances, declines and withdrawals, with Idempotency-Key semantics."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from tracker.answers.status import policy_status
from tracker.contract import EventRequest, EventRequestOptionalVersion
from tracker.errors import Forbidden, NotFound, StaleCatalog
from tracker.service import validate as v
from tracker.service.http import Call, Reply
from tracker.service.idempotency import Idempotency, Outcome, reply
from tracker.service.problems import FieldError
from tracker.store.catalog import Snapshot
from tracker.store.events import NewEvent, record


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
    # Before the types: a context nested deeper than a JSON parser's recursion limit.
    context = v.context(
        body.get("context") if isinstance(body, dict) else None,
        call.state.settings.max_context_bytes,
    )
    data: EventRequest | EventRequestOptionalVersion
    if kind == "accepted":
        data = v.parse(EventRequest, call.raw)
    else:
        data = v.parse(EventRequestOptionalVersion, call.raw)
    slug, number = data.policy, data.version
    idem = Idempotency.from_call(call, body)
    state = call.state
    now = state.now()
    at = _original_time(call, data, now) if isinstance(data, EventRequest) else None
    ip = v.ip(data.ip)  # checked even when not kept: a bad address is a bad request
    keep = state.settings.store_ip
    new = NewEvent(
        user_id=v.not_reserved(data.user_id),
        kind=kind,
        method=data.method,
        api_key_id=call.key.id,
        ip=ip if keep else None,
        user_agent=(data.user_agent or None) if keep else None,
        locale=data.locale,
        context=context,
        at=at,
    )

    # On SQLite the catalog's revision is read in the write transaction (under the write
    # lock, a quick read). On PostgreSQL the cached catalog is used, and the statement
    # that locks the consent reads the revision (``record``): when the catalog moved, or
    # the cached one lacks the policy or version asked for, the transaction is rolled
    # back and run again on the catalog read anew.
    fresh = state.store.dialect == "sqlite"

    def work(session: Session) -> Outcome:
        replayed = idem.replay(session)
        if replayed is not None:
            return replayed
        age = 0.0 if fresh else float("inf")
        return write(session, state.snapshots.get(session, max_age=age))

    def write(session: Session, snapshot: Snapshot) -> Outcome:
        policy = snapshot.policy(slug)
        version = policy.version(number) if number is not None else None
        if version is None and kind == "declined":
            version = policy.current(state.today())
            if version is None:
                raise FieldError(
                    "version", f"is required: policy {policy.slug} has no version in force yet"
                )
        event, consent, created = record(session, snapshot, policy, version, new, now)
        status = policy_status(policy, consent, state.today(), snapshot)
        kept = status["accepted_version"]
        result = {
            "event": event,
            "created": created,
            # An older version's acceptance is recorded but keeps the newer one standing.
            "kept_version": kept if kind == "accepted" and kept != number else None,
            "status": status,
        }
        return idem.remember(session, 201 if created else 200, result, now)

    try:
        return reply(state.store.write(work))
    except (StaleCatalog, NotFound, FieldError):
        if fresh:
            raise
    state.snapshots.expire()
    fresh = True
    return reply(state.store.write(work))


def _original_time(call: Call, data: EventRequest, now: datetime) -> datetime | None:
    """``accepted_at`` of an imported acceptance: only with method ``import``, only with an
    ``admin`` key, never in the future."""
    at = data.accepted_at
    if at is None:
        return None
    if data.method != "import":
        raise FieldError(
            "accepted_at", "is taken only with method import (an acceptance from another system)"
        )
    if "admin" not in call.key.scopes:
        raise Forbidden("an original accepted_at needs an API key with the 'admin' scope")
    if at > now:
        raise FieldError("accepted_at", "must not be in the future")
    return at.astimezone(UTC)
