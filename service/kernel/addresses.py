"""The client's address: the TCP peer, or what trusted reverse proxies say it was.

Behind nginx or a load balancer every request comes from the proxy, so the sign-in throttle
would put every user on one counter. `X-Forwarded-For` fixes that only when it can be
believed: it is read when the direct peer is one of `TRUSTED_PROXIES`, from the right (each
proxy appends the address it saw), skipping trusted proxies, and the first address that is
not a trusted proxy is the client. Anything left of it was written by the client and proves
nothing. With no trusted proxies (the default) the header is ignored.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any

from litestar.connection import ASGIConnection

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

UNKNOWN = "unknown"


def parse_networks(raw: str) -> tuple[IPNetwork, ...]:
    """`10.0.0.0/8, 192.168.1.7, ::1` as networks (a bare address is a /32 or /128)."""
    return tuple(
        ipaddress.ip_network(part.strip(), strict=False) for part in raw.split(",") if part.strip()
    )


def _address(text: str) -> IPAddress | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]:443"
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # "203.0.113.7:51000"
        text = text.partition(":")[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _trusted(address: IPAddress, proxies: Sequence[IPNetwork]) -> bool:
    return any(address in network for network in proxies)


def resolve(peer: str | None, forwarded_for: list[str], proxies: Sequence[IPNetwork]) -> str:
    """The client's address from the TCP peer and the `X-Forwarded-For` values, in order."""
    if not peer:
        return UNKNOWN
    current = _address(peer)
    if current is None or not proxies or not _trusted(current, proxies):
        return peer
    hops = [hop for value in forwarded_for for hop in value.split(",") if hop.strip()]
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            break  # garbage a trusted proxy passed on: the last proxy is all we know
        current = address
        if not _trusted(address, proxies):
            break
    return str(current)


def client_address(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The address a request comes from, as far as the configured proxies can be believed."""
    proxies: tuple[IPNetwork, ...] = connection.app.state.settings.trusted_proxies
    client = connection.scope.get("client")
    peer = client[0] if client else None
    return resolve(peer, connection.headers.getall("x-forwarded-for", []), proxies)
