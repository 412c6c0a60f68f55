"""The SSRF guard's decisions: addresses, resolver answers, URLs and file names."""

from __future__ import annotations

import socket
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from cvat_serverless.domain.egress import (
    RemoteUrl,
    check_address,
    check_resolved,
    check_url,
    remote_file_name,
    safe_file_name,
)
from cvat_serverless.domain.errors import ValidationError

# --- addresses ------------------------------------------------------------------------------------

PUBLIC = [
    "8.8.8.8", "1.1.1.1", "93.184.215.14", "11.0.0.0", "100.63.255.255", "100.128.0.0", "169.253.255.255",
    "169.255.0.0", "172.15.255.255", "172.32.0.0", "192.167.255.255", "192.169.0.0", "198.17.255.255",
    "198.20.0.0", "223.255.255.255",
    "2606:4700:4700::1111", "2a00:1450:4001:80b::200e", "2001:4860:4860::8888",
    "64:ff9b::808:808",  # NAT64 of 8.8.8.8: how an IPv6-only subnet with DNS64 reaches IPv4
    "2002:808:808::1",  # 6to4 of 8.8.8.8
]

# (address, what the reason must say); refused whatever the loopback setting.
REFUSED = [
    ("0.0.0.0", "unspecified"), ("0.1.2.3", "this network"),
    ("10.0.0.5", "private (10.0.0.0/8)"), ("10.255.255.255", "private"),
    ("172.16.0.1", "private (172.16.0.0/12)"), ("172.31.255.255", "private"),
    ("192.168.1.1", "private (192.168.0.0/16)"),
    ("100.64.0.1", "carrier-grade NAT"), ("100.127.255.255", "carrier-grade NAT"),
    ("169.254.169.254", "metadata"), ("169.254.170.2", "container credentials"), ("169.254.0.1", "link-local"),
    ("192.0.0.1", "IETF protocol assignments"), ("192.0.0.9", "IETF protocol assignments"),
    ("192.0.2.1", "documentation"), ("198.51.100.7", "documentation"), ("203.0.113.9", "documentation"),
    ("192.88.99.1", "6to4 relay"), ("198.18.0.1", "benchmarking"), ("198.19.255.255", "benchmarking"),
    ("224.0.0.1", "multicast"), ("239.255.255.250", "multicast"),
    ("240.0.0.1", "reserved (240.0.0.0/4)"), ("254.255.255.255", "reserved"), ("255.255.255.255", "broadcast"),
    ("::", "unspecified"), ("fe80::1", "link-local"), ("fe80::1%eth0", "zone index"),
    ("fc00::1", "private (unique local"), ("fd12:3456::1", "private (unique local"),
    ("fd00:ec2::254", "metadata"), ("fd00:ec2::253", "cloud's internal services"),
    ("fec0::1", "site-local"), ("ff02::1", "multicast"), ("ff0e::1", "multicast"),
    ("2001:db8::1", "documentation"), ("3fff::1", "documentation"), ("2001::1", "Teredo"),
    ("2001:2::1", "IETF protocol assignments"), ("100::1", "discard-only"),
    ("64:ff9b:1::1", "local IPv4/IPv6 translation"), ("5f00::1", "segment routing"),
    ("1::1", "reserved (::/8)"), ("4000::1", "outside the global unicast range"), ("e000::1", "outside"),
    # IPv4 inside IPv6: mapped, translated and compatible forms are refused whatever they hold ...
    ("::ffff:127.0.0.1", "embeds 127.0.0.1, which is loopback"),
    ("::ffff:10.0.0.1", "embeds 10.0.0.1, which is private"),
    ("::ffff:169.254.169.254", "metadata"), ("::ffff:0.0.0.0", "unspecified"),
    ("::ffff:8.8.8.8", "IPv4-mapped IPv6 address; write the IPv4 address 8.8.8.8"),
    ("::ffff:0:a00:1", "embeds 10.0.0.1"), ("::ffff:0:808:808", "IPv4-translated"),
    ("::7f00:1", "embeds 127.0.0.1"), ("::8.8.8.8", "IPv4-compatible"),
    # ... NAT64 and 6to4 forms by the address they carry (a translated loopback is refused too).
    ("64:ff9b::a00:1", "embeds 10.0.0.1, which is private"), ("64:ff9b::7f00:1", "embeds 127.0.0.1, which is loopback"),
    ("64:ff9b::a9fe:a9fe", "metadata"), ("2002:a00:1::1", "embeds 10.0.0.1, which is private"),
    ("2002:7f00:1::", "embeds 127.0.0.1"), ("2002:a9fe:a9fe::", "metadata"), ("2002:c0a8:101::1", "private"),
    ("not an address", "not an IP address"),
]

