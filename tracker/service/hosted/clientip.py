"""The address of the person on the page.

``X-Forwarded-For`` is believed only from the proxies the operator names in
``POLICY_TRACKER_TRUSTED_PROXIES``: the app wraps itself in uvicorn's
``ProxyHeadersMiddleware`` with exactly those (none by default), and ``policy-tracker serve``
turns uvicorn's own proxy handling off, whose default would trust 127.0.0.1.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from starlette.middleware import Middleware
from starlette.requests import Request
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from tracker.errors import TrackerError


def parse_proxies(value: str) -> list[str]:
    """Comma-separated addresses or CIDR ranges (``10.0.0.0/8, ::1``), each checked, so a
    typo stops the service at start-up rather than trusting nothing (or everything)."""
    found = []
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        try:
            found.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise TrackerError(
                f"POLICY_TRACKER_TRUSTED_PROXIES: {item!r} is not an IP address or CIDR range"
            ) from None
    return found


def proxy_middleware(value: str) -> list[Middleware]:
    """uvicorn's proxy middleware for the trusted proxies; none when there are none."""
    proxies = parse_proxies(value)
    if not proxies:
        return []
    options: dict[str, Any] = {"trusted_hosts": proxies}
    return [Middleware(ProxyHeadersMiddleware, **options)]


def client_ip(request: Request) -> str | None:
    """The client's address as an IP (the peer, or what a trusted proxy said it was)."""
    host = request.client.host if request.client else None
    if host is None:
        return None
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None
