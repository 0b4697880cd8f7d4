"""The one guard for outbound connections to addresses that users type in (SSRF).

Feed URLs, webhook URLs and any later outbound call a user can aim go through here, with
one policy and two checks:

* **On save**, ``check_url`` resolves the host name and refuses the URL, with a
  ``ValidationError`` naming the field, when any address it resolves to is not public:
  loopback, private, link-local (the cloud metadata service at 169.254.169.254), shared
  (carrier-grade NAT), multicast, reserved, unspecified, documentation and benchmark ranges,
  and IPv6 addresses that carry one of those inside (IPv4-mapped, IPv4-compatible, 6to4,
  NAT64). The person saving learns at once, not from a worker log later.
* **On connection**, ``resolve`` looks the name up again and checks every address, and the
  ``HTTPConnection`` classes connect to a checked address, never to the name: a DNS answer
  that changed since the save (rebinding) is caught, and no second lookup can slip in
  between the check and the connect.

An administrator allows internal receivers with ``TOLLGATE_OUTBOUND_ALLOW``: networks
(``10.20.0.0/16``, ``127.0.0.1``) or host names (``mirror.customs.local``,
``*.customs.local``). A refused address is never connected to, so the caller reports
"address not allowed" whether or not something listens there: the worker cannot be used
to scan the internal network.

Addresses the administrator configures (the SMTP relay, the database) are not user input
and do not go through this guard.
"""

import http.client
import ipaddress
import logging
import socket
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from flask import current_app, has_app_context

from app.core.errors import ValidationError

log = logging.getLogger("tollgate.outbound")

SCHEMES = ("http", "https")
MAX_URL_LENGTH = 1000

#: Python's ``is_global`` misses some of these (192.0.0.0/24 is "global" on 3.11)
_NOT_PUBLIC_V4 = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",  # "this network"
        "100.64.0.0/10",  # shared address space (carrier-grade NAT)
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",  # documentation
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",  # documentation
        "203.0.113.0/24",  # documentation
        "240.0.0.0/4",  # reserved, and the broadcast address
    )
)
_SHARED_V4 = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
_METADATA = {
    ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack ...
    ipaddress.ip_address("fd00:ec2::254"),  # AWS over IPv6
    ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
}


class OutboundError(Exception):
    """An outbound address could not be used; ``reason`` is safe to show and to store."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class AddressNotAllowed(OutboundError):
    """The target is not public and not allowed: nothing was (or may be) connected to."""


class ResolveFailed(OutboundError):
    """The host name did not resolve."""


# --- what is public -------------------------------------------------------------------------


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 address leads to (a mapped, translated or tunnelled one)."""
    found = []
    if ip.ipv4_mapped is not None:
        found.append(ip.ipv4_mapped)
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)
    if any(ip in net for net in _NAT64) or (ip in _IPV4_COMPATIBLE and int(ip) > 1):
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


def _own_kind(ip) -> str | None:
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip in _METADATA:
        return "cloud metadata"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if ip.version == 4 and ip in _SHARED_V4:
        return "shared (carrier-grade NAT)"
    if ip.is_reserved:
        return "reserved"
    if ip.is_private or (ip.version == 6 and ip.is_site_local):
        return "private"
    if not ip.is_global or (ip.version == 4 and any(ip in n for n in _NOT_PUBLIC_V4)):
        return "not publicly routable"
    return None


def non_public_kind(address) -> str | None:
    """What makes ``address`` internal ("loopback", "private" ...), or None if it is public."""
    ip = ipaddress.ip_address(str(address).split("%", 1)[0])  # drop an IPv6 zone (%eth0)
    if ip.version == 6:
        for inner in _embedded_ipv4(ip):
            kind = _own_kind(inner)
            if kind is not None:
                return f"{kind}, {inner} inside an IPv6 address"
    return _own_kind(ip)


# --- the administrator's allow-list ---------------------------------------------------------


def _host_key(host: str) -> str:
    return (host or "").strip().lower().rstrip(".")


@dataclass(frozen=True)
class Policy:
    """Networks and host names an administrator allows although they are internal."""

    networks: tuple = ()
    hosts: frozenset = frozenset()

    def allows_host(self, host: str) -> bool:
        host = _host_key(host)
        if host in self.hosts:
            return True
        return any(h.startswith("*.") and host.endswith(h[1:]) for h in self.hosts)

    def allows_address(self, address) -> bool:
        ip = ipaddress.ip_address(str(address).split("%", 1)[0])
        candidates = [ip, *(_embedded_ipv4(ip) if ip.version == 6 else [])]
        return any(
            c in net for c in candidates for net in self.networks if c.version == net.version
        )

    def with_hosts(self, hosts) -> "Policy":
        """This policy plus host names (a domain's own allow-list, such as the feeds').

        They are names, matched against the URL's host as written: "127.0.0.1" there allows
        a URL naming 127.0.0.1, not every name that resolves to it (a redirect to
        "localhost" is checked on its own)."""
        names = {_host_key(h) for h in hosts or () if _host_key(h)}
        return Policy(self.networks, self.hosts | names) if names else self