LOOPBACK = ["127.0.0.1", "127.1.2.3", "127.255.255.254", "::1"]


@pytest.mark.parametrize("ip", PUBLIC)
def test_public_addresses_pass(ip: str) -> None:
    assert check_address(ip, allow_loopback=False) is None
    assert check_address(ip_address(ip), allow_loopback=False) is None


@pytest.mark.parametrize(("ip", "reason"), REFUSED)
@pytest.mark.parametrize("allow_loopback", [False, True])
def test_refused_addresses_say_why(ip: str, reason: str, allow_loopback: bool) -> None:
    why = check_address(ip, allow_loopback=allow_loopback)
    assert why is not None and reason in why, why


@pytest.mark.parametrize("ip", LOOPBACK)
def test_loopback_only_with_the_setting(ip: str) -> None:
    why = check_address(ip, allow_loopback=False)
    assert why is not None and "loopback" in why
    assert check_address(ip, allow_loopback=True) is None


def test_ipaddress_is_not_trusted_alone() -> None:
    # Where Python's ipaddress calls these global (multicast and site-local before 3.13, NAT64 and
    # 6to4 whatever they embed, 192.0.0.0/24 beyond /29), the guard still refuses them.
    for ip in ["224.0.0.1", "ff0e::1", "fec0::1", "64:ff9b::a00:1", "2002:a00:1::", "4000::1", "192.0.0.9"]:
        assert check_address(ip, allow_loopback=True) is not None, ip


# The oracle for the property below: IANA's special-purpose registries written out again here
# (not imported), plus the embedded forms. Nothing in them may ever pass.
ORACLE_V4: list[IPv4Network | IPv6Network] = [IPv4Network(n) for n in [
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15",
    "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
]]
ORACLE_V6: list[IPv4Network | IPv6Network] = [IPv6Network(n) for n in [
    "::/8", "64:ff9b:1::/48", "100::/64", "2001::/23", "2001:db8::/32", "3fff::/20", "5f00::/16",
    "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8",
]]
NAT64 = IPv6Network("64:ff9b::/96")


def _embedded(ip: IPv6Address) -> IPv4Address | None:
    if ip.sixtofour is not None:
        return ip.sixtofour
    return IPv4Address(int(ip) & 0xFFFFFFFF) if ip in NAT64 else None


def _in_oracle(ip: IPv4Address | IPv6Address) -> bool:
    if isinstance(ip, IPv4Address):
        return any(ip in net for net in ORACLE_V4)
    inner = _embedded(ip)
    if ip in NAT64:
        return inner is not None and _in_oracle(inner)
    return any(ip in net for net in ORACLE_V6) or (inner is not None and _in_oracle(inner))


def _inside(net: IPv4Network | IPv6Network) -> st.SearchStrategy[IPv4Address | IPv6Address]:
    return st.integers(int(net.network_address), int(net.broadcast_address)).map(
        lambda n: IPv4Address(n) if net.version == 4 else IPv6Address(n)
    )


v4 = st.ip_addresses(v=4)
addresses = st.one_of(
    st.ip_addresses(),
    st.sampled_from(ORACLE_V4 + ORACLE_V6).flatmap(_inside),
    v4.map(lambda a: IPv6Address(f"::ffff:{a}")),
    v4.map(lambda a: IPv6Address(int(NAT64.network_address) | int(a))),
    v4.map(lambda a: IPv6Address((0x2002 << 112) | (int(a) << 80) | 1)),
)


@settings(max_examples=500)
@given(addresses)
@example(IPv6Address("64:ff9b::808:808"))
@example(IPv6Address("2002:808:808::1"))
def test_whatever_passes_is_global_and_outside_every_refused_network(ip: IPv4Address | IPv6Address) -> None:
    if check_address(ip, allow_loopback=False) is None:
        assert ip.is_global and not _in_oracle(ip)
        if isinstance(ip, IPv6Address):
            assert ip.ipv4_mapped is None
            inner = _embedded(ip)
            assert inner is None or inner.is_global


@given(addresses)
def test_the_setting_lets_loopback_through_and_nothing_else(ip: IPv4Address | IPv6Address) -> None:
    if check_address(ip, allow_loopback=True) is None and check_address(ip, allow_loopback=False) is not None:
        assert ip in ip_network("127.0.0.0/8") or ip == IPv6Address("::1")


@given(st.sampled_from(ORACLE_V4 + ORACLE_V6).flatmap(_inside))
def test_every_special_purpose_address_is_refused(ip: IPv4Address | IPv6Address) -> None:
    if ip.is_loopback:
        return
    assert check_address(ip, allow_loopback=True) is not None


@pytest.mark.parametrize("net", ORACLE_V4 + ORACLE_V6, ids=str)
def test_special_purpose_networks_are_refused_edge_to_edge(net: IPv4Network | IPv6Network) -> None:
    for ip in (net.network_address, net.network_address + 1, net.broadcast_address):
        assert check_address(ip, allow_loopback=False) is not None, ip


