"""``RequireAcceptance``: a pure ASGI middleware that keeps users who must (re-)accept a
policy out of an app until they have.

    app = RequireAcceptance(app, client=tracker, user_id=lambda scope: ...)

For each HTTP request it reads the user id, asks the tracker for the user's status (cached
for ``ttl`` seconds while the user is up to date) and, when a required policy needs
acceptance, answers API requests with a 403 ``application/problem+json`` naming the policies
and redirects page requests (303) to an acceptance page.

Only users who are up to date are cached: a user who must accept is checked on every request,
so one who has just accepted (on the hosted page or anywhere else) gets in at once. When the
app records an event through the same client, the client calls ``forget(user_id)``; call it
yourself when another process records one.
"""

from __future__ import annotations

import inspect
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, MutableMapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import URL, Headers

from tracker.client import AsyncTrackerClient, PolicyStatus, TrackerClientError

log = logging.getLogger("tracker.client.middleware")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
UserIdGetter = Callable[[Scope], str | Awaitable[str | None] | None]
AcceptanceUrl = Callable[[str, tuple[str, ...], str], str | Awaitable[str]]

Reply = tuple[int, list[tuple[bytes, bytes]], bytes]

PROBLEM_TYPE = "urn:policy-tracker:problem:acceptance_required"


class RequireAcceptance:
    """Send users who must accept a policy to accept it before they use the app.

    - ``client``: the app's ``AsyncTrackerClient`` (the middleware registers ``forget`` with
      it, so events the app records through it clear the user's cache entry).
    - ``user_id(scope)``: the signed-in user's id, or None to let the request through
      (anonymous users, sign-in pages); may be a coroutine function.
    - ``policies``: slugs to require (default: every policy that requires acceptance).
    - ``ttl``: seconds an up-to-date user's status is trusted before it is asked again.
    - ``exempt``: path prefixes never checked (the sign-in and acceptance pages, assets).
    - ``api_prefixes``: paths answered with a 403 problem rather than a redirect; so is any
      request whose ``Accept`` header asks for JSON and not HTML.
    - ``acceptance_url(user_id, policies, return_url)``: where to send a page request
      (default: a link to the tracker's hosted page from ``client.acceptance_link``); may be
      a coroutine function.
    - ``fail_open``: when the tracker is unavailable (no answer, a timeout, a 5xx or 429 after
      the client's retries), let the request through (logged) if True, else answer 503.
      A 4xx answer (bad or revoked key, missing scope, return URL not allowed, unknown
      policy) is a configuration error, never an outage: the user is kept out (500) and the
      log says what to fix.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        client: AsyncTrackerClient,
        user_id: UserIdGetter,
        policies: Iterable[str] | None = None,
        ttl: float = 30.0,
        exempt: Iterable[str] = (),
        api_prefixes: Iterable[str] = ("/api/",),
        acceptance_url: AcceptanceUrl | None = None,
        fail_open: bool = True,
        max_cached: int = 100_000,
    ):
        self.app = app
        self.client = client
        self.user_id = user_id
        self.policies = frozenset(policies) if policies is not None else None
        self.ttl = ttl
        self.exempt = tuple(exempt)
        self.api_prefixes = tuple(api_prefixes)
        self.acceptance_url = acceptance_url or self._hosted_page
        self.fail_open = fail_open
        self.max_cached = max_cached
        self._up_to_date: OrderedDict[str, float] = OrderedDict()
        self._forgotten = 0
        client.on_record(self.forget)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] == "OPTIONS" or self._is_exempt(scope):
            await self.app(scope, receive, send)
            return
        user = await _maybe_await(self.user_id(scope))
        if user is None:
            await self.app(scope, receive, send)
            return
        try:
            reply = await self._check(scope, user)
        except TrackerClientError as exc:
            if not is_outage(exc):
                # The tracker answered and refused: the app is misconfigured. Nobody gets in
                # until it is fixed, whatever fail_open says.
                log.error(
                    "policy-tracker refused the acceptance check of user %r, who is kept out: "
                    "%s. To fix: %s",
                    user,
                    exc,
                    what_to_fix(exc),
                )
                await _send(send, _misconfigured())
                return
            if not self.fail_open:
                await _send(send, _unavailable())
                return
            log.warning(
                "policy-tracker unavailable; user %r let in without an acceptance check "
                "(fail_open=True): %s",
                user,
                exc,
            )
            reply = None
        if reply is None:
            await self.app(scope, receive, send)
        else:
            await _send(send, reply)

    async def _check(self, scope: Scope, user: str) -> Reply | None:
        """None to let the request through, else the answer that keeps the user out."""
        pending = await self.pending(user)
        if not pending:
            return None
        if self._is_api(scope):
            return _problem(pending)
        slugs = tuple(p.policy for p in pending)
        target = await _maybe_await(self.acceptance_url(user, slugs, _return_url(scope)))
        return 303, [(b"location", str(target).encode())], b""

    async def pending(self, user_id: str) -> tuple[PolicyStatus, ...]:
        """The required policies the user must accept now (from the cache when fresh)."""
        expires = self._up_to_date.get(user_id)
        if expires is not None and expires > time.monotonic():
            return ()
        forgotten = self._forgotten
        status = await self.client.status(user_id)
        if self.policies is not None:
            unknown = self.policies - {p.policy for p in status.policies}
            if unknown:
                raise TrackerClientError(
                    f"the tracker has no policy {', '.join(sorted(unknown))} (it has "
                    f"{', '.join(p.policy for p in status.policies) or 'none'})",
                    status=404,
                    code="policy_not_found",
                )
        pending = tuple(
            p for p in status.pending if self.policies is None or p.policy in self.policies
        )
        # A forget() while the status was on its way may have made this answer stale.
        if not pending and forgotten == self._forgotten:
            self._up_to_date[user_id] = time.monotonic() + self.ttl
            self._up_to_date.move_to_end(user_id)
            while len(self._up_to_date) > self.max_cached:
                self._up_to_date.popitem(last=False)
        return pending

    def forget(self, user_id: str | None = None) -> None:
        """Drop the cached status of a user (of every user with no argument)."""
        self._forgotten += 1
        if user_id is None:
            self._up_to_date.clear()
        else:
            self._up_to_date.pop(user_id, None)

    async def _hosted_page(self, user_id: str, policies: Sequence[str], return_url: str) -> str:
        link = await self.client.acceptance_link(user_id, return_url, policies=policies)
        return link.url

    def _is_exempt(self, scope: Scope) -> bool:
        path = str(scope["path"])
        return any(_under(path, prefix) for prefix in self.exempt)

    def _is_api(self, scope: Scope) -> bool:
        path = str(scope["path"])
        if any(_under(path, prefix) for prefix in self.api_prefixes):
            return True
        accept = Headers(scope=scope).get("accept", "").lower()
        return "json" in accept and "text/html" not in accept


def _under(path: str, prefix: str) -> bool:
    """``/api/`` covers ``/api/x``; ``/static`` covers ``/static`` and ``/static/x``."""
    if prefix.endswith("/"):
        return path.startswith(prefix) or path == prefix.rstrip("/")
    return path == prefix or path.startswith(prefix + "/")


async def _maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


def _return_url(scope: Scope) -> str:
    """Where to come back to: this page for GET and HEAD; for a form post, the page it came
    from when that is on this site, else the site's root."""
    url = URL(scope=scope)
    if scope["method"] in ("GET", "HEAD"):
        return str(url)
    referer = Headers(scope=scope).get("referer")
    if referer and urlsplit(referer).netloc == url.netloc:
        return referer
    return str(url.replace(path=scope.get("root_path", "") + "/", query=""))


