"""The outbound-address policy: nodes may reach the public internet, not the internal network.

    ssrf.check_url("http://10.0.0.1/")          # raises OutboundRefused
    ssrf.GuardedBackend()                       # httpcore network backend enforcing it

The check is made where the connection is opened, on the address actually connected to: the
backend resolves the host once, validates every resolved address, and connects to a validated
IP (TLS still verifies and sends SNI for the original name, and the Host header is untouched).
So every spelling of an address (2130706433, 0x7f000001, 0177.0.0.1, 127.1, [::1],
[::ffff:127.0.0.1], trailing dots, user@host tricks) is judged by what it resolves to, a DNS
answer cannot change between check and connect, and every redirect hop, being a new
connection, is checked again.

Refused: loopback, private (RFC 1918, unique-local), link-local, CGNAT (100.64/10),
multicast, unspecified, reserved and other non-global ranges, IPv4 embedded in IPv6
(mapped, NAT64, 6to4, Teredo), and cloud metadata endpoints by address or name. The operator
opens specific targets with WFAIB_HTTP_ALLOW: `host` or `ip` (every port), `host:port`,
`ip:port` or `[ipv6]:port` (that port only), and CIDRs (every port). Prefer `host:port`.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import httpcore
from httpcore._backends.sync import SyncBackend

from wfaib.conf import wfaib_settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

ALLOWED_SCHEMES = ("http", "https")
METADATA_HOSTS = frozenset({
    "metadata.google.internal", "metadata.goog", "metadata", "instance-data",
    "instance-data.ec2.internal", "metadata.azure.internal",
})
METADATA_ADDRESSES = frozenset({
    ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack, ...
    ipaddress.ip_address("169.254.170.2"),  # AWS ECS task credentials
    ipaddress.ip_address("fd00:ec2::254"),  # AWS over IPv6
    ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
})
CGNAT = ipaddress.ip_network("100.64.0.0/10")
NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


class OutboundRefused(httpcore.ConnectError):
    """An outbound request was refused by the address policy; the message says why."""


def allow_setting() -> list[str]:
    return list(wfaib_settings.HTTP_ALLOW or [])


ANY_PORT = 0  # an allowlist entry without a port opens every port of its host


def _split_port(entry: str) -> tuple[str, int]:
    """`host:port`, `ip:port`, `[ipv6]:port` -> (host, port); anything else -> (entry, 0)."""
    if entry.startswith("["):
        host, _, rest = entry[1:].partition("]")
        port = rest.removeprefix(":")
        return host, int(port) if port.isdigit() else ANY_PORT
    host, sep, port = entry.rpartition(":")
    if sep and host.count(":") == 0 and port.isdigit():
        return host.rstrip("."), int(port)
    return entry, ANY_PORT


@lru_cache(maxsize=32)
def _parse_allowlist(entries: tuple[str, ...]) -> tuple[dict[str, frozenset[int]],
                                                        tuple[Network, ...]]:
    """Host names and IPs with their allowed ports ({ANY_PORT} = all), and CIDR networks."""
    hosts: dict[str, set[int]] = {}
    networks: list[Network] = []
    for raw in entries:
        entry = raw.strip().lower().rstrip(".")
        if not entry:
            continue
        host, port = _split_port(entry)
        if port == ANY_PORT and "/" in host:
            try:
                networks.append(ipaddress.ip_network(host, strict=False))
                continue
            except ValueError:
                pass
        try:  # an IP in any spelling ipaddress reads is kept in its canonical form
            host = str(ipaddress.ip_address(host))
        except ValueError:
            pass
        hosts.setdefault(host, set()).add(port)
    return {h: frozenset(p) for h, p in hosts.items()}, tuple(networks)


def _port_ok(ports: frozenset[int] | None, port: int | None) -> bool:
    return ports is not None and (ANY_PORT in ports or port is None or port in ports)


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    for net in NAT64:
        if ip in net:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def classify(ip: IPAddress) -> str | None:
    """Why `ip` is not a public address ("a private address"), or None when it is public."""
    inner = _embedded_ipv4(ip)
    if inner is not None:
        reason = classify(inner)
        return reason or None
    if ip in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast:
        return "a multicast address"
    if isinstance(ip, ipaddress.IPv4Address) and ip in CGNAT:
        return "a carrier-grade NAT (CGNAT) address"
    if ip.is_reserved:
        return "a reserved address"
    if ip.is_private:
        return "a private address"
    if not ip.is_global:
        return "not a public address"
    return None


def _normalize_host(host: str) -> str:
    return host.strip().strip("[]").lower().rstrip(".")


def is_allowed(host: str, ip: IPAddress, allow: Iterable[str] | None = None,
               port: int | None = None) -> bool:
    """Whether the allowlist opens `ip` (resolved from `host`) on `port` (None: any port)."""
    hosts, networks = _parse_allowlist(tuple(allow_setting() if allow is None else allow))
    candidates = [ip]
    inner = _embedded_ipv4(ip)
    if inner is not None:
        candidates.append(inner)
    if _port_ok(hosts.get(_normalize_host(host)), port) or \
            any(_port_ok(hosts.get(str(c)), port) for c in candidates):
        return True
    return any(c.version == net.version and c in net for c in candidates for net in networks)


def host_refusal(host: str, allow: Iterable[str] | None = None) -> str | None:
    """Refuse known cloud-metadata host names before they are even resolved."""
    name = _normalize_host(host)
    if name in METADATA_HOSTS:
        hosts, _ = _parse_allowlist(tuple(allow_setting() if allow is None else allow))
        if name not in hosts:
            return f"refused: {name} is a cloud metadata host; allow it with WFAIB_HTTP_ALLOW"
    return None


def refusal(host: str, ip: IPAddress, allow: Iterable[str] | None = None,
            port: int | None = None) -> str | None:
    """The refusal message for connecting to `ip` (resolved from `host`) on `port`, or None if
    allowed."""
    name = _normalize_host(host)
    message = host_refusal(host, allow)
    if message:
        return message
    reason = classify(ip)
    if reason is None or is_allowed(host, ip, allow, port):
        return None
    shown = str(ip) if name == str(ip) else f"{name} ({ip})"
    if port is not None and is_allowed(host, ip, allow):  # allowed, but on other ports
        return (f"refused: port {port} of {shown} is not allowed; add {name}:{port} to "
                f"WFAIB_HTTP_ALLOW")
    return f"refused: {shown} is {reason}; allow it with WFAIB_HTTP_ALLOW"


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to (IP literals in any spelling included)."""
    name = _normalize_host(host)
    try:
        return [ipaddress.ip_address(name)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(name, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise httpcore.ConnectError(f"cannot resolve {name}: {exc}") from None
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        ip = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if ip not in addresses:
            addresses.append(ip)
    return addresses


def check_scheme(url: str) -> None:
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise OutboundRefused(
            f"refused: only http and https URLs may be requested, not {scheme or 'no'} scheme"
        )


def check_url(url: str, allow: Iterable[str] | None = None) -> None:
    """Refuse `url` now if its scheme or any address it resolves to is not allowed.

    A pre-flight for clear messages; the connection itself is guarded by GuardedBackend."""
    check_scheme(url)
    parts = urlsplit(url)
    if not parts.hostname:
        raise OutboundRefused("refused: the URL has no host")
    port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    message = host_refusal(parts.hostname, allow)
    if message:
        raise OutboundRefused(message)
    for ip in resolve(parts.hostname, port):
        message = refusal(parts.hostname, ip, allow, port)
        if message:
            raise OutboundRefused(message)


def checked_address(host: str, port: int) -> IPAddress:
    """The address to connect to for `host`:`port` under the policy (for connections that are
    not HTTP: databases, SMTP, IMAP). Every address the name resolves to must be allowed; the
    caller connects to the one returned, so a DNS answer cannot change in between."""
    message = host_refusal(host)
    if message:
        raise OutboundRefused(message)
    addresses = resolve(host, port)
    if not addresses:
        raise httpcore.ConnectError(f"cannot resolve {host}")
    for ip in addresses:
        message = refusal(host, ip, port=port)
        if message:
            raise OutboundRefused(message)
    return addresses[0]


def allowed_addresses(host: str, port: int, *, refused: type[Exception],
                      unresolved: type[Exception]) -> list[Any]:
    """The addresses `host` resolves to, every one allowed by the policy; else raises
    `refused(why)` (one refused address refuses the name: no mixed answers) or
    `unresolved(...)`. Shared by the httpcore and httpcore2 backends."""
    message = host_refusal(host)
    if message:
        raise refused(message)
    addresses = resolve(host, port)
    if not addresses:
        raise unresolved(f"cannot resolve {host}")
    for ip in addresses:
        message = refusal(host, ip, port=port)
        if message:
            raise refused(message)
    return list(addresses)


def connect_first[T](addresses: list[Any], connect: Callable[[str], T],
                     retryable: tuple[type[Exception], ...]) -> T:
    """The first address that connects; the last error if none does."""
    last: Exception | None = None
    for ip in addresses:
        try:
            return connect(str(ip))
        except retryable as exc:
            last = exc
    assert last is not None
    raise last


class GuardedBackend(SyncBackend):
    """httpcore's sync network backend, connecting only to validated addresses."""

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        addresses = allowed_addresses(host, port, refused=OutboundRefused,
                                      unresolved=httpcore.ConnectError)
        return connect_first(
            addresses,
            lambda ip: super(GuardedBackend, self).connect_tcp(
                ip, port, timeout=timeout, local_address=local_address,
                socket_options=socket_options),
            (httpcore.ConnectError, httpcore.ConnectTimeout))

    def connect_unix_socket(self, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        raise OutboundRefused("refused: unix sockets are not allowed")
