"""HTTPS for the embedded runtime's API and web UI port (``cvat-serverless up --tls-cert --tls-key``).

The certificate and key are loaded once at start (a bad file is a clear error then, never a
traceback at the first request). The listening socket is wrapped without a handshake at accept:
each connection's handshake runs in its own request thread (bounded by HANDSHAKE_TIMEOUT_S), so a
client that connects and sends nothing, or speaks plain HTTP, holds up no one else.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
from pathlib import Path
from typing import Any

from werkzeug.serving import BaseWSGIServer

from .apigw import RawHeadersRequestHandler

HANDSHAKE_TIMEOUT_S = 10.0


class TlsConfigError(ValueError):
    """The certificate or key given to ``up`` cannot serve HTTPS."""


class _EncryptedKey(Exception):
    pass


def _no_passphrase() -> str:
    raise _EncryptedKey


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    """A TLS server context (TLS 1.2 or newer) for ``cert`` (PEM, the chain after the certificate)
    and its ``key`` (PEM, unencrypted); TlsConfigError saying what is wrong otherwise."""
    for what, path in (("certificate", cert), ("key", key)):
        try:
            path.read_bytes()
        except OSError as exc:
            raise TlsConfigError(f"cannot read the TLS {what} {path}: {exc.strerror or exc}") from None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert, key, password=_no_passphrase)
    except _EncryptedKey:
        raise TlsConfigError(f"the TLS key {key} is encrypted with a passphrase; give an unencrypted key "
                             "(openssl pkey -in KEY -out KEY.plain.pem)") from None
    except ssl.SSLError as exc:
        if exc.reason == "KEY_VALUES_MISMATCH":
            raise TlsConfigError(f"the TLS key {key} does not belong to the certificate {cert}") from None
        raise TlsConfigError(f"cannot load the TLS certificate {cert} and key {key} "
                             f"(both must be PEM): {exc.reason or exc}") from None
    return context


def serve_tls(server: BaseWSGIServer, context: ssl.SSLContext) -> None:
    """Make ``server`` (made without an ssl_context, with TlsRequestHandler) speak HTTPS only:
    werkzeug then tells the application ``wsgi.url_scheme`` https."""
    server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
    server.ssl_context = context


class TlsRequestHandler(RawHeadersRequestHandler):
    """The handshake in the connection's own thread; a failed one (plain HTTP, a client that
    refuses the certificate, silence) closes that connection quietly."""

    def handle(self) -> None:
        connection: Any = self.connection
        if isinstance(connection, ssl.SSLSocket):
            try:
                connection.settimeout(HANDSHAKE_TIMEOUT_S)
                connection.do_handshake()
                connection.settimeout(self.timeout)
            except (OSError, ValueError):  # ssl.SSLError, a timeout, a reset
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
                return
        super().handle()
