"""``TrackerClient``: the blocking client (httpx)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from types import TracebackType
from typing import TypeVar

import httpx
from typing_extensions import Unpack

from tracker.client import _core as core
from tracker.client._core import EventDetails as Details
from tracker.client.models import (
    AcceptanceLink,
    Event,
    EventsPage,
    Notice,
    RecordResult,
    UserStatus,
)

T = TypeVar("T")


class TrackerClient:
    """Calls the tracker's API: ``TrackerClient("https://tracker.example", "ptk_…")``.

    Use it as a context manager, or call ``close()``. Reads and writes are retried on
    connection errors, timeouts, 429 and 5xx answers (see ``Retry``); every write carries an
    ``Idempotency-Key`` that stays the same across the retries of one call.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float | httpx.Timeout = 5.0,
        retry: core.Retry | None = None,
        transport: httpx.BaseTransport | None = None,
        user_agent: str | None = None,
    ):
        self.retry = retry or core.Retry()
        self._listeners: list[Callable[[str], object]] = []
        self._http = httpx.Client(
            base_url=base_url,
            headers=core.client_headers(api_key, user_agent),
            timeout=timeout,
            transport=transport,
        )

    def __enter__(self) -> TrackerClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def on_record(self, listener: Callable[[str], object]) -> None:
        """Call ``listener(user_id)`` after this client records an event for the user
        (``RequireAcceptance.forget`` is the usual listener)."""
        self._listeners.append(listener)

    # Reads

    def status(
        self, user_id: str, policy: str | None = None, locale: str | None = None
    ) -> UserStatus:
        """The user's status for every policy, or for one; with ``locale`` (``de-DE``) each
        policy's ``translation`` says where its text in that language is and how current."""
        return self._run(core.status_call(user_id, policy, locale))

    def batch_status(self, user_ids: Sequence[str], policy: str | None = None) -> list[UserStatus]:
        """The status of many users (up to the tracker's limit, 10,000) in one call."""
        return self._run(core.batch_status_call(user_ids, policy))

    def events(
        self,
        user_id: str,
        *,
        policy: str | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> EventsPage:
        """One page of the user's events, oldest first."""
        return self._run(core.events_call(user_id, policy, cursor, limit))

    def iter_events(self, user_id: str, *, policy: str | None = None) -> Iterator[Event]:
        """Every event of the user, oldest first, fetching pages as needed."""
        cursor: str | None = None
        while True:
            page = self.events(user_id, policy=policy, cursor=cursor, limit=1000)
            yield from page.events
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def notices(self, user_id: str, *, include_acknowledged: bool = False) -> list[Notice]:
        """The user's pending notices (all of them with ``include_acknowledged``)."""
        return self._run(core.notices_call(user_id, include_acknowledged))

    # Writes

    def accept(
        self, user_id: str, policy: str, version: int | None = None, **details: Unpack[Details]
    ) -> RecordResult:
        """Record that the user accepted ``version`` (pass the one you showed them; without
        it the version in force when the call is made is recorded). ``details``: see
        ``EventDetails``."""
        return self._record_current("acceptances", user_id, policy, version, details)

    def decline(
        self, user_id: str, policy: str, version: int | None = None, **details: Unpack[Details]
    ) -> RecordResult:
        """Record that the user declined ``version`` (default: the one in force)."""
        return self._record_current("declines", user_id, policy, version, details)

    def _record_current(
        self, kind: str, user_id: str, policy: str, version: int | None, details: Details
    ) -> RecordResult:
        """Record ``kind`` of ``version``, by default the one in force when called."""
        if version is None:
            version = core.current_version(self.status(user_id, policy), policy)
        return self._run(core.record_call(kind, user_id, policy, version, details))

    def withdraw(
        self, user_id: str, policy: str, version: int | None = None, **details: Unpack[Details]
    ) -> RecordResult:
        """Record that the user withdrew their acceptance (default: of the version they
        accepted)."""
        return self._run(core.record_call("withdrawals", user_id, policy, version, details))

    def ack(self, notice_id: str | int, *, idempotency_key: str | None = None) -> Notice:
        """Acknowledge a notice: the app showed it to the user."""
        return self._run(core.ack_call(notice_id, idempotency_key))

    def acceptance_link(
        self,
        user_id: str,
        return_url: str,
        *,
        policies: Sequence[str] | None = None,
        locale: str | None = None,
        idempotency_key: str | None = None,
    ) -> AcceptanceLink:
        """A short-lived, single-use link to the hosted page where the user reviews and
        accepts; the page sends them back to ``return_url``."""
        return self._run(
            core.acceptance_link_call(user_id, return_url, policies, locale, idempotency_key)
        )

    # Sending

    def _run(self, call: core.Call[T]) -> T:
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self._http.request(
                    call.method, call.path, params=call.params, json=call.json,
                    headers=call.headers,
                )  # fmt: skip
            except httpx.TransportError as exc:
                delay = self.retry.delay(attempt, None)
                if delay is None:
                    raise core.give_up(exc, attempt) from exc
            else:
                delay = self.retry.delay(attempt, response) if core.should_retry(response) else None
                if delay is None:
                    result = core.finish(call, response)
                    if call.changes_user is not None:
                        for listener in self._listeners:
                            listener(call.changes_user)
                    return result
            time.sleep(delay)
