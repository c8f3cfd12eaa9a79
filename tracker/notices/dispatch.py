"""The dispatcher: claims due deliveries with a lease, POSTs them signed, records the outcome.

Any number of dispatchers may share one database. A claim (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL; ``BEGIN IMMEDIATE`` on SQLite) gives a batch of due deliveries a fresh lease
token and moves their ``next_attempt_at`` to the end of the lease, so that a dispatcher
killed mid-batch only delays them until the lease runs out. Every write after the POST is
fenced by the token and the lease's end: a dispatcher that wakes after its lease expired
changes nothing. Delivery is therefore at least once; a retry carries the same
``webhook-id`` and body.

Outcomes: 2xx delivered; 410 Gone disables the endpoint (its pending deliveries are
cancelled); anything else (3xx: redirects are not followed; 4xx; 5xx; timeouts; closed
connections) is retried after the next wait of ``webhook_retry_schedule`` with ±20% jitter,
or after ``Retry-After`` when the receiver sends one; after the last wait the delivery is
dead, listed by ``GET /v1/admin/deliveries?state=dead`` and replayable.
"""

from __future__ import annotations

import logging
import os
import random
import re
import secrets
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tracker.errors import TrackerError
from tracker.notices import payloads
from tracker.notices.signing import headers as signed_headers
from tracker.notices.urls import AllowList, check_destination
from tracker.notices.webhooks import cancel_pending
from tracker.settings import Settings
from tracker.store import SnapshotCache, Store
from tracker.store.notices import AttemptRow, DeliveryRow, EndpointRow, MessageRow

log = logging.getLogger("tracker.dispatch")

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
#: Longest wait a ``Retry-After`` may ask for.
MAX_RETRY_AFTER = timedelta(days=1)


def parse_schedule(spec: str) -> tuple[timedelta, ...]:
    """``"5s,1m,2h"`` → the waits before the 2nd, 3rd, … attempts."""
    waits = []
    for item in (p.strip() for p in spec.split(",")):
        match = re.fullmatch(r"(\d+(?:\.\d+)?)([smhd])", item)
        if not match:
            raise TrackerError(
                f"webhook_retry_schedule: {item!r} is not a wait such as 30s, 5m, 2h or 1d"
            )
        waits.append(timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)]))
    if not waits:
        raise TrackerError("webhook_retry_schedule: name at least one wait")
    return tuple(waits)


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Claim:
    delivery_id: int
    token: str
    attempt: int
    lease_until: datetime
    endpoint_id: int
    url: str
    secrets: tuple[str, ...]
    webhook_id: str
    body: bytes


@dataclass(frozen=True)
class Outcome:
    claim: Claim
    started_at: datetime
    duration_ms: int
    status: int | None = None
    error: str | None = None
    retry_after: timedelta | None = None
    sent: bool = True

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def _retry_after(value: str | None, now: datetime) -> timedelta | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        wait = timedelta(seconds=int(value))
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        wait = when - now
    return min(max(wait, timedelta(0)), MAX_RETRY_AFTER)


