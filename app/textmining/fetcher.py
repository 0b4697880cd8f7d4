"""A small, defensive HTTP client for feeds (stdlib ``http.client``).

Feeds are hostile input. Every request: only http/https, the host's addresses are resolved
and checked by the outbound guard (``app.core.outbound``: no loopback, private, link-local,
multicast, reserved or unspecified targets) and the connection goes to a checked address
(no second DNS lookup an attacker could rebind), redirects are followed by hand and
re-checked, the body is capped *after* decompression, and the whole exchange has a deadline.
"""

import contextlib
import http.client
import socket
import ssl
import threading
import time
import zlib
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

from app.core import outbound

USER_AGENT = "Tollgate-feeds/1.0 (+customs open-source monitoring)"
DEFAULT_TIMEOUT = 15.0
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
MAX_REDIRECTS = 5
_CHUNK = 64 * 1024


class FetchError(Exception):
    """The feed could not be fetched; ``reason`` is shown to the administrator.

    ``network`` is True when no answer came at all (name not resolved, connection refused or
    reset, timeout, TLS failure): the host is down, as opposed to answering with an error."""

    def __init__(
        self,
        reason: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        network: bool = False,
    ):
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.retry_after = retry_after
        self.network = network


class BlockedAddress(FetchError):
    """The target (or a redirect) points at an address feeds may not reach."""


@dataclass
class FetchResult:
    url: str
    status: int
    body: bytes = b""
    headers: dict = field(default_factory=dict)
    #: seconds the server asked us to wait (Retry-After / Cache-Control max-age), if any
    retry_after: float | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def resolve_checked(host: str, port: int, allowed_hosts=()) -> list[str]:
    """Resolve ``host`` and return the checked addresses to connect to, or raise.

    The outbound guard (``app.core.outbound``) decides: every address must be public unless
    the administrator allows it (``TOLLGATE_OUTBOUND_ALLOW``) or the host is one of
    ``allowed_hosts`` (the feeds' own allow-list)."""
    try:
        return outbound.resolve(host, port, outbound.policy(allowed_hosts))
    except outbound.AddressNotAllowed as exc:
        raise BlockedAddress(
            f"refused: {exc.reason} (an administrator can allow this host)"
        ) from exc
    except outbound.ResolveFailed as exc:
        raise FetchError(exc.reason, network=True) from exc


def _parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - time.time())


def _max_age(cache_control: str | None) -> float | None:
    for part in (cache_control or "").split(","):
        name, _, value = part.strip().partition("=")
        if name.lower() == "max-age" and value.strip().isdigit():
            return float(value.strip())
    return None


def _read_capped(response, encoding: str, max_bytes: int, deadline: float) -> bytes:
    """Read and decompress, counting decompressed bytes against ``max_bytes``."""
    if encoding in ("gzip", "x-gzip"):
        decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
    elif encoding == "deflate":
        decoder = zlib.decompressobj()
    elif encoding in ("", "identity"):
        decoder = None
    else:
        raise FetchError(f"unsupported Content-Encoding {encoding!r}")
    out = bytearray()
    while True:
        if time.monotonic() > deadline:
            raise FetchError("timed out while reading the response", network=True)
        chunk = response.read1(_CHUNK) if hasattr(response, "read1") else response.read(_CHUNK)
        if not chunk:
            break
        if decoder is not None:
            try:
                # max_length bounds each step, so a decompression bomb never expands in memory
                data = decoder.decompress(chunk, max_bytes + 1 - len(out))
                while decoder.unconsumed_tail and len(out) + len(data) <= max_bytes:
                    data += decoder.decompress(
                        decoder.unconsumed_tail, max_bytes + 1 - len(out) - len(data)
                    )
            except zlib.error as exc:
                raise FetchError(f"corrupt {encoding} body: {exc}") from exc
        else:
            data = chunk
        out += data
        if len(out) > max_bytes:
            raise FetchError(f"response larger than {max_bytes} bytes (after decompression)")
    if decoder is not None:
        out += decoder.flush()
        if len(out) > max_bytes:
            raise FetchError(f"response larger than {max_bytes} bytes (after decompression)")
    return bytes(out)


