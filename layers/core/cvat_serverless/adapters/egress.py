"""HttpRemoteFetcher: downloads a user's URL through the SSRF guard (``domain.egress``).

Standard library only (http.client, socket, ssl), so the task-data Lambda needs nothing more.
What it does, hop by hop:

1. :func:`~cvat_serverless.domain.egress.check_url` on the URL (scheme, host, port).
2. Resolve the host once (``resolver``, ``socket.getaddrinfo`` by default; an IP literal is not
   resolved) and :func:`~cvat_serverless.domain.egress.check_resolved` every address.
3. Connect to one of those checked addresses (``connect``), never to the name: a second lookup
   could answer with another address (DNS rebinding). The ``Host`` header, TLS SNI and the
   certificate check all use the URL's host name.
4. GET; on a redirect (301, 302, 303, 307, 308) start again at 1 with the ``Location``. At most
   5 redirects; a URL seen before in the chain is a loop; http -> https is followed, https ->
   http is refused (the download would lose the TLS the URL asked for). Nothing but http and
   https is ever followed, and no credentials or cookies are sent on any hop.

Limits: ``max_bytes`` (a declared ``Content-Length`` above it is refused before reading; else
reading stops at ``max_bytes + 1``), ``timeout`` (one deadline for the whole fetch: every
redirect, retry, connect and read; each socket operation waits at most for what is left, so a
server that drips a byte at a time cannot stretch it), and a connect timeout (10 s).

Failures are ValidationErrors naming the URL (the workflow reports them as the task's failure).
Connection errors, 429 and 5xx answers before any byte of the body are retried in-process, up to
3 tries in all with a short backoff inside the deadline, then end as ValidationError too: the URL
is the user's, and retrying the workflow step would only repeat this. A failure during the body
is not retried. When ``dest`` is seekable, a failed fetch truncates it back to where it started;
the caller owns ``dest`` and deletes the file.
"""

from __future__ import annotations

import http.client
import io
import socket
import ssl
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from ipaddress import IPv6Address
from typing import Any, BinaryIO
from urllib.parse import urljoin

from ..domain.egress import SCHEMES, IPAddress, RemoteUrl, check_resolved, check_url, remote_file_name
from ..domain.errors import ValidationError

__all__ = ["DownloadedFile", "HttpRemoteFetcher", "open_tcp"]

Resolver = Callable[[str, int, int, int], Iterable[tuple[Any, Any, Any, Any, tuple[Any, ...]]]]
"""``socket.getaddrinfo``'s shape: (host, port, family, type) -> [(family, type, proto, canonname,
sockaddr)]."""
Connector = Callable[[IPAddress, int, float], socket.socket]
"""(checked address, port, timeout) -> a connected TCP socket."""

REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CHUNK = 1 << 16
_USER_AGENT = "cvat-serverless"


def open_tcp(address: IPAddress, port: int, timeout: float) -> socket.socket:
    """A TCP connection to exactly ``address`` (no name resolution of any kind)."""
    family = socket.AF_INET6 if isinstance(address, IPv6Address) else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect((str(address), port))
    except BaseException:
        sock.close()
        raise
    return sock


@dataclass(slots=True)
class DownloadedFile:
    """What :meth:`HttpRemoteFetcher.fetch` wrote (a ``ports.RemoteFile``)."""

    name: str
    size: int
    content_type: str  # the media type of the answer's Content-Type, without parameters; "" if none


class _Expired(Exception):
    """The fetch's deadline passed."""


class _Retryable(Exception):
    """A failure before the body that another try may not meet (its message says what it was)."""


class _Final(Exception):
    """A failure before the body that another try would meet again (its message says what)."""


