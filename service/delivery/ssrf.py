"""Where webhooks may go: ``http(s)`` URLs whose host resolves only to public addresses.

Checked when an endpoint is registered or changed (so an admin hears at once) and again
before every delivery, on the addresses the request then connects to (a name that resolved
to a public address yesterday may resolve to 127.0.0.1 today: DNS rebinding). Refused:
loopback, private (RFC 1918, unique-local), link-local (169.254.0.0/16 holds the cloud
metadata services), carrier-grade NAT (100.64.0.0/10, Alibaba's metadata), multicast,
reserved, unspecified, and IPv6 forms that embed an IPv4 address. A name with any such
address is refused whole. ``COMMENTS_WEBHOOK_ALLOW_PRIVATE=true`` lifts the rule (tests,
private networks); the scheme rule stays.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from typing import Callable
from urllib.parse import SplitResult, urlsplit

from ..domain.webhooks import MAX_URL

SCHEMES = {"http": 80, "https": 443}
# Named explicitly as well: some are also covered by the ranges above, all are refused.
METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "100.100.100.200", "fd00:ec2::254")
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_6TO4 = ipaddress.ip_network("2002::/16")

Resolver = Callable[[str, int], list[str]]


class Refused(ValueError):
    """A URL the service will not send to; ``str()`` says why."""


def system_resolver(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (the system's resolver, as a connection would)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise Refused(f"the host name {host!r} does not resolve ({exc})") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


# Tests replace this to play a DNS rebinding (a name that changes its answer).
resolver: Resolver = system_resolver


def address_problem(raw: str) -> str | None:
    """Why an address is not public, or None."""
    ip = ipaddress.ip_address(raw.split("%", 1)[0])
    if ip in METADATA:
        return "a cloud metadata address"
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None or ip in _NAT64 or ip in _6TO4:
            return "an IPv6 address that embeds an IPv4 one"
    for label, flag in (
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("unspecified", ip.is_unspecified),
        ("reserved", ip.is_reserved),
        ("private", ip.is_private),
    ):
        if flag:
            return f"a {label} address"
    if not ip.is_global:
        return "not a public address"
    return None


@dataclass(frozen=True)
class Target:
    """Where one request goes: the URL's parts and the checked addresses to connect to."""

    scheme: str
    host: str  # as in the URL (the Host header and the TLS server name)
    port: int
    path: str  # path and query, at least "/"
    addresses: tuple[str, ...]


def parse(url: str) -> SplitResult:
    """The URL's parts, if its shape is acceptable (Refused otherwise)."""
    if len(url) > MAX_URL:
        raise Refused(f"longer than {MAX_URL} characters")
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        raise Refused("contains spaces or control characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises on a port out of range)
    except ValueError as exc:
        raise Refused(f"not a URL ({exc})") from None
    if parts.scheme.lower() not in SCHEMES:
        raise Refused("only http:// and https:// URLs are allowed")
    if not parts.hostname:
        raise Refused("the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise Refused("credentials in the URL are not supported; put a token in the path")
    if parts.fragment:
        raise Refused("a URL fragment is never sent; remove it")
    return parts


def check(url: str, *, allow_private: bool, resolve: Resolver | None = None) -> Target:
    """The target of ``url`` with its addresses resolved and checked, or Refused."""
    parts = parse(url)
    host = parts.hostname or ""
    scheme = parts.scheme.lower()
    port = parts.port or SCHEMES[scheme]
    try:
        literal: str | None = str(ipaddress.ip_address(host.split("%", 1)[0]))
    except ValueError:
        literal = None
    addresses = [literal] if literal else (resolve or resolver)(host, port)
    if not addresses:
        raise Refused(f"the host name {host!r} has no address")
    if not allow_private:
        for address in addresses:
            problem = address_problem(address)
            if problem:
                shown = host if literal else f"{host} ({address})"
                raise Refused(
                    f"{shown} is {problem}; webhooks go only to public addresses "
                    "(COMMENTS_WEBHOOK_ALLOW_PRIVATE=true lifts this for private networks)"
                )
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(scheme, host, port, path, tuple(addresses))


__all__ = ["Refused", "Target", "address_problem", "check", "parse", "resolver"]
