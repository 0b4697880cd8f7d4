"""Property tests: the feed fetcher never reaches a private, loopback, link-local or otherwise
non-public address, whether named directly, through a DNS name, or through a redirect."""

import ipaddress
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.textmining.fetcher import BlockedAddress, fetch, resolve_checked

NON_PUBLIC_V4 = [
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/29",
    "192.0.2.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/4",
    "240.0.0.0/4",
]
NON_PUBLIC_V6 = ["::1/128", "::/128", "fc00::/7", "fe80::/10", "ff00::/8", "2001:db8::/32"]

non_public_v4 = st.sampled_from(NON_PUBLIC_V4).flatmap(lambda n: st.ip_addresses(network=n))
non_public_v6 = st.sampled_from(NON_PUBLIC_V6).flatmap(lambda n: st.ip_addresses(network=n))
non_public = st.one_of(
    non_public_v4,
    non_public_v6,
    # IPv4-mapped IPv6 (::ffff:10.0.0.1) must not smuggle a private IPv4 address through.
    non_public_v4.map(lambda a: ipaddress.IPv6Address(f"::ffff:{a}")),
)
SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))


def _literal(addr) -> str:
    return f"[{addr}]" if addr.version == 6 else str(addr)


@SETTINGS
@given(addr=non_public)
def test_literal_non_public_addresses_are_refused(addr):
    with pytest.raises(BlockedAddress):
        resolve_checked(str(addr), 80)
    with pytest.raises(BlockedAddress):
        fetch(f"http://{_literal(addr)}/feed.xml", timeout=2)


@SETTINGS
@given(
    name=st.from_regex(r"\A[a-z][a-z0-9-]{0,20}\.(example|test|invalid)\Z"),
    bad=non_public,
    good=st.lists(st.sampled_from(["93.184.216.34", "151.101.1.69"]), max_size=2),
)
def test_names_resolving_to_any_non_public_address_are_refused(name, bad, good, monkeypatch):
    """DNS answers are the attacker's: one private address among public ones is enough."""
    answers = [*good, str(bad)]

    def fake_getaddrinfo(host, port, *args, **kwargs):
        assert host == name
        family = socket.AF_INET6 if ":" in answers[0] else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (a, port)) for a in answers]

    with monkeypatch.context() as m:
        m.setattr(socket, "getaddrinfo", fake_getaddrinfo)
        with pytest.raises(BlockedAddress):
            resolve_checked(name, 443)


class _Redirector(BaseHTTPRequestHandler):
    target = "http://127.0.0.1/"

    def do_GET(self):  # noqa: N802 - http.server's naming
        self.send_response(302)
        self.send_header("Location", type(self).target)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def redirector():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Redirector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/feed.xml"
    server.shutdown()
    server.server_close()


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    target=st.one_of(
        non_public.map(lambda a: f"http://{_literal(a)}/latest"),
        non_public_v4.map(lambda a: f"https://{a}:8443/x"),
        st.sampled_from(
            [
                "http://localhost/admin",
                "http://169.254.169.254/latest/meta-data/",
                "file:///etc/passwd",
                "gopher://127.0.0.1:25/",
                "ftp://10.0.0.1/",
            ]
        ),
    )
)
def test_redirects_to_non_public_targets_are_refused(redirector, target):
    """127.0.0.1 is allowed (the feed server); where it redirects to is checked again."""
    _Redirector.target = target
    with pytest.raises(BlockedAddress):
        fetch(redirector, timeout=5, allowed_hosts=("127.0.0.1",))
