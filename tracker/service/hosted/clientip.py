"""The address of the person on the page, honouring ``X-Forwarded-For`` only from proxies
the operator trusts (``POLICY_TRACKER_TRUSTED_PROXIES``)."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from functools import lru_cache

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=16)
def parse_proxies(value: str) -> tuple[Network, ...]:
    """Comma-separated addresses or CIDR ranges (``10.0.0.0/8, ::1``)."""
    found = []
    for item in value.split(","):
        item = item.strip()
        if item:
            try:
                found.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                raise ValueError(
                    f"trusted_proxies: {item!r} is not an IP address or CIDR range"
                ) from None
    return tuple(found)


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # [v6]:port
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # v4:port
        value = value.split(":", 1)[0]
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def _trusted(address: str, proxies: Sequence[Network]) -> bool:
    ip = _address(address)
    return ip is not None and any(ip in net for net in proxies)


def client_ip(
    peer: str | None, forwarded_for: Sequence[str], proxies: Sequence[Network]
) -> str | None:
    """The peer, or, when the peer is a trusted proxy, the right-most ``X-Forwarded-For``
    hop that is not one (hops further left could be made up by the client)."""
    if peer is None:
        return None
    if not proxies or not _trusted(peer, proxies):
        ip = _address(peer)
        return str(ip) if ip is not None else None
    hops = [h.strip() for header in forwarded_for for h in header.split(",") if h.strip()]
    current = peer
    for hop in reversed(hops):
        if not _trusted(current, proxies):
            break
        current = hop
    ip = _address(current)
    return str(ip) if ip is not None else None