class Dispatcher:
    """One worker. ``clock`` decides schedules and leases (tests control it); ``wall`` is the
    real time that goes into ``webhook-timestamp`` (receivers compare it with theirs)."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = utcnow,
        wall: Callable[[], float] = time.time,
        client: httpx.Client | None = None,
        name: str | None = None,
        rng: random.Random | None = None,
    ):
        self.store = store
        self.settings = settings
        self.clock = clock
        self.wall = wall
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        self.schedule = parse_schedule(settings.webhook_retry_schedule)
        self.allowed = AllowList(settings.webhook_allowed_hosts)
        self.lease = timedelta(seconds=settings.webhook_lease_seconds)
        self.snapshots = SnapshotCache()
        self.rng = rng or random.Random()
        self._own_client = client is None
        self.client = client or httpx.Client(
            follow_redirects=False,
            headers={"user-agent": "policy-tracker-webhooks/1"},
            limits=httpx.Limits(max_keepalive_connections=20),
        )

    @property
    def max_attempts(self) -> int:
        return len(self.schedule) + 1

    def close(self) -> None:
        if self._own_client:
            self.client.close()

    # -- claiming ---------------------------------------------------------------------

    def claim(self, limit: int | None = None) -> list[Claim]:
        """Lease up to ``limit`` due deliveries and render their requests."""
        limit = limit or self.settings.dispatch_batch_size
        now = self.clock()
        until = now + self.lease
        token = secrets.token_hex(16)

        def work(session: Session) -> list[Claim]:
            ids = list(
                session.scalars(
                    select(DeliveryRow.id)
                    .where(DeliveryRow.state == "pending", DeliveryRow.next_attempt_at <= now)
                    .order_by(DeliveryRow.next_attempt_at, DeliveryRow.id)
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                )
            )
            if not ids:
                return []
            session.execute(
                update(DeliveryRow)
                .where(DeliveryRow.id.in_(ids))
                .values(
                    lease_token=token,
                    lease_expires_at=until,
                    next_attempt_at=until,
                    attempts=DeliveryRow.attempts + 1,
                )
                .execution_options(synchronize_session=False)
            )
            rows = session.execute(
                select(
                    DeliveryRow.id,
                    DeliveryRow.attempts,
                    EndpointRow.id,
                    EndpointRow.url,
                    EndpointRow.secret,
                    EndpointRow.previous_secret,
                    EndpointRow.previous_secret_until,
                    MessageRow.webhook_id,
                    MessageRow.event_type,
                    MessageRow.data,
                    MessageRow.created_at,
                )
                .join(EndpointRow, EndpointRow.id == DeliveryRow.endpoint_id)
                .join(MessageRow, MessageRow.id == DeliveryRow.message_id)
                .where(DeliveryRow.id.in_(ids))
                .order_by(DeliveryRow.id)
            ).all()
            snapshot = self.snapshots.get(session)
            bodies: dict[str, bytes] = {}
            claims = []
            for r in rows:
                did, attempts, eid, url, secret, old, old_until, wid, etype, data, created = r
                body = bodies.get(wid)
                if body is None:
                    body = payloads.render(
                        session, snapshot, etype, data, created, self.settings.site_url
                    )
                    bodies[wid] = body
                keys = (secret,) + ((old,) if old and old_until and old_until > now else ())
                claims.append(Claim(did, token, attempts, until, eid, url, keys, wid, body))
            return claims

        return self.store.write(work)

    # -- sending ----------------------------------------------------------------------

    def attempt(self, claim: Claim) -> Outcome:
        """POST one claimed delivery (never after its lease would run out)."""
        started = self.clock()
        remaining = (claim.lease_until - started).total_seconds()
        timeout = min(self.settings.webhook_timeout, remaining - 1.0)
        if timeout <= 0:
            return Outcome(claim, started, 0, error="lease ran out before sending", sent=False)
        refused = check_destination(claim.url, self.allowed)
        if refused is not None:
            return Outcome(claim, started, 0, error=f"refused: {refused}")
        request_headers = signed_headers(
            claim.secrets, claim.webhook_id, int(self.wall()), claim.body
        )
        request_headers["content-type"] = "application/json"
        t0 = time.monotonic()
        try:
            response = self.client.post(
                claim.url, content=claim.body, headers=request_headers, timeout=timeout
            )
            response.close()
        except httpx.TimeoutException:
            return Outcome(claim, started, _ms(t0), error=f"timed out after {timeout:g}s")
        except httpx.HTTPError as exc:
            return Outcome(claim, started, _ms(t0), error=f"{type(exc).__name__}: {exc}")
        return Outcome(
            claim,
            started,
            _ms(t0),
            status=response.status_code,
            retry_after=_retry_after(response.headers.get("retry-after"), self.clock()),
            error=None if 200 <= response.status_code < 300 else _excerpt(response),
        )

    # -- recording --------------------------------------------------------------------

    def finish(self, outcomes: Sequence[Outcome]) -> int:
        """Record outcomes, fenced by lease token and lease end; returns how many held."""
        if not outcomes:
            return 0
        now = self.clock()

        def work(session: Session) -> int:
            applied = 0
            for o in outcomes:
                values = self._next_state(o, now)
                done = session.execute(
                    update(DeliveryRow)
                    .where(
                        DeliveryRow.id == o.claim.delivery_id,
                        DeliveryRow.lease_token == o.claim.token,
                        DeliveryRow.state == "pending",
                        DeliveryRow.lease_expires_at >= now,
                    )
                    .values(lease_token=None, lease_expires_at=None, **values)
                    .execution_options(synchronize_session=False)
                )
                if getattr(done, "rowcount", 0) != 1:
                    log.warning("delivery %s: lease lost; outcome dropped", o.claim.delivery_id)
                    continue
                applied += 1
                if not o.sent:
                    continue
                session.add(
                    AttemptRow(
                        delivery_id=o.claim.delivery_id,
                        attempt=o.claim.attempt,
                        started_at=o.started_at,
                        duration_ms=o.duration_ms,
                        status=o.status,
                        error=o.error,
                        worker=self.name[:100],
                    )
                )
                if o.status == 410:
                    self._disable(session, o.claim.endpoint_id, now)
            session.flush()
            return applied

        return self.store.write(work)

    def _next_state(self, o: Outcome, now: datetime) -> dict[str, object]:
        if not o.sent:  # give the claim back untouched
            return {"next_attempt_at": now, "attempts": DeliveryRow.attempts - 1}
        common: dict[str, object] = {"last_status": o.status, "last_error": o.error}
        if o.ok:
            return {**common, "state": "delivered", "finished_at": now}
        if o.status == 410:
            return {**common, "state": "dead", "finished_at": now}
        if o.claim.attempt >= self.max_attempts:
            return {**common, "state": "dead", "finished_at": now}
        wait = self.schedule[o.claim.attempt - 1] * self.rng.uniform(0.8, 1.2)
        if o.retry_after is not None:
            wait = o.retry_after
        return {**common, "next_attempt_at": now + wait}

    def _disable(self, session: Session, endpoint_id: int, now: datetime) -> None:
        session.execute(
            update(EndpointRow)
            .where(EndpointRow.id == endpoint_id)
            .values(enabled=False, disabled_reason="the receiver answered 410 Gone")
            .execution_options(synchronize_session=False)
        )
        cancel_pending(session, endpoint_id, "endpoint disabled: 410 Gone", now)

    # -- the loop ---------------------------------------------------------------------

    def run_once(self, limit: int | None = None) -> int:
        """Claim one batch, send it, record it; returns the number claimed."""
        claims = self.claim(limit)
        outcomes = [self.attempt(c) for c in claims]
        self.finish(outcomes)
        return len(claims)

    def run(self, stop: threading.Event | None = None, *, once: bool = False) -> int:
        """Dispatch until ``stop`` is set (or, with ``once``, until nothing is due)."""
        stop = stop or threading.Event()
        total = 0
        while not stop.is_set():
            claimed = self.run_once()
            total += claimed
            if claimed == 0:
                if once:
                    break
                stop.wait(self.settings.dispatch_poll_seconds)
        return total


def _ms(t0: float) -> int:
    return int((time.monotonic() - t0) * 1000)


def _excerpt(response: httpx.Response) -> str:
    try:
        text = response.text[:200]
    except Exception:  # an undecodable body says nothing more than the status
        text = ""
    return f"HTTP {response.status_code}" + (f": {text}" if text else "")
