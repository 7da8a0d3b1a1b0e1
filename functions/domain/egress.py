"""Where a webhook may point: the guard against server-side request forgery (SSRF).

A webhook URL is an address on the internet the delivery function will connect to on a
submitter's behalf, so it must never lead back inside: to this machine, a private network, a
cloud metadata service. ``checked_target`` applies the whole policy, at registration and again
at every delivery (a DNS answer can change in between):

- the URL: absolute ``https`` (``http`` only where loopback is allowed, see below), printable
  ASCII (an international host name in its ``xn--`` form), a host, no user name or password, no
  fragment, at most ``MAX_URL_LENGTH`` characters;
- the host is resolved once (``resolve``, injected) and **every** address it resolves to must be
  one the internet routes (``refusal_of``): no unspecified (``0.0.0.0``, ``::``), loopback,
  private (RFC 1918), shared (CGNAT, ``100.64.0.0/10``), link-local, unique-local
  (``fc00::/7``), multicast, reserved or documentation address, and no cloud metadata address
  (``169.254.169.254``, ``fd00:ec2::254``); an IPv6 address carrying an IPv4 one (IPv4-mapped
  ``::ffff:a.b.c.d``, IPv4-compatible, NAT64 ``64:ff9b::/96``, 6to4) is judged by the IPv4 one;
- the caller connects to the checked addresses (``Target.addresses``), never resolving again.

``allow_loopback`` (the local stack's setting, never the default) admits loopback addresses,
and plain ``http`` to them only: how a receiver on ``http://127.0.0.1`` is reached locally.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

MAX_URL_LENGTH = 2048

# host, port -> the addresses it resolves to (numeric strings); raises OSError when it cannot.
Resolve = Callable[[str, int], Sequence[str]]

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class Refusal(StrEnum):
    """Why a URL or an address is refused."""

    NOT_A_URL = "not_a_url"
    SCHEME = "scheme"
    CREDENTIALS = "credentials"
    FRAGMENT = "fragment"
    TOO_LONG = "too_long"
    UNRESOLVABLE = "unresolvable"
    UNSPECIFIED = "unspecified"
    LOOPBACK = "loopback"
    METADATA = "metadata"
    LINK_LOCAL = "link_local"
    SHARED = "shared_address_space"
    PRIVATE = "private"
    UNIQUE_LOCAL = "unique_local"
    MULTICAST = "multicast"
    RESERVED = "reserved"


_EXPLAINED = {
    Refusal.UNSPECIFIED: "the unspecified address",
    Refusal.LOOPBACK: "a loopback address (this machine)",
    Refusal.METADATA: "a cloud metadata service",
    Refusal.LINK_LOCAL: "a link-local address",
    Refusal.SHARED: "shared address space (carrier-grade NAT)",
    Refusal.PRIVATE: "a private network address",
    Refusal.UNIQUE_LOCAL: "a unique-local (private IPv6) address",
    Refusal.MULTICAST: "a multicast address",
    Refusal.RESERVED: "a reserved or documentation address the internet does not route",
}


class UnsafeUrl(ValueError):
    """A webhook URL the policy refuses; ``reason`` says which rule, the message what to do."""

    def __init__(self, reason: Refusal, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (``addresses``) and what to ask for there."""

    url: str
    scheme: str
    host: str  # as the URL names it: the TLS server name and the Host header
    port: int
    path: str  # with the query, as sent in the request line
    addresses: tuple[str, ...]

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        name = f"[{self.host}]" if ":" in self.host else self.host
        return name if self.port == default else f"{name}:{self.port}"


