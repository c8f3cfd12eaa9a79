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

Throughput: a dispatcher sends a batch ``dispatch_concurrency`` requests at a time over one
keep-alive client, claims the next batch while the current one is in flight, and records a
batch's outcomes in one fenced statement (``UPDATE … FROM (VALUES …)`` on PostgreSQL).
"""

from __future__ import annotations

import logging
import os
import random
import secrets
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import httpx
from sqlalchemy import (
    BigInteger,
    Boolean,
    Integer,
    String,
    Text,
    bindparam,
    case,
    column,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from tracker.notices import payloads
from tracker.notices.retries import failure, parse_schedule, retry_after
from tracker.notices.signing import headers as signed_headers
from tracker.notices.urls import AllowList, Destination, Resolver, destination
from tracker.notices.webhooks import cancel_pending
from tracker.settings import Settings
from tracker.store import Snapshot, SnapshotCache, Store, siteurl
from tracker.store.models import UTCDateTime
from tracker.store.notices import AttemptRow, DeliveryRow, EndpointRow, MessageRow
from tracker.timeline import utcnow

log = logging.getLogger("tracker.dispatch")


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
        resolver: Resolver | None = None,
    ):
        self.store = store
        self.settings = settings
        self.clock = clock
        self.wall = wall
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        self.schedule = parse_schedule(settings.webhook_retry_schedule)
        self.allowed = AllowList(settings.webhook_allowed_hosts)
        self.lease = timedelta(seconds=settings.webhook_lease_seconds)
        self.concurrency = max(1, settings.dispatch_concurrency)
        self.snapshots = SnapshotCache()
        self.rng = rng or random.Random()
        self.resolver = resolver
        self._own_client = client is None
        # Enough connections that no request waits for one (that wait would eat the lease).
        self.client = client or httpx.Client(
            follow_redirects=False,
            headers={"user-agent": "policy-tracker-webhooks/1"},
            limits=httpx.Limits(
                max_connections=max(100, self.concurrency),
                max_keepalive_connections=max(20, self.concurrency),
            ),
        )
        self._pool: ThreadPoolExecutor | None = None

    @property
    def max_attempts(self) -> int:
        return len(self.schedule) + 1

    def __enter__(self) -> Dispatcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
        if self._own_client:
            self.client.close()

    # -- claiming ---------------------------------------------------------------------

    def claim(self, limit: int | None = None) -> list[Claim]:
        """Lease up to ``limit`` due deliveries and render their requests."""
        limit = limit or self.settings.dispatch_batch_size
        now = self.clock()
        until = now + self.lease
        token = secrets.token_hex(16)
        due = (
            select(DeliveryRow.id)
            .where(DeliveryRow.state == "pending", DeliveryRow.next_attempt_at <= now)
            .order_by(DeliveryRow.next_attempt_at, DeliveryRow.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )

        def work(session: Session) -> list[Claim]:
            ids = list(
                session.scalars(
                    update(DeliveryRow)
                    .where(DeliveryRow.id.in_(due))
                    .values(
                        lease_token=token,
                        lease_expires_at=until,
                        next_attempt_at=until,
                        attempts=DeliveryRow.attempts + 1,
                    )
                    .returning(DeliveryRow.id)
                    .execution_options(synchronize_session=False)
                )
            )
            if not ids:
                return []
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
            snapshot: Snapshot | None = None
            site_url: str | None = None
            bodies: dict[str, bytes] = {}
            claims = []
            for r in rows:
                did, attempts, eid, url, secret, old, old_until, wid, etype, data, created = r
                body = bodies.get(wid)
                if body is None:
                    if snapshot is None and etype in payloads.NEEDS_CATALOG:
                        snapshot = self.snapshots.get(session)
                    if site_url is None:
                        site_url = siteurl.resolve(self.settings, session).site_url
                    body = payloads.render(session, snapshot, etype, data, created, site_url)
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
        target = destination(claim.url, self.allowed, self.resolver)
        if isinstance(target, str):
            return Outcome(claim, started, 0, error=f"refused: {target}")
        request_headers = signed_headers(
            claim.secrets, claim.webhook_id, int(self.wall()), claim.body
        )
        request_headers["content-type"] = "application/json"
        t0 = time.monotonic()
        try:
            response = self.client.send(self._request(claim, target, request_headers, timeout))
            response.close()
        except httpx.HTTPError as exc:
            return Outcome(claim, started, _ms(t0), error=failure(exc, timeout))
        return Outcome(
            claim,
            started,
            _ms(t0),
            status=response.status_code,
            retry_after=retry_after(response.headers.get("retry-after"), self.clock()),
            error=None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}",
        )

    def _request(
        self, claim: Claim, target: Destination, headers: dict[str, str], timeout: float
    ) -> httpx.Request:
        """A POST to the checked address: the URL's name goes in ``Host`` and, for https,
        in TLS SNI and the certificate check, so the connection never resolves it again."""
        url = httpx.URL(claim.url)
        headers["host"] = url.netloc.decode("ascii")
        request = self.client.build_request(
            "POST",
            url.copy_with(host=target.address),
            content=claim.body,
            headers=headers,
            timeout=timeout,
        )
        if url.scheme == "https":
            request.extensions["sni_hostname"] = target.host
        return request

    def send(self, claims: Sequence[Claim]) -> list[Future[Outcome]]:
        """Start sending ``claims``, ``dispatch_concurrency`` requests at a time."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="dispatch")
        return [self._pool.submit(self.attempt, c) for c in claims]

    # -- recording --------------------------------------------------------------------

    def finish(self, outcomes: Sequence[Outcome]) -> int:
        """Record outcomes, fenced by lease token and lease end; returns how many held."""
        if not outcomes:
            return 0
        now = self.clock()
        rows = [self._next_state(o, now) for o in outcomes]

        def work(session: Session) -> int:
            held = self._apply(session, rows, now)
            for o in outcomes:
                if o.claim.delivery_id not in held:
                    log.warning("delivery %s: lease lost; outcome dropped", o.claim.delivery_id)
            recorded = [o for o in outcomes if o.sent and o.claim.delivery_id in held]
            if recorded:
                session.execute(
                    insert(AttemptRow.metadata.tables[AttemptRow.__tablename__]),
                    [
                        {
                            "delivery_id": o.claim.delivery_id,
                            "attempt": o.claim.attempt,
                            "started_at": o.started_at,
                            "duration_ms": o.duration_ms,
                            "status": o.status,
                            "error": o.error,
                            "worker": self.name[:100],
                        }
                        for o in recorded
                    ],
                )
            for endpoint_id in sorted({o.claim.endpoint_id for o in recorded if o.status == 410}):
                self._disable(session, endpoint_id, now)
            return len(held)

        return self.store.write(work)

    def _next_state(self, o: Outcome, now: datetime) -> _Change:
        c = o.claim
        if not o.sent:  # give the claim back untouched
            return _Change(c.delivery_id, c.token, False, "pending", now, None, None, None)
        if o.ok or o.status == 410 or c.attempt >= self.max_attempts:
            state = "delivered" if o.ok else "dead"
            return _Change(c.delivery_id, c.token, True, state, None, now, o.status, o.error)
        wait = self.schedule[c.attempt - 1] * self.rng.uniform(0.8, 1.2)
        if o.retry_after is not None:
            # It may ask for a longer wait, never a shorter one: "Retry-After: 0" (or a date
            # a receiver's slow clock puts in the past) must not burn every attempt at once.
            wait = max(wait, o.retry_after)
        return _Change(c.delivery_id, c.token, True, "pending", now + wait, None, o.status, o.error)

    def _apply(self, session: Session, rows: Sequence[_Change], now: datetime) -> set[int]:
        """Write every row whose lease still holds; returns their ids."""
        fence = (
            DeliveryRow.state == "pending",
            DeliveryRow.lease_expires_at.is_not(None),
            DeliveryRow.lease_expires_at >= now,
        )
        if session.get_bind().dialect.name != "postgresql":
            # SQLite: one short statement per row in the same (local) transaction.
            held = set()
            for row in rows:
                done = session.execute(
                    update(DeliveryRow)
                    .where(DeliveryRow.id == row.id, DeliveryRow.lease_token == row.token, *fence)
                    .values(_changes(row))
                    .execution_options(synchronize_session=False)
                )
                if getattr(done, "rowcount", 0) == 1:
                    held.add(row.id)
            return held
        # One statement whose text never changes (compiled once): a column of arrays.
        o = (
            func.unnest(*(bindparam(f"o_{n}", type_=ARRAY(k)) for n, k in _COLUMNS))
            .table_valued(*(column(name, kind) for name, kind in _COLUMNS))
            .render_derived(name="outcome")
        )
        c = o.c
        changes = {
            "state": c.state,
            "next_attempt_at": func.coalesce(c.next_at, DeliveryRow.next_attempt_at),
            "finished_at": c.finished,
            "attempts": DeliveryRow.attempts - case((c.sent, 0), else_=1),
            "last_status": case((c.sent, c.status), else_=DeliveryRow.last_status),
            "last_error": case((c.sent, c.error), else_=DeliveryRow.last_error),
            "lease_token": None,
            "lease_expires_at": None,
        }
        arrays = {f"o_{n}": [getattr(r, n) for r in rows] for n, _ in _COLUMNS}
        return set(
            session.scalars(
                update(DeliveryRow)
                .where(DeliveryRow.id == c.id, DeliveryRow.lease_token == c.token, *fence)
                .values(changes)
                .returning(DeliveryRow.id)
                .execution_options(synchronize_session=False),
                arrays,
            )
        )

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
        self.finish(_results(self.send(claims)))
        return len(claims)

    def run(self, stop: threading.Event | None = None, *, once: bool = False) -> int:
        """Dispatch until ``stop`` is set (or, with ``once``, until nothing is due).

        The next batch is claimed (and queued behind the current one's requests) while
        the current batch is in flight, so the requests never wait for the database.
        """
        stop = stop or threading.Event()
        total = 0
        sending: deque[list[Future[Outcome]]] = deque()
        while True:
            claims = [] if stop.is_set() else self.claim()
            total += len(claims)
            if claims:
                sending.append(self.send(claims))
            if sending and (len(sending) > 1 or not claims):
                self.finish(_results(sending.popleft()))
                continue
            if not claims:
                if once or stop.is_set():
                    break
                stop.wait(self.settings.dispatch_poll_seconds)
        return total


class _Change(NamedTuple):
    """What one outcome writes to its delivery (``next_at`` None: unchanged)."""

    id: int
    token: str
    sent: bool
    state: str
    next_at: datetime | None
    finished: datetime | None
    status: int | None
    error: str | None


_COLUMNS: tuple[tuple[str, Any], ...] = (
    ("id", BigInteger),
    ("token", String),
    ("sent", Boolean),
    ("state", String),
    ("next_at", UTCDateTime),
    ("finished", UTCDateTime),
    ("status", Integer),
    ("error", Text),
)


def _changes(row: _Change) -> dict[str, object]:
    changes: dict[str, object] = {
        "state": row.state,
        "finished_at": row.finished,
        "lease_token": None,
        "lease_expires_at": None,
    }
    if row.next_at is not None:
        changes["next_attempt_at"] = row.next_at
    if row.sent:
        changes.update(last_status=row.status, last_error=row.error)
    else:
        changes["attempts"] = DeliveryRow.attempts - 1
    return changes


def _results(futures: Iterable[Future[Outcome]]) -> list[Outcome]:
    return [f.result() for f in futures]


def _ms(t0: float) -> int:
    return int((time.monotonic() - t0) * 1000)