@lru_cache(maxsize=32)
def _parse(entries: tuple) -> Policy:
    networks, hosts = [], set()
    for raw in entries:
        entry = _host_key(raw)
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
            continue
        except ValueError:
            pass
        name = entry[2:] if entry.startswith("*.") else entry
        if not name or any(c in name for c in "/:@ []*"):
            # An entry that cannot be understood allows nothing: failing closed is safe.
            log.warning("TOLLGATE_OUTBOUND_ALLOW: ignoring %r (not a network or host name)", raw)
            continue
        hosts.add(entry)
    return Policy(tuple(networks), frozenset(hosts))


def parse_allow(entries) -> Policy:
    """A policy from networks and host names (a list, or one comma-separated string)."""
    if isinstance(entries, str):
        entries = entries.split(",")
    return _parse(tuple(str(e) for e in entries or ()))


def policy(extra_hosts=()) -> Policy:
    """The configured policy (``TOLLGATE_OUTBOUND_ALLOW``), plus ``extra_hosts``."""
    configured = current_app.config.get("TOLLGATE_OUTBOUND_ALLOW") if has_app_context() else ()
    base = parse_allow(configured)
    return base.with_hosts(extra_hosts) if extra_hosts else base


# --- resolving and checking -----------------------------------------------------------------


def resolve(host: str, port: int, allow: Policy | None = None) -> list[str]:
    """The addresses of ``host`` to connect to, each checked; raise if any is not allowed.

    Every address must pass, not only the first: an attacker's name answering with a public
    and a private address would otherwise win whenever the private one came first.
    """
    allow = allow if allow is not None else policy()
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        detail = getattr(exc, "strerror", None) or str(exc)
        raise ResolveFailed(f"cannot resolve host {host!r}: {detail}") from exc
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise ResolveFailed(f"host {host!r} has no address")
    if allow.allows_host(host):
        return addresses
    for address in addresses:
        kind = non_public_kind(address)
        if kind is not None and not allow.allows_address(address):
            raise AddressNotAllowed(f"{host} resolves to the non-public address {address} ({kind})")
    return addresses


def check_url(
    url: str, *, field: str = "url", allow: Policy | None = None, max_length: int = MAX_URL_LENGTH
) -> str:
    """Validate a URL a user saves for outbound use; return it stripped.

    Raises ``ValidationError({field: ...})``: not http(s), no host, credentials in it, a host
    that does not resolve, or one that resolves to an address that is not allowed.
    """
    url = (url or "").strip()
    if len(url) > max_length:
        raise ValidationError({field: f"is longer than {max_length} characters"})
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValidationError({field: f"is not a valid address ({exc})"}) from exc
    if parts.scheme not in SCHEMES or not parts.hostname:
        raise ValidationError({field: "must be an http:// or https:// address with a host"})
    if parts.username is not None or parts.password is not None:
        raise ValidationError({field: "must not contain a user name or password"})
    try:
        resolve(parts.hostname, port or (443 if parts.scheme == "https" else 80), allow)
    except AddressNotAllowed as exc:
        raise ValidationError(
            {
                field: f"is not allowed: {exc.reason}. Internal receivers must be allowed "
                "by an administrator (TOLLGATE_OUTBOUND_ALLOW)"
            }
        ) from exc
    except ResolveFailed as exc:
        raise ValidationError({field: exc.reason}) from exc
    return url


# --- connecting to a checked address ---------------------------------------------------------


def connect(addresses: list[str], port: int, timeout: float | None) -> socket.socket:
    """A TCP connection to the first of the checked ``addresses`` that answers."""
    error = None
    for address in addresses:
        try:
            return socket.create_connection((address, port), timeout)
        except OSError as exc:
            error = exc
    raise error or OSError("no address to connect to")


class HTTPConnection(http.client.HTTPConnection):
    """``http.client`` connecting to checked addresses; the Host header keeps the name."""

    def __init__(self, host, port, addresses, timeout):
        super().__init__(host, port, timeout=timeout)
        self._addresses = list(addresses)

    def connect(self):
        self.sock = connect(self._addresses, self.port, self.timeout)


class HTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host, port, addresses, timeout, context):
        super().__init__(host, port, timeout=timeout, context=context)
        self._addresses = list(addresses)
        self._ctx = context

    def connect(self):
        sock = connect(self._addresses, self.port, self.timeout)
        # SNI and the certificate check use the name; the TCP connection the checked address.
        self.sock = self._ctx.wrap_socket(sock, server_hostname=self.host)


def open_connection(parts, addresses, timeout, context=None):
    """An unconnected HTTP(S) connection for ``parts`` (a ``urlsplit`` result)."""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if parts.scheme == "https":
        import ssl

        return HTTPSConnection(
            parts.hostname, port, addresses, timeout, context or ssl.create_default_context()
        )
    return HTTPConnection(parts.hostname, port, addresses, timeout)