_METADATA = (ipaddress.ip_network("169.254.169.254/32"), ipaddress.ip_network("fd00:ec2::254/128"))
_V4_RULES: tuple[tuple[ipaddress.IPv4Network, Refusal], ...] = tuple(
    (ipaddress.IPv4Network(net), why)
    for net, why in (
        ("0.0.0.0/8", Refusal.UNSPECIFIED),
        ("127.0.0.0/8", Refusal.LOOPBACK),
        ("169.254.0.0/16", Refusal.LINK_LOCAL),
        ("100.64.0.0/10", Refusal.SHARED),
        ("10.0.0.0/8", Refusal.PRIVATE),
        ("172.16.0.0/12", Refusal.PRIVATE),
        ("192.168.0.0/16", Refusal.PRIVATE),
        ("224.0.0.0/4", Refusal.MULTICAST),
    )
)
_V6_RULES: tuple[tuple[ipaddress.IPv6Network, Refusal], ...] = tuple(
    (ipaddress.IPv6Network(net), why)
    for net, why in (
        ("::/128", Refusal.UNSPECIFIED),
        ("::1/128", Refusal.LOOPBACK),
        ("fe80::/10", Refusal.LINK_LOCAL),
        ("fc00::/7", Refusal.UNIQUE_LOCAL),
        ("ff00::/8", Refusal.MULTICAST),
    )
)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped, compatible, NAT64, 6to4), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64 or (0 < int(address) < 2**32 and int(address) != 1):  # ::a.b.c.d
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def refusal_of(address: str, *, allow_loopback: bool = False) -> Refusal | None:
    """Why a connection to ``address`` (a numeric IPv4 or IPv6 address) is refused, or None."""
    try:
        ip: IpAddress = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return Refusal.RESERVED
    if isinstance(ip, ipaddress.IPv6Address) and (inner := _embedded_ipv4(ip)) is not None:
        ip = inner
    if any(ip in net for net in _METADATA):
        return Refusal.METADATA
    rules: Sequence[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, Refusal]] = (
        _V4_RULES if isinstance(ip, ipaddress.IPv4Address) else _V6_RULES
    )
    found = next((why for net, why in rules if ip in net), None)
    if found is None and not ip.is_global:
        found = Refusal.RESERVED  # documentation, benchmarking, 240/4, broadcast, IETF blocks...
    if found is Refusal.LOOPBACK and allow_loopback:
        return None
    return found


def _refuse(reason: Refusal, detail: str) -> UnsafeUrl:
    return UnsafeUrl(reason, detail)


def _split(url: str, *, allow_loopback: bool) -> tuple[str, str, int, str]:
    """(scheme, host, port, path with query) of a URL that passes the static rules."""
    if len(url) > MAX_URL_LENGTH:
        raise _refuse(Refusal.TOO_LONG, f"The URL is longer than {MAX_URL_LENGTH} characters.")
    if not url.isascii() or not url.isprintable() or " " in url:
        raise _refuse(
            Refusal.NOT_A_URL,
            "The URL must be printable ASCII without spaces: percent-encode the path and write an "
            "international host name in its xn-- form.",
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise _refuse(Refusal.NOT_A_URL, f"The URL cannot be read ({error}).") from None
    scheme = parts.scheme.lower()
    allowed = ("https", "http") if allow_loopback else ("https",)
    if scheme not in allowed:
        raise _refuse(Refusal.SCHEME, "The URL must start with https://.")
    if not parts.hostname:
        raise _refuse(Refusal.NOT_A_URL, "The URL has no host.")
    if parts.username is not None or parts.password is not None:
        raise _refuse(Refusal.CREDENTIALS, "The URL must not carry a user name or password.")
    if parts.fragment or url.endswith("#"):
        raise _refuse(Refusal.FRAGMENT, "The URL must not have a #fragment (it is never sent).")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return scheme, parts.hostname.lower(), port or (443 if scheme == "https" else 80), path


def _addresses(host: str, port: int, resolve: Resolve) -> tuple[str, ...]:
    try:
        literal = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        literal = None
    if literal is not None:
        return (host,)
    try:
        found = tuple(dict.fromkeys(str(a) for a in resolve(host, port)))
    except (OSError, UnicodeError):
        found = ()
    if not found:
        raise _refuse(Refusal.UNRESOLVABLE, f"The host {host} cannot be resolved.")
    return found


def checked_target(url: str, resolve: Resolve, *, allow_loopback: bool = False) -> Target:
    """``url`` checked against the whole policy, with the addresses to connect to; else ``UnsafeUrl``."""
    scheme, host, port, path = _split(url, allow_loopback=allow_loopback)
    addresses = _addresses(host, port, resolve)
    for address in addresses:
        reason = refusal_of(address, allow_loopback=allow_loopback)
        if reason is not None:
            raise _refuse(reason, f"The host {host} resolves to {address}, {_EXPLAINED[reason]}.")
    if scheme == "http" and not all(refusal_of(a) is Refusal.LOOPBACK for a in addresses):
        raise _refuse(Refusal.SCHEME, "The URL must start with https:// (plain http is for loopback only).")
    return Target(url=url, scheme=scheme, host=host, port=port, path=path, addresses=addresses)
