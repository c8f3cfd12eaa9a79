"""``RequireAcceptanceWSGI``: the WSGI counterpart of the ASGI ``RequireAcceptance``, on the
blocking ``TrackerClient``; and ``AcceptanceCheck``, the check itself, which the Django
middleware (``tracker.client.django``) runs too.

    app = RequireAcceptanceWSGI(app, client=tracker, user_id=lambda environ: ...)

Same options and rules as the ASGI middleware: exemptions by path prefix, exact path and
"contains" pattern, an ``exempt_user`` rule, users who are up to date cached for ``ttl``
seconds, and configuration errors (the tracker refusing the app's requests, an exemption of
every path, an ``exempt_user`` that raises) keep users out rather than let them through.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any
from urllib.parse import urlsplit
from wsgiref.util import application_uri, request_uri

from tracker.client import PolicyStatus, TrackerClient, TrackerClientError, gate
from tracker.client.gate import ConfigurationError, Exemptions, Reply

log = logging.getLogger("tracker.client.middleware")

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]
AcceptanceUrl = Callable[[str, tuple[str, ...], str], str]


class AcceptanceCheck:
    """Whether a request may go on, whatever serves it: ``reply`` answers None (let it
    through) or the answer that keeps the user out (a 303 to the acceptance page, a 403
    problem for an API request, a 500 for a configuration error, a 503 for an outage with
    ``fail_open=False``). The options are the ASGI ``RequireAcceptance``'s."""

    def __init__(
        self,
        *,
        client: TrackerClient,
        policies: Iterable[str] | None = None,
        ttl: float = 30.0,
        exempt: Iterable[str] = (),
        exempt_paths: Iterable[str] = (),
        exempt_contains: Iterable[str] = (),
        api_prefixes: Iterable[str] = ("/api/",),
        acceptance_url: AcceptanceUrl | None = None,
        fail_open: bool = True,
        max_cached: int = 100_000,
    ):
        self.client = client
        self.policies = frozenset(policies) if policies is not None else None
        self.exemptions = Exemptions.of(exempt, exempt_paths, exempt_contains)
        self.api_prefixes = tuple(api_prefixes)
        self.acceptance_url = acceptance_url or self._hosted_page
        self.fail_open = fail_open
        self.cache = gate.UpToDate(ttl, max_cached)
        client.on_record(self.forget)

    def exempt_path(self, method: str, path: str) -> bool:
        return method == "OPTIONS" or self.exemptions(path)

    def reply(
        self,
        user: str,
        *,
        path: str,
        accept: str,
        return_url: Callable[[], str],
        exempt_user: Callable[[], bool] | None = None,
    ) -> Reply | None:
        """The answer for a signed-in ``user`` on a path no exemption covers."""
        try:
            if exempt_user is not None and exempt_user():
                return None
        except Exception:
            log.exception("exempt_user raised for user %r, who is kept out until it is fixed", user)
            return gate.misconfigured()
        try:
            pending = self.pending(user)
            if not pending:
                return None
            if gate.is_api(path, accept, self.api_prefixes):
                return gate.problem(pending)
            slugs = tuple(p.policy for p in pending)
            return gate.redirect(self.acceptance_url(user, slugs, return_url()))
        except TrackerClientError as exc:
            return gate.on_error(exc, user, self.fail_open, log)

    def pending(self, user_id: str) -> tuple[PolicyStatus, ...]:
        """The required policies the user must accept now (from the cache when fresh)."""
        if self.cache.fresh(user_id):
            return ()
        generation = self.cache.generation
        pending = gate.pending_of(self.client.status(user_id), self.policies)
        if not pending:
            self.cache.remember(user_id, generation)
        return pending

    def forget(self, user_id: str | None = None) -> None:
        """Drop the cached status of a user (of every user with no argument)."""
        self.cache.forget(user_id)

    def _hosted_page(self, user_id: str, policies: Sequence[str], return_url: str) -> str:
        return self.client.acceptance_link(user_id, return_url, policies=policies).url


def back_to(method: str, url: str, referer: str | None, root: str) -> str:
    """Where to come back to: this page for GET and HEAD; for a form post, the page it came
    from when that is on this site, else the site's root."""
    if method in ("GET", "HEAD"):
        return url
    if referer and urlsplit(referer).netloc == urlsplit(url).netloc:
        return referer
    return root


class RequireAcceptanceWSGI:
    """Send users who must accept a policy to accept it before they use a WSGI app.

    - ``user_id(environ)``: the signed-in user's id, or None to let the request through.
    - ``exempt_user(environ, user_id)``: True for a user never checked (staff, a role).
    - every other option as ``AcceptanceCheck`` (and the ASGI ``RequireAcceptance``).
    """

    def __init__(
        self,
        app: WSGIApp,
        *,
        client: TrackerClient,
        user_id: Callable[[Environ], str | None],
        exempt_user: Callable[[Environ, str], bool] | None = None,
        **options: Any,
    ):
        self.app = app
        self.user_id = user_id
        self.exempt_user = exempt_user
        self.check = AcceptanceCheck(client=client, **options)

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        method = str(environ.get("REQUEST_METHOD", "GET"))
        path = str(environ.get("PATH_INFO", "") or "/")
        if self.check.exempt_path(method, path):
            return self.app(environ, start_response)
        user = self.user_id(environ)
        if user is None:
            return self.app(environ, start_response)
        rule = self.exempt_user
        reply = self.check.reply(
            user,
            path=path,
            accept=str(environ.get("HTTP_ACCEPT", "")),
            return_url=lambda: back_to(
                method, request_uri(environ), environ.get("HTTP_REFERER"), application_uri(environ)
            ),
            exempt_user=(lambda: rule(environ, user)) if rule is not None else None,
        )
        if reply is None:
            return self.app(environ, start_response)
        return _respond(reply, start_response)

    def forget(self, user_id: str | None = None) -> None:
        self.check.forget(user_id)


_REASONS = {303: "See Other", 403: "Forbidden", 500: "Internal Server Error", 503: "Unavailable"}


def _respond(reply: Reply, start_response: StartResponse) -> Iterator[bytes]:
    status, headers, body = reply
    start_response(
        f"{status} {_REASONS.get(status, '')}".strip(),
        [(k.decode(), v.decode()) for k, v in headers] + [("Content-Length", str(len(body)))],
    )
    yield body


__all__ = ["AcceptanceCheck", "ConfigurationError", "RequireAcceptanceWSGI", "back_to"]
