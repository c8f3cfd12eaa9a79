"""``RequireAcceptanceMiddleware``: the Django counterpart of ``RequireAcceptance``.

In ``settings.py``, after ``AuthenticationMiddleware``:

    MIDDLEWARE = [..., "tracker.client.django.RequireAcceptanceMiddleware"]
    POLICY_TRACKER = {
        "URL": "https://tracker.example",
        "API_KEY": "ptk_…",
        "EXEMPT": ["/accounts/", "/static/"],      # path prefixes
        "EXEMPT_PATHS": ["/"],                     # exact paths
        "EXEMPT_CONTAINS": ["/public/"],           # patterns a path contains
        "EXEMPT_USER": lambda user: user.is_staff, # or a dotted path to such a function
        "EXEMPT_USERS_WITH_PERM": "app.skip_terms",
    }

The exemptions are django-termsandconditions' ``TERMS_EXCLUDE_URL_PREFIX_LIST``,
``TERMS_EXCLUDE_URL_LIST``, ``TERMS_EXCLUDE_URL_CONTAINS_LIST`` and
``TERMS_EXCLUDE_USERS_WITH_PERM``. Other keys: ``POLICIES`` (slugs to require), ``TTL``,
``API_PREFIXES``, ``FAIL_OPEN``, ``TIMEOUT`` (seconds) and ``USER_ID`` (a function of the
user giving the id the tracker knows; default ``str(user.pk)``, the id
``policy-tracker import django-termsandconditions`` records). A setting that cannot work (an
unknown key, no URL, ``/`` exempted) stops Django from starting: ``ImproperlyConfigured``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.utils.module_loading import import_string

from tracker.client import TrackerClient
from tracker.client.gate import ConfigurationError
from tracker.client.wsgi import AcceptanceCheck, back_to

OPTIONS = {
    "URL": "the tracker's base URL",
    "API_KEY": "an API key with the read and write scopes",
    "EXEMPT": "path prefixes never checked",
    "EXEMPT_PATHS": "exact paths never checked",
    "EXEMPT_CONTAINS": "patterns; a path containing one is never checked",
    "EXEMPT_USER": "a function of the user: True for a user never checked",
    "EXEMPT_USERS_WITH_PERM": "a permission whose holders (not superusers) are never checked",
    "USER_ID": "a function of the user giving the tracker's user id (default: str(user.pk))",
    "POLICIES": "the slugs to require (default: every policy that requires acceptance)",
    "TTL": "seconds an up-to-date user's status is trusted",
    "API_PREFIXES": "paths answered with a 403 problem rather than a redirect",
    "FAIL_OPEN": "let users in when the tracker does not answer (default true)",
    "TIMEOUT": "seconds to wait for the tracker",
}


def _function(config: dict[str, Any], name: str) -> Callable[[Any], Any] | None:
    value = config.get(name)
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = import_string(value)
        except ImportError as exc:
            raise ImproperlyConfigured(f"POLICY_TRACKER[{name!r}]: {exc}") from None
    if not callable(value):
        raise ImproperlyConfigured(f"POLICY_TRACKER[{name!r}] must be a function of the user")
    return value  # type: ignore[no-any-return]


class RequireAcceptanceMiddleware:
    """Redirects signed-in users who must accept a policy to the tracker's hosted page, and
    answers their API requests with a 403 problem."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        config = getattr(settings, "POLICY_TRACKER", None)
        if not isinstance(config, dict):
            raise ImproperlyConfigured(
                "settings.POLICY_TRACKER must be a dict with at least URL and API_KEY"
            )
        unknown = sorted(set(config) - set(OPTIONS))
        if unknown:
            raise ImproperlyConfigured(
                f"POLICY_TRACKER has unknown key(s) {', '.join(unknown)}; known: "
                + ", ".join(OPTIONS)
            )
        for required in ("URL", "API_KEY"):
            if not config.get(required):
                raise ImproperlyConfigured(f"POLICY_TRACKER[{required!r}]: {OPTIONS[required]}")
        self.user_id = _function(config, "USER_ID") or (lambda user: str(user.pk))
        rule = _function(config, "EXEMPT_USER")
        perm = config.get("EXEMPT_USERS_WITH_PERM")

        def exempt(user: Any) -> bool:
            if perm and user.has_perm(perm) and not user.is_superuser:
                return True
            return bool(rule(user)) if rule is not None else False

        self.exempt_user = exempt
        client = TrackerClient(
            config["URL"], config["API_KEY"], timeout=float(config.get("TIMEOUT", 5.0))
        )
        try:
            self.check = AcceptanceCheck(
                client=client,
                policies=config.get("POLICIES"),
                ttl=float(config.get("TTL", 30.0)),
                exempt=config.get("EXEMPT", ()),
                exempt_paths=config.get("EXEMPT_PATHS", ()),
                exempt_contains=config.get("EXEMPT_CONTAINS", ()),
                api_prefixes=config.get("API_PREFIXES", ("/api/",)),
                fail_open=bool(config.get("FAIL_OPEN", True)),
            )
        except ConfigurationError as exc:
            client.close()
            raise ImproperlyConfigured(f"POLICY_TRACKER: {exc}") from None

    def __call__(self, request: HttpRequest) -> HttpResponse:
        method = request.method or "GET"
        if self.check.exempt_path(method, request.path):
            return self.get_response(request)
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return self.get_response(request)
        reply = self.check.reply(
            str(self.user_id(user)),
            path=request.path,
            accept=request.headers.get("accept", ""),
            return_url=lambda: back_to(
                method,
                request.build_absolute_uri(),
                request.headers.get("referer"),
                request.build_absolute_uri("/"),
            ),
            exempt_user=lambda: self.exempt_user(user),
        )
        if reply is None:
            return self.get_response(request)
        status, headers, body = reply
        response = HttpResponse(body, status=status)
        for name, value in headers:
            response[name.decode()] = value.decode()
        return response


__all__ = ["RequireAcceptanceMiddleware"]
