"""``RequireAcceptance``: a pure ASGI middleware that keeps users who must (re-)accept a
policy out of an app until they have.

    app = RequireAcceptance(app, client=tracker, user_id=lambda scope: ...)

For each HTTP request that no exemption covers (path prefixes, exact paths, patterns a path
contains, users ``exempt_user`` lets through) it reads the user id, asks the tracker for the
user's status (cached for ``ttl`` seconds while the user is up to date) and, when a required
policy needs acceptance, answers API requests with a 403 ``application/problem+json`` naming
the policies and redirects page requests (303) to an acceptance page.

Only users who are up to date are cached: a user who must accept is checked on every request,
so one who has just accepted (on the hosted page or anywhere else) gets in at once. When the
app records an event through the same client, the client calls ``forget(user_id)``; call it
yourself when another process records one.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Iterable, MutableMapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import URL, Headers

from tracker.client import AsyncTrackerClient, PolicyStatus, TrackerClientError, gate
from tracker.client.gate import (
    PROBLEM_TYPE,
    ConfigurationError,
    Exemptions,
    Reply,
    is_outage,
    what_to_fix,
)

log = logging.getLogger("tracker.client.middleware")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
UserIdGetter = Callable[[Scope], str | Awaitable[str | None] | None]
ExemptUser = Callable[[Scope, str], bool | Awaitable[bool]]
AcceptanceUrl = Callable[[str, tuple[str, ...], str], str | Awaitable[str]]


class RequireAcceptance:
    """Send users who must accept a policy to accept it before they use the app.

    - ``client``: the app's ``AsyncTrackerClient`` (the middleware registers ``forget`` with
      it, so events the app records through it clear the user's cache entry).
    - ``user_id(scope)``: the signed-in user's id, or None to let the request through
      (anonymous users, sign-in pages); may be a coroutine function.
    - ``policies``: slugs to require (default: every policy that requires acceptance).
    - ``ttl``: seconds an up-to-date user's status is trusted before it is asked again.
    - ``exempt``: path prefixes never checked (the sign-in and acceptance pages, assets);
      ``exempt_paths``: exact paths; ``exempt_contains``: patterns found anywhere in a path.
      Exempting every path (``exempt=["/"]``) is refused with a ``ConfigurationError``.
    - ``exempt_user(scope, user_id)``: True for a user never checked (staff, a permission);
      may be a coroutine function. If it raises, the user is kept out (500) and the error
      logged: a broken rule lets nobody through unchecked.
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
        exempt_paths: Iterable[str] = (),
        exempt_contains: Iterable[str] = (),
        exempt_user: ExemptUser | None = None,
        api_prefixes: Iterable[str] = ("/api/",),
        acceptance_url: AcceptanceUrl | None = None,
        fail_open: bool = True,
        max_cached: int = 100_000,
    ):
        self.app = app
        self.client = client
        self.user_id = user_id
        self.policies = frozenset(policies) if policies is not None else None
        self.exemptions = Exemptions.of(exempt, exempt_paths, exempt_contains)
        self.exempt_user = exempt_user
        self.api_prefixes = tuple(api_prefixes)
        self.acceptance_url = acceptance_url or self._hosted_page
        self.fail_open = fail_open
        self.cache = gate.UpToDate(ttl, max_cached)
        client.on_record(self.forget)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] == "OPTIONS"
            or self.exemptions(str(scope["path"]))
        ):
            await self.app(scope, receive, send)
            return
        user = await _maybe_await(self.user_id(scope))
        if user is None:
            await self.app(scope, receive, send)
            return
        try:
            exempt = self.exempt_user is not None and bool(
                await _maybe_await(self.exempt_user(scope, user))
            )
        except Exception:
            log.exception("exempt_user raised for user %r, who is kept out until it is fixed", user)
            await _send(send, gate.misconfigured())
            return
        if exempt:
            await self.app(scope, receive, send)
            return
        try:
            reply = await self._check(scope, user)
        except TrackerClientError as exc:
            reply = gate.on_error(exc, user, self.fail_open, log)
        if reply is None:
            await self.app(scope, receive, send)
        else:
            await _send(send, reply)

    async def _check(self, scope: Scope, user: str) -> Reply | None:
        """None to let the request through, else the answer that keeps the user out."""
        pending = await self.pending(user)
        if not pending:
            return None
        accept = Headers(scope=scope).get("accept", "")
        if gate.is_api(str(scope["path"]), accept, self.api_prefixes):
            return gate.problem(pending)
        slugs = tuple(p.policy for p in pending)
        target = await _maybe_await(self.acceptance_url(user, slugs, _return_url(scope)))
        return gate.redirect(str(target))

    async def pending(self, user_id: str) -> tuple[PolicyStatus, ...]:
        """The required policies the user must accept now (from the cache when fresh)."""
        if self.cache.fresh(user_id):
            return ()
        generation = self.cache.generation
        pending = gate.pending_of(await self.client.status(user_id), self.policies)
        # A forget() while the status was on its way may have made this answer stale.
        if not pending:
            self.cache.remember(user_id, generation)
        return pending

    def forget(self, user_id: str | None = None) -> None:
        """Drop the cached status of a user (of every user with no argument)."""
        self.cache.forget(user_id)

    async def _hosted_page(self, user_id: str, policies: Sequence[str], return_url: str) -> str:
        link = await self.client.acceptance_link(user_id, return_url, policies=policies)
        return link.url


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


async def _send(send: Send, reply: Reply) -> None:
    status, headers, body = reply
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


__all__ = [
    "PROBLEM_TYPE",
    "ConfigurationError",
    "RequireAcceptance",
    "is_outage",
    "what_to_fix",
]
