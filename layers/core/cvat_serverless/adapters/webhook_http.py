"""HttpWebhookSender: POSTs webhook payloads through the SSRF guard (``domain.egress``).

The same guard as remote files (``adapters.egress``): the URL is checked, the host resolved once
and every address checked, and the connection goes to one of those checked addresses only (the
``Host`` header and TLS SNI carry the name). Redirects are not followed: a 3xx is the answer.
Timeouts as CVAT's: 3 s to connect, 10 s for the whole exchange. Standard library only.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from collections.abc import Iterable, Mapping
from typing import Any

from ..domain.egress import IPAddress, RemoteUrl, check_resolved, check_url
from ..domain.errors import ValidationError
from ..domain.webhooks import RESPONSE_LIMIT
from ..ports import HttpAnswer
from .egress import Connector, Resolver, _Expired, _PinnedConnection, open_tcp


class HttpWebhookSender:
    """The ``WebhookSender`` port. ``allow_loopback`` is ``Settings.loopback_egress``; ``resolver``
    and ``connect`` are there for tests."""

    def __init__(self, *, allow_loopback: bool = False, resolver: Resolver = socket.getaddrinfo,
                 connect: Connector = open_tcp, connect_timeout: float = 3.0, timeout: float = 10.0) -> None:
        self._allow_loopback = allow_loopback
        self._resolver = resolver
        self._connect = connect
        self._connect_timeout = connect_timeout
        self._timeout = timeout

    def _addresses(self, target: RemoteUrl, url: str) -> tuple[IPAddress, ...]:
        if target.address is not None:
            found: Iterable[Any] = [target.address]
        else:
            answer = self._resolver(target.host, target.port, 0, socket.SOCK_STREAM)
            found = [sockaddr[0] for *_, sockaddr in answer]
        return check_resolved(target.host, found, allow_loopback=self._allow_loopback, subject=f"webhook {url}")

    def check(self, url: str) -> None:
        target = check_url(url, what="webhook")
        try:
            self._addresses(target, url)
        except socket.gaierror:
            raise ValidationError(f"webhook {url}: the host name {target.host} does not resolve.") from None

    def post(self, url: str, body: bytes, headers: Mapping[str, str], *, verify_tls: bool) -> HttpAnswer:
        started = time.perf_counter()
        deadline = time.monotonic() + self._timeout
        target = check_url(url, what="webhook")

        def answer(status: int, text: str) -> HttpAnswer:
            return HttpAnswer(status, text, int((time.perf_counter() - started) * 1000))

        try:
            addresses = self._addresses(target, url)
        except socket.gaierror as e:
            return answer(502, f"the host name {target.host} could not be resolved ({e.strerror})")
        conn: http.client.HTTPConnection | None = None
        try:
            sock = self._connect_any(addresses, target.port)
            if target.scheme == "https":
                context = ssl.create_default_context()
                if not verify_tls:
                    context.check_hostname = False
                    context.verify_mode = ssl.CERT_NONE
                sock.settimeout(max(0.001, deadline - time.monotonic()))
                sock = context.wrap_socket(sock, server_hostname=target.host)
            conn = _PinnedConnection(target, sock, deadline)
            conn.request("POST", target.path, body=body, headers={**headers, "Connection": "close"})
            response = conn.getresponse()
            data = response.read(RESPONSE_LIMIT)
            response.close()
            return answer(response.status, data.decode("utf-8", errors="replace"))
        except (_Expired, TimeoutError) as e:
            return answer(504, f"no answer within {self._timeout:g} s ({type(e).__name__})")
        except (OSError, http.client.HTTPException) as e:
            return answer(502, f"the connection failed ({e or type(e).__name__})")
        finally:
            if conn is not None:
                conn.close()

    def _connect_any(self, addresses: Iterable[IPAddress], port: int) -> socket.socket:
        failure: OSError | None = None
        for address in addresses:
            try:
                return self._connect(address, port, self._connect_timeout)
            except OSError as e:
                failure = e
        assert failure is not None  # check_resolved never answers with no address
        raise failure