def _abort(conn) -> None:
    sock = conn.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _request_headers(etag: str | None, last_modified: str | None) -> dict:
    headers = {
        "User-Agent": USER_AGENT,
        "Accept-Encoding": "gzip, deflate",
        "Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, "
        "text/xml;q=0.8, */*;q=0.5",
    }
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    return headers


def _checked_target(url: str, allowed_hosts):
    """The URL's parts and the addresses it may be fetched from (each hop is checked: a
    redirect to a private address is refused like the first URL)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise BlockedAddress(f"refused: scheme {parts.scheme or '(none)'!r} is not http(s)")
    if not parts.hostname:
        raise FetchError(f"no host in URL {url!r}")
    if parts.username or parts.password:
        raise FetchError("URLs with credentials are not accepted")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts, resolve_checked(parts.hostname, port, allowed_hosts)


def _answer(response, current: str, max_bytes: int, deadline: float) -> FetchResult | str:
    """The result of one response, or the URL a redirect points to."""
    status = response.status
    resp_headers = {k.lower(): v for k, v in response.getheaders()}
    if status in (301, 302, 303, 307, 308):
        location = resp_headers.get("location")
        if not location:
            raise FetchError(f"HTTP {status} redirect without a Location", status=status)
        return urljoin(current, location)
    retry_after = _parse_retry_after(resp_headers.get("retry-after"))
    if status == 304:
        return FetchResult(current, status, b"", resp_headers, retry_after)
    if status >= 400:
        raise FetchError(
            f"HTTP {status} {response.reason}".strip(), status=status, retry_after=retry_after
        )
    body = _read_capped(
        response, resp_headers.get("content-encoding", "").lower(), max_bytes, deadline
    )
    if time.monotonic() > deadline:
        raise FetchError("timed out while reading the response", network=True)
    if retry_after is None:
        retry_after = _max_age(resp_headers.get("cache-control"))
    return FetchResult(current, status, body, resp_headers, retry_after)


def _hop(conn, parts, headers: dict, current: str, max_bytes: int, deadline: float, remaining):
    """One request on an open connection: its result or the redirect's URL."""
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    # A watchdog closes the socket at the deadline: a server dripping one byte at a time
    # would otherwise satisfy every per-read timeout forever.
    watchdog = threading.Timer(remaining, _abort, args=(conn,))
    watchdog.daemon = True
    watchdog.start()
    response = None
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return _answer(response, current, max_bytes, deadline)
    except TimeoutError as exc:
        raise FetchError("timed out", network=True) from exc
    except ssl.SSLError as exc:
        raise FetchError(f"TLS error: {exc.reason or exc}", network=True) from exc
    except (OSError, http.client.HTTPException) as exc:
        if time.monotonic() >= deadline:
            raise FetchError("timed out", network=True) from exc
        raise FetchError(f"connection failed: {exc}", network=True) from exc
    finally:
        watchdog.cancel()
        if response is not None:
            response.close()
        conn.close()


def fetch(
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_BYTES,
    allowed_hosts=(),
    max_redirects: int = MAX_REDIRECTS,
) -> FetchResult:
    """GET ``url`` with conditional headers; raise FetchError (or BlockedAddress)."""
    deadline = time.monotonic() + timeout
    context = ssl.create_default_context()
    headers = _request_headers(etag, last_modified)
    current = url
    for _hop_number in range(max_redirects + 1):
        parts, addresses = _checked_target(current, allowed_hosts)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise FetchError("timed out", network=True)
        conn = outbound.open_connection(parts, addresses, remaining, context)
        answer = _hop(conn, parts, headers, current, max_bytes, deadline, remaining)
        if isinstance(answer, FetchResult):
            return answer
        current = answer
    raise FetchError(f"more than {max_redirects} redirects")