def _problem(pending: Sequence[PolicyStatus]) -> Reply:
    names = ", ".join(f"{p.policy} (version {p.current_version})" for p in pending)
    body = {
        "type": PROBLEM_TYPE,
        "title": "Acceptance required",
        "status": 403,
        "code": "acceptance_required",
        "detail": f"the user must accept: {names}",
        "policies": [
            {
                "policy": p.policy,
                "title": p.title,
                "version": p.current_version,
                "state": p.state,
            }
            for p in pending
        ],
    }
    return 403, [(b"content-type", b"application/problem+json")], json.dumps(body).encode()


def is_outage(exc: TrackerClientError) -> bool:
    """Whether the tracker could not answer (network error, timeout, 5xx, 429), as opposed
    to answering that the request is wrong (any other 4xx: a configuration error)."""
    return exc.status is None or exc.status >= 500 or exc.status == 429


def what_to_fix(exc: TrackerClientError) -> str:
    """One sentence for the app's operator, from the tracker's problem code."""
    if exc.code == "return_url_not_allowed":
        return (
            "allow the app's return URL for its API key: policy-tracker keys app KEY_ID "
            "--return-url https://your.app/ (or PUT /v1/admin/keys/{key_id}/app)"
        )
    if exc.status == 401:
        return (
            "the API key is missing, wrong or revoked: create one with policy-tracker keys "
            "create --name APP --scopes read,write and give it to the TrackerClient"
        )
    if exc.status == 403:
        return (
            "the API key lacks a scope the middleware needs (read for status, write for "
            "acceptance links): create one with --scopes read,write"
        )
    if exc.status == 404:
        return (
            "a policy the middleware requires (policies=...) is unknown to the tracker: "
            "check the slugs against GET /v1/policies, and that versions were synced"
        )
    return "check the request the app sends against the tracker's API (docs/api.md)"


def _misconfigured() -> Reply:
    body = {
        "type": "urn:policy-tracker:problem:tracker_misconfigured",
        "title": "Internal Server Error",
        "status": 500,
        "code": "tracker_misconfigured",
        "detail": "policy acceptance could not be checked; the site's operators have been told",
    }
    return 500, [(b"content-type", b"application/problem+json")], json.dumps(body).encode()


def _unavailable() -> Reply:
    body = {
        "type": "urn:policy-tracker:problem:tracker_unavailable",
        "title": "Service unavailable",
        "status": 503,
        "code": "tracker_unavailable",
        "detail": "policy acceptance could not be checked; try again shortly",
    }
    headers = [(b"content-type", b"application/problem+json"), (b"retry-after", b"5")]
    return 503, headers, json.dumps(body).encode()


async def _send(send: Send, reply: Reply) -> None:
    status, headers, body = reply
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


__all__ = ["RequireAcceptance", "is_outage", "what_to_fix"]