class HttpRemoteFetcher:
    """The ``RemoteFetcher`` port over http.client, behind the SSRF guard.

    ``allow_loopback`` is ``Settings.loopback_egress``. ``resolver``, ``connect``,
    ``ssl_context`` and ``sleep`` are there for tests."""

    def __init__(
        self,
        *,
        allow_loopback: bool = False,
        resolver: Resolver = socket.getaddrinfo,
        connect: Connector = open_tcp,
        ssl_context: ssl.SSLContext | None = None,
        sleep: Callable[[float], None] = time.sleep,
        max_redirects: int = 5,
        attempts: int = 3,
        connect_timeout: float = 10.0,
    ) -> None:
        self._allow_loopback = allow_loopback
        self._resolver = resolver
        self._connect = connect
        self._ssl_context = ssl_context
        self._sleep = sleep
        self._max_redirects = max_redirects
        self._attempts = attempts
        self._connect_timeout = connect_timeout

    def fetch(self, url: str, dest: BinaryIO, *, max_bytes: int, timeout: float) -> DownloadedFile:
        start = dest.tell() if dest.seekable() else None
        try:
            return self._fetch(url, dest, max_bytes=max_bytes, timeout=timeout)
        except BaseException:
            if start is not None:
                dest.seek(start)
                dest.truncate()
            raise

    def _fetch(self, url: str, dest: BinaryIO, *, max_bytes: int, timeout: float) -> DownloadedFile:
        deadline = time.monotonic() + timeout
        first = target = check_url(url)
        hop_url, subject = url, f"remote file {url}"
        seen = {str(target)}
        for hop in range(self._max_redirects + 1):
            try:
                conn, response = self._open(target, subject, deadline)
            except _Expired:
                raise ValidationError(f"{subject}: no answer within {timeout:g} s.") from None
            try:
                if response.status in REDIRECTS:
                    location = response.getheader("Location")
                    if not location:
                        raise ValidationError(f"{subject}: the server answered {response.status} with no Location.")
                    if hop == self._max_redirects:
                        raise ValidationError(f"remote file {url}: more than {self._max_redirects} redirects.")
                    hop_url = urljoin(hop_url, location.strip())
                    subject = f"remote file {url} (redirected to {hop_url})"
                    following = check_url(hop_url, what=f"remote file {url} redirected to")
                    if target.scheme == "https" and following.scheme == "http":
                        raise ValidationError(f"{subject}: a redirect from https to http is not followed.")
                    if str(following) in seen:
                        raise ValidationError(f"{subject}: the redirects loop.")
                    seen.add(str(following))
                    target = following
                    continue
                if response.status != 200:
                    raise ValidationError(
                        f"{subject}: the server answered {response.status} {response.reason}."
                    )
                try:
                    size = _copy_body(response, dest, max_bytes=max_bytes, subject=subject)
                except _Expired:
                    raise ValidationError(f"{subject}: the download did not finish within {timeout:g} s.") from None
                return DownloadedFile(
                    name=remote_file_name(first.path, response.msg.get_filename()),
                    size=size,
                    content_type=(response.getheader("Content-Type") or "").split(";", 1)[0].strip().lower(),
                )
            finally:
                _close(conn, response)
        raise AssertionError("unreachable: the last hop returns or raises")

    def _open(
        self, target: RemoteUrl, subject: str, deadline: float
    ) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        """One hop's answer (status and headers), with the retries; the caller closes it."""
        for attempt in range(1, self._attempts + 1):
            try:
                conn, response = self._exchange(target, subject, deadline)
            except _Final as e:
                raise ValidationError(f"{subject}: {e}.") from None
            except _Retryable as e:
                failure = str(e)
            else:
                if response.status != 429 and response.status < 500:
                    return conn, response
                failure = f"the server answered {response.status} {response.reason}"
                _close(conn, response)
            backoff = 0.5 * 2 ** (attempt - 1)
            if attempt == self._attempts or time.monotonic() + backoff >= deadline:
                tries = f" ({attempt} tries)" if attempt > 1 else ""
                raise ValidationError(f"{subject}: {failure}{tries}.")
            self._sleep(backoff)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _exchange(
        self, target: RemoteUrl, subject: str, deadline: float
    ) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        sock = self._connect_any(self._resolve(target, subject), target, deadline)
        try:
            if target.scheme == "https":
                sock.settimeout(_left(deadline))  # the handshake as one operation
                if self._ssl_context is None:  # the system's trust store, loaded on first use
                    self._ssl_context = ssl.create_default_context()
                sock = self._ssl_context.wrap_socket(sock, server_hostname=target.host)
            conn = _PinnedConnection(target, sock, deadline)
            conn.request("GET", target.path, headers={
                "User-Agent": _USER_AGENT, "Accept": "*/*", "Connection": "close",
            })
            return conn, conn.getresponse()
        except BaseException as e:
            sock.close()
            mapped = _classify(e, deadline)
            if mapped is e:
                raise
            raise mapped from e

    def _resolve(self, target: RemoteUrl, subject: str) -> tuple[IPAddress, ...]:
        if target.address is not None:
            found: Iterable[Any] = [target.address]
        else:
            try:
                answer = self._resolver(target.host, target.port, 0, socket.SOCK_STREAM)
            except socket.gaierror as e:
                if e.errno in {socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)}:
                    raise ValidationError(f"{subject}: the host name {target.host} does not resolve.") from None
                raise _Retryable(f"the host name {target.host} could not be resolved ({e.strerror})") from None
            found = [sockaddr[0] for *_, sockaddr in answer]
        return check_resolved(target.host, found, allow_loopback=self._allow_loopback, subject=subject)

    def _connect_any(self, addresses: Iterable[IPAddress], target: RemoteUrl, deadline: float) -> socket.socket:
        failure: BaseException | None = None
        for address in addresses:
            try:
                return self._connect(address, target.port, min(self._connect_timeout, _left(deadline)))
            except OSError as e:
                failure = e
        assert failure is not None  # check_resolved never returns an empty answer
        raise _classify(failure, deadline) from failure


