"""The SSRF policy: which URLs and addresses a webhook may point at."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from functions.domain.egress import Refusal, UnsafeUrl, checked_target, refusal_of

PUBLIC_V4 = "93.184.215.14"
PUBLIC_V6 = "2606:2800:21f:cb07:6820:80da:af6b:8b2c"


def resolver(answers: dict[str, Sequence[str]]):  # type: ignore[no-untyped-def]
    def resolve(host: str, port: int) -> Sequence[str]:
        if host not in answers:
            raise OSError(f"{host}: no such host")
        return answers[host]

    return resolve


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", Refusal.LOOPBACK),
        ("127.1.2.3", Refusal.LOOPBACK),
        ("::1", Refusal.LOOPBACK),
        ("10.0.0.8", Refusal.PRIVATE),
        ("172.16.4.1", Refusal.PRIVATE),
        ("192.168.1.1", Refusal.PRIVATE),
        ("169.254.1.1", Refusal.LINK_LOCAL),
        ("fe80::1", Refusal.LINK_LOCAL),
        ("100.64.0.1", Refusal.SHARED),
        ("100.127.255.254", Refusal.SHARED),
        ("fc00::1", Refusal.UNIQUE_LOCAL),
        ("fd12:3456::1", Refusal.UNIQUE_LOCAL),
        ("224.0.0.251", Refusal.MULTICAST),
        ("ff02::1", Refusal.MULTICAST),
        ("0.0.0.0", Refusal.UNSPECIFIED),  # noqa: S104 - an address refused, not one bound
        ("::", Refusal.UNSPECIFIED),
        # cloud metadata services, in every spelling
        ("169.254.169.254", Refusal.METADATA),
        ("fd00:ec2::254", Refusal.METADATA),
        ("::ffff:169.254.169.254", Refusal.METADATA),
        ("::ffff:a9fe:a9fe", Refusal.METADATA),
        ("64:ff9b::a9fe:a9fe", Refusal.METADATA),
        # IPv4 carried in IPv6 is judged as the IPv4 address
        ("::ffff:127.0.0.1", Refusal.LOOPBACK),
        ("::ffff:10.1.1.1", Refusal.PRIVATE),
        ("::10.1.1.1", Refusal.PRIVATE),
        ("2002:c0a8:0101::1", Refusal.PRIVATE),  # 6to4 of 192.168.1.1
        # what the internet does not route
        ("192.0.2.10", Refusal.RESERVED),
        ("198.51.100.1", Refusal.RESERVED),
        ("2001:db8::1", Refusal.RESERVED),
        ("240.0.0.1", Refusal.RESERVED),
        ("255.255.255.255", Refusal.RESERVED),
        ("198.18.0.1", Refusal.RESERVED),
    ],
)
def test_addresses_that_lead_inside_are_refused(address: str, reason: Refusal) -> None:
    assert refusal_of(address) is reason


@pytest.mark.parametrize("address", [PUBLIC_V4, PUBLIC_V6, "8.8.8.8", "64:ff9b::808:808"])
def test_public_addresses_pass(address: str) -> None:
    assert refusal_of(address) is None


def test_loopback_passes_only_where_allowed_and_nothing_else_does() -> None:
    assert refusal_of("127.0.0.1", allow_loopback=True) is None
    assert refusal_of("::1", allow_loopback=True) is None
    assert refusal_of("10.0.0.1", allow_loopback=True) is Refusal.PRIVATE
    assert refusal_of("169.254.169.254", allow_loopback=True) is Refusal.METADATA


def test_a_public_https_url_gives_the_addresses_to_connect_to() -> None:
    target = checked_target(
        "https://hooks.example.org:8443/in?x=1", resolver({"hooks.example.org": [PUBLIC_V4, PUBLIC_V6]})
    )
    assert (target.host, target.port, target.path) == ("hooks.example.org", 8443, "/in?x=1")
    assert target.addresses == (PUBLIC_V4, PUBLIC_V6)
    assert target.host_header == "hooks.example.org:8443"


def test_every_address_a_host_resolves_to_is_checked() -> None:
    # One public address among them is not enough: the client could connect to the other
    resolve = resolver({"split.example.org": [PUBLIC_V4, "10.0.0.5"]})
    with pytest.raises(UnsafeUrl) as refused:
        checked_target("https://split.example.org/", resolve)
    assert refused.value.reason is Refusal.PRIVATE
    assert "10.0.0.5" in str(refused.value)


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://[::1]/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://[fd00:ec2::254]/",
        "https://[::ffff:169.254.169.254]/",
        "https://10.0.0.1/",
        "https://[::ffff:10.0.0.1]/",
    ],
)
def test_address_literals_are_checked_without_asking_dns(url: str) -> None:
    with pytest.raises(UnsafeUrl):
        checked_target(url, resolver({}))


def test_numeric_host_forms_are_judged_by_what_they_resolve_to() -> None:
    # 2130706433 is 127.0.0.1 to the system resolver: the check sees the address it gives
    with pytest.raises(UnsafeUrl) as refused:
        checked_target("https://2130706433/", resolver({"2130706433": ["127.0.0.1"]}))
    assert refused.value.reason is Refusal.LOOPBACK


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://hooks.example.org/", Refusal.SCHEME),
        ("ftp://hooks.example.org/", Refusal.SCHEME),
        ("hooks.example.org/in", Refusal.SCHEME),
        ("https:///path", Refusal.NOT_A_URL),
        ("https://user:pass@hooks.example.org/", Refusal.CREDENTIALS),
        ("https://hooks.example.org/#part", Refusal.FRAGMENT),
        ("https://hooks.example.org/ space", Refusal.NOT_A_URL),
        ("https://hooks.example.org/caf\u00e9", Refusal.NOT_A_URL),
        ("https://hooks.example.org/\r\nX-Injected: 1", Refusal.NOT_A_URL),
        ("https://hooks.example.org:99999/", Refusal.NOT_A_URL),
        ("https://hooks.example.org/" + "a" * 2100, Refusal.TOO_LONG),
        ("https://nowhere.example.org/", Refusal.UNRESOLVABLE),
    ],
)
def test_urls_that_break_the_rules_are_refused_with_the_rule(url: str, reason: Refusal) -> None:
    with pytest.raises(UnsafeUrl) as refused:
        checked_target(url, resolver({"hooks.example.org": [PUBLIC_V4]}))
    assert refused.value.reason is reason
    assert refused.value.detail


def test_plain_http_is_for_loopback_only_and_only_where_allowed() -> None:
    resolve = resolver({"localhost": ["127.0.0.1"], "hooks.example.org": [PUBLIC_V4]})
    local = checked_target("http://127.0.0.1:8765/hooks", resolve, allow_loopback=True)
    assert (local.scheme, local.addresses, local.host_header) == ("http", ("127.0.0.1",), "127.0.0.1:8765")
    assert checked_target("http://localhost:8765/", resolve, allow_loopback=True).addresses == ("127.0.0.1",)
    with pytest.raises(UnsafeUrl) as public_http:
        checked_target("http://hooks.example.org/", resolve, allow_loopback=True)
    assert public_http.value.reason is Refusal.SCHEME
    with pytest.raises(UnsafeUrl) as by_default:
        checked_target("http://127.0.0.1:8765/hooks", resolve)
    assert by_default.value.reason is Refusal.SCHEME
