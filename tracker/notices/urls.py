"""Where webhooks may go: public https, unless the allow-list says otherwise.

Checked when an endpoint is added and again before every attempt (DNS may have changed):
plain ``http`` and private, loopback, link-local or reserved addresses are refused unless
the host (or an address in an allowed CIDR range) is in ``webhook_allowed_hosts``.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from tracker.errors import InvalidInput

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class AllowList:
    def __init__(self, spec: str):
        self.hosts: set[str] = set()
        self.networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        for item in (part.strip().lower() for part in spec.split(",")):
            if not item:
                continue
            try:
                self.networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                self.hosts.add(item)

    def host(self, host: str) -> bool:
        return host.lower() in self.hosts or self._address(host)

    def _address(self, host: str) -> bool:
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in n for n in self.networks)


def _public(address: Address) -> bool:
    return address.is_global and not address.is_multicast


def check_url(url: str, allowed: AllowList) -> str:
    """The URL if webhooks may be sent to it; else an ``InvalidInput`` naming the rule."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("https", "http") or not host:
        raise InvalidInput("url: must be an absolute https:// URL", code="invalid_url")
    if parts.username or parts.password:
        raise InvalidInput("url: must not carry credentials", code="invalid_url")
    if parts.scheme == "http" and not allowed.host(host):
        raise InvalidInput(
            f"url: plain http is refused for {host}; use https or add the host to "
            "webhook_allowed_hosts",
            code="invalid_url",
        )
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return url  # a name: checked when resolved, before each attempt
    if not _public(address) and not allowed.host(host):
        raise InvalidInput(
            f"url: {host} is a private or loopback address; add it to webhook_allowed_hosts "
            "to allow it",
            code="invalid_url",
        )
    return url


def check_destination(url: str, allowed: AllowList) -> str | None:
    """Before an attempt: None if every address the host resolves to may be reached."""
    host = (urlsplit(url).hostname or "").lower()
    if allowed.host(host):
        return None
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError as exc:
        return f"cannot resolve {host}: {exc}"
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not _public(address) and not allowed._address(str(address)):
            return f"{host} resolves to {address}, a private or loopback address"
    return None