# --- resolver answers -----------------------------------------------------------------------------


def test_every_address_of_an_answer_must_pass() -> None:
    with pytest.raises(ValidationError) as e:
        check_resolved("evil.test", ["93.184.215.14", "10.0.0.1"], allow_loopback=True,
                       subject="remote file http://evil.test/x.jpg")
    assert e.value.message == (
        "remote file http://evil.test/x.jpg: evil.test resolves to 10.0.0.1, which is private (10.0.0.0/8); "
        "only public addresses are allowed."
    )


def test_a_literal_host_is_named_as_an_address() -> None:
    with pytest.raises(ValidationError, match=r"^10\.0\.0\.5: the address 10\.0\.0\.5 is private"):
        check_resolved("10.0.0.5", ["10.0.0.5"], allow_loopback=False)


def test_a_public_answer_is_parsed_and_deduplicated_in_order() -> None:
    answer = ["2606:4700::6810:84e5", "93.184.215.14", "2606:4700::6810:84e5"]
    assert check_resolved("example.com", answer, allow_loopback=False) == (
        IPv6Address("2606:4700::6810:84e5"), IPv4Address("93.184.215.14"))


def test_an_empty_answer_is_refused() -> None:
    with pytest.raises(ValidationError, match="has no addresses"):
        check_resolved("nothing.test", [], allow_loopback=True)


@pytest.mark.parametrize("answer", [["127.0.0.1"], ["127.0.0.1", "::1"]])
def test_loopback_answers_follow_the_setting(answer: list[str]) -> None:
    assert check_resolved("localhost", answer, allow_loopback=True)
    with pytest.raises(ValidationError, match=r"localhost resolves to 127\.0\.0\.1, which is loopback"):
        check_resolved("localhost", answer, allow_loopback=False)


def test_loopback_mixed_with_private_is_refused_even_with_the_setting() -> None:
    with pytest.raises(ValidationError, match=r"169\.254\.169\.254, which is the cloud instance metadata address"):
        check_resolved("mixed.test", ["127.0.0.1", "169.254.169.254"], allow_loopback=True)


# --- URLs -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "parts", "shown"), [
    ("http://example.com/a.jpg", ("http", "example.com", 80, "/a.jpg"), "http://example.com/a.jpg"),
    ("HTTPS://EXAMPLE.COM/A.JPG", ("https", "example.com", 443, "/A.JPG"), "https://example.com/A.JPG"),
    ("https://example.com:8443", ("https", "example.com", 8443, "/"), "https://example.com:8443/"),
    ("http://example.com:443/x", ("http", "example.com", 443, "/x"), "http://example.com:443/x"),
    ("http://example.com./x?b=1&c=2#frag", ("http", "example.com", 80, "/x?b=1&c=2"), "http://example.com/x?b=1&c=2"),
    ("  http://example.com/a b/ü.jpg?q=ä  ", ("http", "example.com", 80, "/a%20b/%C3%BC.jpg?q=%C3%A4"), None),
    ("http://example.com/a%2Fb", ("http", "example.com", 80, "/a%2Fb"), None),
    ("http://Bücher.example/", ("http", "xn--bcher-kva.example", 80, "/"), None),
    ("http://files_1.example-cdn.com/", ("http", "files_1.example-cdn.com", 80, "/"), None),
    ("http://93.184.215.14:8080/x", ("http", "93.184.215.14", 8080, "/x"), "http://93.184.215.14:8080/x"),
    ("http://[2606:4700:0::6810:84E5]/x", ("http", "2606:4700::6810:84e5", 80, "/x"), "http://[2606:4700::6810:84e5]/x"),
    ("http://[::1]:8080", ("http", "::1", 8080, "/"), "http://[::1]:8080/"),
    ("http://localhost:8080/", ("http", "localhost", 8080, "/"), None),
])
def test_urls_are_split_for_the_client(url: str, parts: tuple[str, str, int, str], shown: str | None) -> None:
    checked = check_url(url)
    assert checked == RemoteUrl(*parts) and tuple(checked) == parts
    if shown is not None:
        assert str(checked) == shown


