"""Where webhooks may go: public https, unless the allow-list says otherwise.

Checked when an endpoint is added and again before every attempt (DNS may have changed):
plain ``http`` and private, loopback, link-local or reserved addresses are refused unless
the host (or an address in an allowed CIDR range) is in ``webhook_allowed_hosts``.

Before an attempt the host is resolved once (:func:`destination`); the dispatcher then
connects to the address that passed the check, with the original name in ``Host`` and in
TLS SNI, so a second DNS answer (rebinding) never decides where the request goes.

An IPv6 address that embeds an IPv4 one (mapped ``::ffff:a.b.c.d``, translated
``::ffff:0:a.b.c.d``, compatible ``::a.b.c.d``, NAT64 ``64:ff9b::/96``, 6to4 ``2002::/16``,
Teredo ``2001::/32``) is public only if every IPv4 address in it is.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from tracker.errors import InvalidInput

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
#: ``(host, port) -> addresses``; the dispatcher's default asks the system resolver.
Resolver = Callable[[str, int], list[str]]

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_TRANSLATED = ipaddress.IPv6Network("::ffff:0:0:0/96")  # SIIT, RFC 6052 §2.1
_COMPATIBLE = ipaddress.IPv6Network("::/96")  # deprecated IPv4-compatible (and :: itself)


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


def _embedded(address: ipaddress.IPv6Address) -> Iterator[ipaddress.IPv4Address]:
    """Every IPv4 address an IPv6 one carries (and so may reach through a translator)."""
    last32 = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.ipv4_mapped is not None:
        yield address.ipv4_mapped
    if address in _TRANSLATED or address in _NAT64 or address in _COMPATIBLE:
        yield last32
    if address.sixtofour is not None:
        yield address.sixtofour
    if address.teredo is not None:
        yield from address.teredo


def public(address: Address) -> bool:
    """Globally routable unicast, including every IPv4 address embedded in an IPv6 one."""
    if not address.is_global or address.is_multicast:
        return False
    if isinstance(address, ipaddress.IPv6Address):
        return all(public(inner) for inner in _embedded(address))
    return True


def _port(url: str) -> int:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0 or (port is None and ":" in parts.netloc.rsplit("]", 1)[-1]):
        raise InvalidInput("url: the port must be a number from 1 to 65535", code="invalid_url")
    return port or (443 if parts.scheme == "https" else 80)


def check_url(url: str, allowed: AllowList) -> str:
    """The URL if webhooks may be sent to it; else an ``InvalidInput`` naming the rule."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("https", "http") or not host:
        raise InvalidInput("url: must be an absolute https:// URL", code="invalid_url")
    if parts.username or parts.password:
        raise InvalidInput("url: must not carry credentials", code="invalid_url")
    _port(url)
    if parts.scheme == "http" and not allowed.host(host):
        raise InvalidInput(
            f"url: plain http is refused for {host}; use https or add the host to "
            "POLICY_TRACKER_WEBHOOK_ALLOWED_HOSTS (the tracker's webhook_allowed_hosts setting)",
            code="invalid_url",
        )
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return url  # a name: checked when resolved, before each attempt
    if not public(address) and not allowed.host(host):
        raise InvalidInput(
            f"url: {host} is a private or loopback address; add it to "
            "POLICY_TRACKER_WEBHOOK_ALLOWED_HOSTS (the tracker's webhook_allowed_hosts setting) "
            "to allow it",
            code="invalid_url",
        )
    return url


@dataclass(frozen=True)
class Destination:
    """Where one attempt goes: the checked ``address`` of ``host``, on ``port``."""

    host: str
    address: str
    port: int


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def destination(
    url: str, allowed: AllowList, resolver: Resolver | None = None
) -> Destination | str:
    """Before an attempt: resolve the host once and check every address it gave.

    Returns where to connect, or a refusal that names the host and the rule (never the
    address: the receiver's DNS should not learn an operator's network from our errors)."""
    try:
        check_url(url, allowed)
        port = _port(url)
    except InvalidInput as exc:
        return exc.message.removeprefix("url: ")
    host = (urlsplit(url).hostname or "").lower()
    try:
        literal: Address | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        return Destination(host, str(literal), port)
    try:
        found = (resolver or system_resolver)(host, port)
    except (OSError, UnicodeError):
        return f"cannot resolve {host}"
    if not found:
        return f"cannot resolve {host}"
    addresses = []
    for answer in found:
        try:
            address = ipaddress.ip_address(answer.split("%", 1)[0])
        except ValueError:
            return f"cannot resolve {host}"
        if not allowed.host(host) and not public(address) and not allowed.host(str(address)):
            return f"{host} resolves to a private or loopback address"
        addresses.append(address)
    return Destination(host, str(addresses[0]), port)