def _close(conn: http.client.HTTPConnection, response: http.client.HTTPResponse) -> None:
    response.close()  # the response holds the socket past conn.close() (Connection: close hands it over)
    conn.close()


def _left(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise _Expired
    return left


def _classify(error: BaseException, deadline: float) -> BaseException:
    """What a transport error means for the fetch: the deadline, a retry, or a final refusal."""
    if isinstance(error, _Expired | _Retryable | _Final | ValidationError):
        return error
    if time.monotonic() >= deadline:
        return _Expired()
    if isinstance(error, ssl.SSLCertVerificationError):
        return _Final(f"the server's TLS certificate is not valid ({error.verify_message})")
    if isinstance(error, ssl.SSLError):
        return _Final(f"the TLS connection failed ({error.reason or error})")
    if isinstance(error, OSError):  # refused, reset, unreachable, a connect timeout, RemoteDisconnected
        return _Retryable(f"the connection failed ({error})")
    if isinstance(error, http.client.HTTPException):
        return _Final(f"the server did not answer in HTTP ({type(error).__name__})")
    return error


def _copy_body(response: http.client.HTTPResponse, dest: BinaryIO, *, max_bytes: int, subject: str) -> int:
    too_big = f"{subject}: the file is larger than the limit of {max_bytes} bytes."
    declared = _content_length(response)
    if declared is not None and declared > max_bytes:
        raise ValidationError(too_big)
    size = 0
    try:
        while chunk := response.read1(min(_CHUNK, max_bytes + 1 - size)):
            size += len(chunk)
            if size > max_bytes:
                raise ValidationError(too_big)
            dest.write(chunk)
    except TimeoutError:  # each read waits for what is left of the deadline, no more
        raise _Expired from None
    except (OSError, http.client.HTTPException) as e:
        raise ValidationError(f"{subject}: the connection failed during the download ({e}).") from None
    if declared is not None and size < declared:
        raise ValidationError(f"{subject}: the connection closed after {size} of {declared} bytes.")
    return size


def _content_length(response: http.client.HTTPResponse) -> int | None:
    value = response.getheader("Content-Length")
    return int(value) if value and value.strip().isdigit() else None


class _PinnedConnection(http.client.HTTPConnection):
    """An HTTP connection over a socket already connected to a checked address: it never
    connects (or resolves) by itself, and its Host header is the URL's host name."""

    def __init__(self, target: RemoteUrl, sock: socket.socket, deadline: float) -> None:
        super().__init__(target.host, target.port)
        self.default_port = SCHEMES[target.scheme]  # no ":443" in the Host header of https
        self.sock = _DeadlineSocket(sock, deadline)

    def connect(self) -> None:
        raise http.client.CannotSendRequest("a pinned connection does not reconnect")


class _DeadlineSocket:
    """A socket as http.client uses it (sendall, makefile, close) where every send and every
    receive first sets the socket's timeout to what is left of the deadline. As with a real
    socket, the connection closes when both it and its reader are closed (http.client closes
    the connection as soon as the headers say ``Connection: close``; the body is read after)."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self._sock = sock
        self._deadline = deadline
        self._readers = 0
        self._closed = False

    def sendall(self, data: bytes) -> None:
        self._sock.settimeout(_left(self._deadline))
        self._sock.sendall(data)

    def recv_into(self, buffer: Any) -> int:
        self._sock.settimeout(_left(self._deadline))
        return self._sock.recv_into(buffer)

    def makefile(self, mode: str) -> io.BufferedReader:
        assert mode == "rb", mode
        self._readers += 1
        return io.BufferedReader(_DeadlineReader(self))

    def close(self) -> None:
        self._closed = True
        self.release()

    def release(self, reader: bool = False) -> None:
        if reader:
            self._readers -= 1
        if self._closed and not self._readers:
            self._sock.close()


class _DeadlineReader(io.RawIOBase):
    def __init__(self, sock: _DeadlineSocket) -> None:
        self._owner = sock

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return self._owner.recv_into(buffer)

    def close(self) -> None:
        if not self.closed:
            self._owner.release(reader=True)
        super().close()
