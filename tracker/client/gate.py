"""What the acceptance middlewares share, whatever the server interface (ASGI, WSGI, Django):
which paths are never checked, the cache of users who are up to date, which of a status's
policies keep a user out, and the answers that keep them out.

Exemptions follow django-termsandconditions' settings: path prefixes
(``TERMS_EXCLUDE_URL_PREFIX_LIST``), exact paths (``TERMS_EXCLUDE_URL_LIST``) and patterns a
path contains (``TERMS_EXCLUDE_URL_CONTAINS_LIST``). An exemption that would cover every
path (``/`` as a prefix, an empty pattern) is refused: it is a mistake, not a way to gate
nothing.
"""

from __future__ import annotations

import json
import logging
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from tracker.client.errors import TrackerClientError
from tracker.client.models import PolicyStatus, UserStatus

PROBLEM_TYPE = "urn:policy-tracker:problem:acceptance_required"

Reply = tuple[int, list[tuple[bytes, bytes]], bytes]


class ConfigurationError(ValueError):
    """A middleware set up so that it cannot do its job; raised when it is built."""


def _texts(values: Iterable[str], option: str) -> tuple[str, ...]:
    if isinstance(values, str):
        raise ConfigurationError(f"{option} must be a list of paths, not the string {values!r}")
    out = tuple(values)
    for value in out:
        if not isinstance(value, str):
            raise ConfigurationError(f"{option} must hold paths (strings), not {value!r}")
    return out


@dataclass(frozen=True)
class Exemptions:
    """Paths never checked: ``prefixes`` (``/static`` covers ``/static`` and
    ``/static/x``; ``/api/`` covers ``/api/x``), exact ``paths``, and ``contains`` patterns
    found anywhere in a path."""

    prefixes: tuple[str, ...] = ()
    paths: frozenset[str] = frozenset()
    contains: tuple[str, ...] = ()

    @classmethod
    def of(
        cls, prefixes: Iterable[str] = (), paths: Iterable[str] = (), contains: Iterable[str] = ()
    ) -> Exemptions:
        """Checked exemptions; a ``ConfigurationError`` for one that covers every path."""
        found = cls(
            _texts(prefixes, "exempt"),
            frozenset(_texts(paths, "exempt_paths")),
            _texts(contains, "exempt_contains"),
        )
        for prefix in found.prefixes:
            if prefix.rstrip("/") == "":
                raise ConfigurationError(
                    f"exempt={prefix!r} would let every request through without an acceptance "
                    "check: exempt the paths that need it (the sign-in page, assets), or use "
                    "exempt_paths=['/'] for the home page alone"
                )
            if not prefix.startswith("/"):
                raise ConfigurationError(f"exempt path prefix {prefix!r} must start with '/'")
        for path in found.paths:
            if not path.startswith("/"):
                raise ConfigurationError(f"exempt path {path!r} must start with '/'")
        for pattern in found.contains:
            if pattern in ("", "/"):
                raise ConfigurationError(
                    f"exempt_contains={pattern!r} is in every path: it would let every request "
                    "through without an acceptance check"
                )
        return found

    def __call__(self, path: str) -> bool:
        if path in self.paths:
            return True
        if any(under(path, prefix) for prefix in self.prefixes):
            return True
        return any(pattern in path for pattern in self.contains)


def under(path: str, prefix: str) -> bool:
    """``/api/`` covers ``/api/x``; ``/static`` covers ``/static`` and ``/static/x``."""
    if prefix.endswith("/"):
        return path.startswith(prefix)
    return path == prefix or path.startswith(prefix + "/")


def is_api(path: str, accept: str, api_prefixes: Sequence[str]) -> bool:
    """A request answered with a 403 problem rather than a redirect: under an API prefix, or
    asking for JSON and not HTML."""
    if any(under(path, prefix) for prefix in api_prefixes):
        return True
    accept = accept.lower()
    return "json" in accept and "text/html" not in accept


