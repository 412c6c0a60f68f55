"""The SSRF guard: which URLs and addresses the product may reach on a user's behalf.

Every request to a URL a user gave (``remote_files`` today, webhooks later) passes here twice:
:func:`check_url` before anything is resolved (scheme, host syntax, port), and
:func:`check_resolved` on every address the host name resolves to, before any connection. The
adapter then connects to one of the addresses checked here, never to the name again (a second
lookup could answer differently: DNS rebinding).

The rules (DESIGN.md §10):

* Only ``http`` and ``https``; no user name or password in the URL; any port from 1 to 65535 (as
  CVAT: the address decides what is reachable, not the port).
* The host is a DNS name, a dotted-quad IPv4 address or a bracketed IPv6 address. The other
  spellings of IPv4 that C resolvers accept (``2130706433``, ``0x7f.1``, ``0177.0.0.1``,
  ``127.1``) are refused: ``ipaddress`` and ``getaddrinfo`` would read them differently.
* Every address must be public. Refused, in the words of the messages: private (RFC 1918, IPv6
  unique local), loopback, link-local, the cloud metadata and credentials addresses, unspecified,
  multicast, broadcast, shared (carrier-grade NAT), benchmarking, documentation, IETF protocol
  assignments, reserved; IPv6 outside global unicast (``2000::/3``); IPv4-mapped, -compatible and
  -translated IPv6 forms (always: a public IPv4 address is to be written as itself); 6to4 and
  NAT64 forms are judged by the IPv4 address they embed. Whatever is left must also be
  ``is_global`` for ``ipaddress``, which is not trusted alone: before Python 3.13 it calls
  multicast and site-local addresses global, and NAT64 forms of private addresses too.
* Loopback (``127.0.0.0/8``, ``::1``) passes only with ``allow_loopback`` (the setting
  ``CVAT_ALLOW_LOOPBACK_EGRESS``, on in the embedded runtime, off on AWS); nothing else does.

Refusals are :class:`~cvat_serverless.domain.errors.ValidationError` whose message names the URL
and says what to change. Standard library only.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from typing import NamedTuple
from urllib.parse import quote, unquote, urlsplit

from .errors import ValidationError

__all__ = [
    "SCHEMES",
    "IPAddress",
    "RemoteUrl",
    "check_address",
    "check_resolved",
    "check_url",
    "remote_file_name",
    "safe_file_name",
]

IPAddress = IPv4Address | IPv6Address

SCHEMES = {"http": 80, "https": 443}

_V4 = IPv4Network
_V6 = IPv6Network

# First match wins, so the specific entries come before the networks that hold them. Each reason
# completes "the address X ...".
_REFUSED_V4: tuple[tuple[IPv4Network, str], ...] = (
    (_V4("0.0.0.0/32"), "is unspecified"),
    (_V4("0.0.0.0/8"), "is reserved for 'this network' (0.0.0.0/8)"),
    (_V4("10.0.0.0/8"), "is private (10.0.0.0/8)"),
    (_V4("100.64.0.0/10"), "is in the shared address space of carrier-grade NAT (100.64.0.0/10)"),
    (_V4("127.0.0.0/8"), "is loopback (127.0.0.0/8)"),
    (_V4("169.254.169.254/32"), "is the cloud instance metadata address"),
    (_V4("169.254.170.2/32"), "is the container credentials address"),
    (_V4("169.254.0.0/16"), "is link-local (169.254.0.0/16)"),
    (_V4("172.16.0.0/12"), "is private (172.16.0.0/12)"),
    (_V4("192.0.0.0/24"), "is reserved for IETF protocol assignments (192.0.0.0/24)"),
    (_V4("192.0.2.0/24"), "is reserved for documentation (192.0.2.0/24)"),
    (_V4("192.88.99.0/24"), "is reserved (the retired 6to4 relay anycast, 192.88.99.0/24)"),
    (_V4("192.168.0.0/16"), "is private (192.168.0.0/16)"),
    (_V4("198.18.0.0/15"), "is reserved for benchmarking (198.18.0.0/15)"),
    (_V4("198.51.100.0/24"), "is reserved for documentation (198.51.100.0/24)"),
    (_V4("203.0.113.0/24"), "is reserved for documentation (203.0.113.0/24)"),
    (_V4("224.0.0.0/4"), "is multicast (224.0.0.0/4)"),
    (_V4("255.255.255.255/32"), "is the broadcast address"),
    (_V4("240.0.0.0/4"), "is reserved (240.0.0.0/4)"),
)

_REFUSED_V6: tuple[tuple[IPv6Network, str], ...] = (
    (_V6("::/128"), "is unspecified"),
    (_V6("::1/128"), "is loopback (::1)"),
    (_V6("64:ff9b:1::/48"), "is reserved for local IPv4/IPv6 translation (64:ff9b:1::/48)"),
    (_V6("::/8"), "is reserved (::/8)"),
    (_V6("100::/64"), "is a discard-only address (100::/64)"),
    (_V6("2001::/32"), "is a Teredo tunnel address (2001::/32)"),
    (_V6("2001::/23"), "is reserved for IETF protocol assignments (2001::/23)"),
    (_V6("2001:db8::/32"), "is reserved for documentation (2001:db8::/32)"),
    (_V6("3fff::/20"), "is reserved for documentation (3fff::/20)"),
    (_V6("5f00::/16"), "is reserved for segment routing (5f00::/16)"),
    (_V6("fd00:ec2::254/128"), "is the cloud instance metadata address"),
    (_V6("fd00:ec2::/32"), "is private (the cloud's internal services, fd00:ec2::/32)"),
    (_V6("fc00::/7"), "is private (unique local, fc00::/7)"),
    (_V6("fe80::/10"), "is link-local (fe80::/10)"),
    (_V6("fec0::/10"), "is site-local (fec0::/10, deprecated)"),
    (_V6("ff00::/8"), "is multicast (ff00::/8)"),
)

_LOOPBACK = (_V4("127.0.0.0/8"), _V6("::1/128"))
_GLOBAL_UNICAST = _V6("2000::/3")
# IPv6 forms that carry an IPv4 address in their low 32 bits and reach it through a translator.
_NAT64 = _V6("64:ff9b::/96")
# Forms that a dual-stack socket turns into an IPv4 connection, or that only exist for one:
# refused whatever they embed (a public IPv4 address is to be written as itself).
_V4_FORMS: tuple[tuple[IPv6Network, str], ...] = (
    (_V6("::ffff:0:0/96"), "IPv4-mapped"),
    (_V6("::ffff:0:0:0/96"), "IPv4-translated"),
    (_V6("::/96"), "IPv4-compatible"),
)


def check_address(ip: str | IPAddress, *, allow_loopback: bool) -> str | None:
    """Why the product must not connect to ``ip``, or None when it may.

    The reason completes "the address <ip> ...", e.g. "is private (10.0.0.0/8)".
    """
    if isinstance(ip, str):
        try:
            ip = ipaddress.ip_address(ip)
        except ValueError:
            return "is not an IP address"
    if allow_loopback and any(ip in net for net in _LOOPBACK):
        return None
    if isinstance(ip, IPv6Address):
        reason = _check_v6(ip)
    else:
        reason = next((why for net, why in _REFUSED_V4 if ip in net), None)
    if reason is None and not ip.is_global:
        reason = "is not globally reachable"
    return reason


def _check_v6(ip: IPv6Address) -> str | None:
    if ip.scope_id:
        return "has a zone index (%" + ip.scope_id + "): only global addresses can be reached"
    for net, form in _V4_FORMS:
        if ip in net and ip != IPv6Address(0) and ip != IPv6Address(1):
            inner = IPv4Address(int(ip) & 0xFFFFFFFF)
            why = check_address(inner, allow_loopback=False)
            if why is not None:
                return f"embeds {inner}, which {why}"
            return f"is an {form} IPv6 address; write the IPv4 address {inner} itself"
    embedded = ip.sixtofour or (IPv4Address(int(ip) & 0xFFFFFFFF) if ip in _NAT64 else None)
    if embedded is not None:
        why = check_address(embedded, allow_loopback=False)
        if why is not None:
            return f"embeds {embedded}, which {why}"
        if ip in _NAT64:  # inside ::/8, yet what an IPv6-only subnet with DNS64 reaches the IPv4 internet by
            return None
    reason = next((why for net, why in _REFUSED_V6 if ip in net), None)
    if reason is None and ip not in _GLOBAL_UNICAST:
        reason = "is outside the global unicast range (2000::/3)"
    return reason


def check_resolved(
    host: str, addresses: Iterable[str | IPAddress], *, allow_loopback: bool, subject: str = ""
) -> tuple[IPAddress, ...]:
    """The addresses ``host`` resolved to, parsed and deduplicated in order, when every one of
    them may be reached; otherwise a ValidationError (one bad address spoils the answer: a
    client could connect to any of them). An empty answer is refused. ``subject`` starts the
    message ("remote file http://..."); the host name by default."""
    subject = subject or host
    checked: dict[IPAddress, None] = {}
    for raw in addresses:
        why = check_address(raw, allow_loopback=allow_loopback)
        if why is not None:
            is_name = _literal(host) is None
            said = f"{host} resolves to {raw}, which {why}" if is_name else f"the address {raw} {why}"
            raise ValidationError(f"{subject}: {said}; only public addresses are allowed.")
        checked[ipaddress.ip_address(raw) if isinstance(raw, str) else raw] = None
    if not checked:
        raise ValidationError(f"{subject}: the host name {host} has no addresses.")
    return tuple(checked)


class RemoteUrl(NamedTuple):
    """A URL that passed :func:`check_url`, in the parts a client needs."""

    scheme: str  # "http" or "https"
    host: str  # lower case; a DNS name in ASCII (IDNA) without a final dot, or an IP address
    port: int
    path: str  # the request target: path and query, percent-encoded, never empty

    @property
    def address(self) -> IPAddress | None:
        """The host when it is an IP address (nothing to resolve), else None."""
        return _literal(self.host)

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = "" if SCHEMES[self.scheme] == self.port else f":{self.port}"
        return f"{self.scheme}://{host}{port}{self.path}"


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_LABEL = re.compile(r"(?!-)[a-z0-9_-]{1,63}(?<!-)")
_NUMERIC_LABEL = re.compile(r"0x[0-9a-f]*|[0-9]+")
# What may stay as it is in a request target; everything else (spaces, non-ASCII) is encoded.
_TARGET_SAFE = "/%:@!$&'()*+,;=-._~?"
_SHOWN = 200


def check_url(url: str, *, what: str = "remote file") -> RemoteUrl:
    """``url`` split into what a client connects to, or a ValidationError whose message starts
    with ``what`` and the URL: not http(s), credentials in it, no host or a malformed one, a
    numeric host in a spelling other than a dotted quad, a bad port, control characters."""
    subject = f"{what} {_shown(url)}"
    if _CONTROL.search(url):
        raise ValidationError(f"{subject}: the URL contains control characters.")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as e:
        raise ValidationError(f"{subject}: the URL is malformed ({e}).") from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        shown = f"scheme is '{scheme}'" if scheme else "has no scheme"
        raise ValidationError(f"{subject}: the URL {shown}; only http:// and https:// URLs can be used.")
    if "@" in parts.netloc:
        raise ValidationError(f"{subject}: user names and passwords in the URL are not supported.")
    host = _check_host(parts.hostname or "", bracketed=parts.netloc.startswith("["), subject=subject)
    if port == 0:
        raise ValidationError(f"{subject}: port 0 cannot be used.")
    path = quote(parts.path or "/", safe=_TARGET_SAFE)
    if parts.query:
        path += "?" + quote(parts.query, safe=_TARGET_SAFE)
    return RemoteUrl(scheme, host, port or SCHEMES[scheme], path)


def _check_host(host: str, *, bracketed: bool, subject: str) -> str:
    if not host:
        raise ValidationError(f"{subject}: the URL has no host.")
    if bracketed:
        literal = _literal(host)
        if not isinstance(literal, IPv6Address) or "%" in host:
            raise ValidationError(f"{subject}: [{host}] is not an IPv6 address (zone indexes are not supported).")
        return str(literal)
    if (literal := _literal(host)) is not None:
        return str(literal)
    try:
        name = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        raise ValidationError(f"{subject}: the host name {host} is not a valid domain name.") from None
    name = name.lower().removesuffix(".")
    labels = name.split(".")
    if len(name) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise ValidationError(f"{subject}: the host name {host} is not a valid domain name.")
    if _NUMERIC_LABEL.fullmatch(labels[-1]):
        raise ValidationError(
            f"{subject}: the host {host} is not a domain name nor an IPv4 address in dotted-quad form; "
            "write an IPv4 address as four decimal numbers (a.b.c.d)."
        )
    return name


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _shown(url: str) -> str:
    return url if len(url) <= _SHOWN else url[: _SHOWN - 1] + "…"


def safe_file_name(raw: str) -> str | None:
    """``raw`` reduced to a plain file name (its last path component, no control characters,
    at most 255 characters keeping the end, where the extension is), or None when nothing
    usable is left ("", ".", "..")."""
    name = _CONTROL.sub("", raw.replace("\\", "/").rsplit("/", 1)[-1]).strip()
    if name in {"", ".", ".."}:
        return None
    return name[-255:]


def remote_file_name(url_path: str, disposition_filename: str | None = None) -> str:
    """The name of a downloaded file: Content-Disposition's file name, else the URL path's last
    segment (percent-decoded), else "file"; always a plain name (see :func:`safe_file_name`)."""
    if disposition_filename and (name := safe_file_name(disposition_filename)):
        return name
    segment = url_path.split("?", 1)[0].rsplit("/", 1)[-1]
    return safe_file_name(unquote(segment)) or "file"
