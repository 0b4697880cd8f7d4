"""The outbound guard (app/core/outbound.py): what counts as internal, the allow-list, and
the save-time check's errors."""

import pytest

from app.core import outbound
from app.core.errors import ValidationError
from tests.fake_dns import fake_dns


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("10.20.30.40", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "cloud metadata"),
        ("169.254.10.1", "link-local"),
        ("100.64.0.1", "shared (carrier-grade NAT)"),
        ("0.0.0.0", "unspecified"),  # noqa: S104 - an address to classify, not to bind
        ("224.0.0.251", "multicast"),
        ("192.0.0.8", "not publicly routable"),
        ("240.0.0.1", "reserved"),
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fe80::1%eth0", "link-local"),
        ("fd00:ec2::254", "cloud metadata"),
        ("fc00::1", "private"),
        ("ff02::1", "multicast"),
        ("::ffff:127.0.0.1", "loopback, 127.0.0.1 inside an IPv6 address"),
        ("::ffff:10.0.0.1", "private, 10.0.0.1 inside an IPv6 address"),
        ("2002:a9fe:a9fe::", "cloud metadata, 169.254.169.254 inside an IPv6 address"),  # 6to4
        ("64:ff9b::7f00:1", "loopback, 127.0.0.1 inside an IPv6 address"),  # NAT64
    ],
)
def test_internal_addresses_are_named(address, kind):
    assert outbound.non_public_kind(address) == kind


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_pass(address):
    assert outbound.non_public_kind(address) is None


def test_allow_list_of_networks_and_names():
    allow = outbound.parse_allow("10.20.0.0/16, 127.0.0.1, soar.customs.local, *.intra.local, x/y")
    assert allow.allows_address("10.20.3.4") and not allow.allows_address("10.21.0.1")
    assert allow.allows_address("::ffff:127.0.0.1")  # the same address, IPv4-mapped
    assert allow.allows_host("SOAR.customs.local.") and allow.allows_host("a.intra.local")
    assert not allow.allows_host("intra.local") and not allow.allows_host("x/y")


def test_names_allowed_for_one_domain_are_matched_as_written():
    """The feeds' allowed hosts are names: "127.0.0.1" there does not allow "localhost"."""
    allow = outbound.Policy().with_hosts(["127.0.0.1"])
    assert outbound.resolve("127.0.0.1", 80, allow) == ["127.0.0.1"]
    with pytest.raises(outbound.AddressNotAllowed):
        outbound.resolve("localhost", 80, allow)


def test_every_answer_must_pass(monkeypatch):
    fake_dns(monkeypatch, {"mixed.example": ["93.184.215.14", "10.0.0.1"]})
    with pytest.raises(outbound.AddressNotAllowed, match="10.0.0.1"):
        outbound.resolve("mixed.example", 443, outbound.Policy())


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.org/x", "must be an http:// or https:// address"),
        ("http:///path", "must be an http:// or https:// address"),
        ("http://user:secret@public.example/", "must not contain a user name or password"),
        ("http://public.example:99999/", "is not a valid address"),
        ("http://unknown.invalid/", "cannot resolve host"),
        ("http://0x7f.1/", "is not allowed: 0x7f.1 resolves to the non-public address 127.0.0.1"),
        ("https://" + "a" * 1000 + ".example/", "is longer than 1000 characters"),
    ],
)
def test_check_url_names_the_field(monkeypatch, url, message):
    fake_dns(monkeypatch, {"public.example": "93.184.215.14"})
    with pytest.raises(ValidationError) as err:
        outbound.check_url(url, field="hook.url", allow=outbound.Policy())
    assert list(err.value.fields) == ["hook.url"]
    assert message in err.value.fields["hook.url"]


def test_check_url_accepts_a_public_address(monkeypatch):
    fake_dns(monkeypatch, {"public.example": "93.184.215.14"})
    url = " https://public.example/hook?x=1 "
    assert outbound.check_url(url, allow=outbound.Policy()) == url.strip()