class UpToDate:
    """Users who were up to date, each until a deadline (``ttl`` seconds after the check);
    at most ``max_cached`` of them, the least recently checked dropped first."""

    def __init__(self, ttl: float, max_cached: int):
        self.ttl = ttl
        self.max_cached = max_cached
        self._until: OrderedDict[str, float] = OrderedDict()
        #: Counts forgets: an answer asked for before one may be stale.
        self.generation = 0

    def fresh(self, user_id: str) -> bool:
        expires = self._until.get(user_id)
        return expires is not None and expires > time.monotonic()

    def remember(self, user_id: str, generation: int) -> None:
        if generation != self.generation:
            return
        self._until[user_id] = time.monotonic() + self.ttl
        self._until.move_to_end(user_id)
        while len(self._until) > self.max_cached:
            self._until.popitem(last=False)

    def forget(self, user_id: str | None = None) -> None:
        self.generation += 1
        if user_id is None:
            self._until.clear()
        else:
            self._until.pop(user_id, None)


def pending_of(status: UserStatus, policies: frozenset[str] | None) -> tuple[PolicyStatus, ...]:
    """The required policies of ``status`` the user must accept now; a required policy the
    tracker does not know is a configuration error (404)."""
    if policies is not None:
        unknown = policies - {p.policy for p in status.policies}
        if unknown:
            raise TrackerClientError(
                f"the tracker has no policy {', '.join(sorted(unknown))} (it has "
                f"{', '.join(p.policy for p in status.policies) or 'none'})",
                status=404,
                code="policy_not_found",
            )
    return tuple(p for p in status.pending if policies is None or p.policy in policies)


def is_outage(exc: TrackerClientError) -> bool:
    """Whether the tracker could not answer (network error, timeout, 5xx, 429), as opposed
    to answering that the request is wrong (any other 4xx: a configuration error)."""
    return exc.status is None or exc.status >= 500 or exc.status == 429


def on_error(
    exc: TrackerClientError, user: str, fail_open: bool, log: logging.Logger
) -> Reply | None:
    """The answer when the tracker did not give a status: a configuration error (the
    tracker answered and refused) keeps everyone out (500) whatever ``fail_open`` says; an
    outage lets the user in (logged) with ``fail_open``, else answers 503. None: let in."""
    if not is_outage(exc):
        log.error(
            "policy-tracker refused the acceptance check of user %r, who is kept out: %s. "
            "To fix: %s",
            user,
            exc,
            what_to_fix(exc),
        )
        return misconfigured()
    if not fail_open:
        return unavailable()
    log.warning(
        "policy-tracker unavailable; user %r let in without an acceptance check "
        "(fail_open=True): %s",
        user,
        exc,
    )
    return None


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


def problem(pending: Sequence[PolicyStatus]) -> Reply:
    """The 403 an API request gets, naming the policies to accept."""
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
    return _problem_reply(body)


def redirect(target: str) -> Reply:
    return 303, [(b"location", target.encode())], b""


def misconfigured() -> Reply:
    return _tracker_problem(
        500,
        "Internal Server Error",
        "tracker_misconfigured",
        "policy acceptance could not be checked; the site's operators have been told",
    )


def unavailable() -> Reply:
    return _tracker_problem(
        503,
        "Service unavailable",
        "tracker_unavailable",
        "policy acceptance could not be checked; try again shortly",
        (b"retry-after", b"5"),
    )


def _tracker_problem(
    status: int, title: str, code: str, detail: str, *headers: tuple[bytes, bytes]
) -> Reply:
    """The problem+json the app answers when the tracker could not be asked."""
    type_ = f"urn:policy-tracker:problem:{code}"
    body = {"type": type_, "title": title, "status": status, "code": code, "detail": detail}
    return _problem_reply(body, *headers)


def _problem_reply(body: dict[str, Any], *headers: tuple[bytes, bytes]) -> Reply:
    content_type = (b"content-type", b"application/problem+json")
    return body["status"], [content_type, *headers], json.dumps(body).encode()


__all__ = [
    "ConfigurationError",
    "Exemptions",
    "UpToDate",
    "is_outage",
    "on_error",
    "pending_of",
    "what_to_fix",
]