@pytest.mark.parametrize(("url", "reason"), [
    ("ftp://example.com/a.jpg", "scheme is 'ftp'; only http:// and https:// URLs"),
    ("file:///etc/passwd", "scheme is 'file'"),
    ("gopher://example.com:70/", "scheme is 'gopher'"),
    ("javascript:alert(1)", "scheme is 'javascript'"),
    ("//example.com/a.jpg", "has no scheme"),
    ("example.com/a.jpg", "has no scheme"),
    ("http://user:pw@example.com/", "user names and passwords"),
    ("http://example.com@10.0.0.1/", "user names and passwords"),
    ("http://@example.com/", "user names and passwords"),
    ("http:///a.jpg", "has no host"),
    ("http://:80/a.jpg", "has no host"),
    ("http://example.com:0/", "port 0"),
    ("http://example.com:99999/", "malformed"),
    ("http://example.com:http/", "malformed"),
    ("http://[::1/", "malformed"),
    ("http://[fe80::1%25eth0]/", "zone indexes"),
    ("http://example.com/\r\nX-Injected: 1", "control characters"),
    ("http://exa\x00mple.com/", "control characters"),
    ("http://ex%41mple.com/", "not a valid domain name"),
    ("http://exa mple.com/", "not a valid domain name"),
    ("http://a..b/", "not a valid domain name"),
    ("http://-a.example/", "not a valid domain name"),
    ("http://example.com\\@10.0.0.1/", "user names and passwords"),
    ("http://10.0.0.1\\.example.com/", "not a valid domain name"),
    ("http://" + "a" * 64 + ".example/", "not a valid domain name"),
    ("http://" + ("a" * 60 + ".") * 5 + "example/", "not a valid domain name"),
    # IPv4 spellings that C resolvers read as addresses but ipaddress does not.
    ("http://2130706433/", "dotted-quad"),
    ("http://0x7f000001/", "dotted-quad"),
    ("http://0x7f.1/", "dotted-quad"),
    ("http://0177.0.0.1/", "dotted-quad"),
    ("http://127.1/", "dotted-quad"),
    ("http://127.0.0.01/", "dotted-quad"),
    ("http://10.0.0.1./", "dotted-quad"),
    ("http://1.2.3.4.5/", "dotted-quad"),
])
def test_bad_urls_are_refused_with_the_url_named(url: str, reason: str) -> None:
    with pytest.raises(ValidationError) as e:
        check_url(url)
    assert e.value.message.startswith("remote file ") and reason in e.value.message, e.value.message


def test_the_subject_is_the_callers() -> None:
    with pytest.raises(ValidationError, match=r"^webhook target ftp://x/: "):
        check_url("ftp://x/", what="webhook target")


def test_a_long_url_is_shortened_in_the_message() -> None:
    with pytest.raises(ValidationError) as e:
        check_url("ftp://example.com/" + "a" * 5000)
    assert len(e.value.message) < 400


def _numeric(host: str) -> str | None:
    """What the C resolver reads ``host`` as when it reads it as an address (no DNS query:
    AI_NUMERICHOST), else None."""
    try:
        return str(socket.getaddrinfo(host, None, flags=socket.AI_NUMERICHOST)[0][4][0])
    except socket.gaierror:
        return None


host_chars = st.text(alphabet="0123456789abcdefx.", min_size=1, max_size=20)


@given(st.one_of(host_chars, st.ip_addresses(v=4).map(str)))
@example("2130706433")
@example("0x7f.1")
@example("0177.0.0.1")
@example("127.1")
@example("1e1")
@example("0.0.0.1")
def test_the_guard_and_the_resolver_read_a_host_alike(host: str) -> None:
    try:
        checked = check_url(f"http://{host}/")
    except ValidationError:
        return
    if checked.address is None:  # a name: the resolver must not read it as an address
        assert _numeric(checked.host) is None
    else:  # an address: the resolver reads the same one
        assert _numeric(checked.host) == str(checked.address)


# --- file names -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "disposition", "name"), [
    ("/images/a.jpg", None, "a.jpg"),
    ("/images/a%20b%C3%A9.jpg", None, "a bé.jpg"),
    ("/dl?id=7", None, "dl"),
    ("/images/", None, "file"),
    ("/", None, "file"),
    ("/a/%2e%2e", None, "file"),
    ("/a/..%2F..%2Fetc%2Fpasswd", None, "passwd"),
    ("/a/..%5C..%5Cwin.ini", None, "win.ini"),
    ("/a/x%00y%0A.jpg", None, "xy.jpg"),
    ("/images/a.jpg", "report.pdf", "report.pdf"),
    ("/images/a.jpg", "../../etc/passwd", "passwd"),
    ("/images/a.jpg", "C:\\Users\\x\\b.png", "b.png"),
    ("/images/a.jpg", "..", "a.jpg"),
    ("/images/a.jpg", "  ", "a.jpg"),
    ("/images/a.jpg", "", "a.jpg"),
])
def test_remote_file_names(path: str, disposition: str | None, name: str) -> None:
    assert remote_file_name(path, disposition) == name


def test_a_long_name_keeps_its_end() -> None:
    assert safe_file_name("x" * 300 + ".jpg") == "x" * 251 + ".jpg"
    assert safe_file_name("/.") is None
