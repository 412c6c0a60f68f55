"""HttpRemoteFetcher against local servers on loopback.

Names like ``files.test`` or ``evil.test`` go through a resolver stub, and every connection goes
through a spy on the real connector that refuses anything but loopback: no test resolves a real
name or sends a packet off this machine, even if the guard were broken. A refused address must be
refused before any connection (the spy stays empty for it).
"""

from __future__ import annotations

import io
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_address
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from cvat_serverless.adapters.egress import HttpRemoteFetcher, open_tcp
from cvat_serverless.domain.egress import IPAddress
from cvat_serverless.domain.errors import ValidationError
from cvat_serverless.ports import RemoteFetcher, RemoteFile

BODY = bytes(range(256)) * 40  # 10,240 bytes
TLS_NAME = "files.test"


@dataclass
class Seen:
    """What one server received."""

    requests: list[tuple[str, str]] = field(default_factory=list)  # (path, Host header)
    sni: list[str | None] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def hits(self, path: str) -> int:
        return sum(p.partition("?")[0] == path for p, _ in self.requests)


class Handler(BaseHTTPRequestHandler):
    seen: Seen
    origin: str  # the server's own origin, for absolute redirects

    def log_message(self, *_: Any) -> None:
        pass

    def send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None, *,
             length: int | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        self.wfile.write(body)

    def redirect(self, location: str, status: int = 302) -> None:
        self.send(status, headers={"Location": location})

    def do_GET(self) -> None:
        self.seen.requests.append((self.path, self.headers.get("Host", "")))
        path, _, query = self.path.partition("?")
        if path == "/images/photo.jpg":
            self.send(200, BODY, {"Content-Type": "Image/JPEG; charset=binary"})
        elif path == "/download":
            self.send(200, b"png", {"Content-Disposition": 'attachment; filename="../../evil/name.png"'})
        elif path == "/download-utf8":
            self.send(200, b"x", {"Content-Disposition": "attachment; filename*=UTF-8''na%C3%AFve%20file.jpg"})
        elif path == "/stream":  # no Content-Length: the body ends when the connection closes (HTTP/1.0)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(BODY)
        elif path == "/short":
            self.send(200, b"0123456789", length=100)
        elif path.startswith("/status/"):
            self.send(int(path.rsplit("/", 1)[1]), b"no")
        elif path == "/flaky":
            self.send(503, b"busy") if self.seen.hits(path) < 3 else self.send(200, b"ok")
        elif path == "/to":
            self.redirect(unquote(query.removeprefix("url=")))
        elif path.startswith("/chain/"):
            n = int(path.rsplit("/", 1)[1])
            self.redirect(f"/chain/{n - 1}") if n else self.send(200, b"end")
        elif path == "/loop-a":
            self.redirect(self.origin + "/loop-b", 301)
        elif path == "/loop-b":
            self.redirect("/loop-a", 308)
        elif path == "/go/report.pdf":
            self.redirect("/storage/0f1e2d", 303)
        elif path == "/storage/0f1e2d":
            self.send(200, b"%PDF", {"Content-Type": "application/pdf"})
        elif path == "/no-location":
            self.send(302)
        elif path == "/stall":  # accepts and never answers
            self.seen.stop.wait(30)
        elif path == "/drip":  # a byte at a time: every read returns well within its timeout
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            for _ in range(1000):
                if self.seen.stop.wait(0.02):
                    return
                self.wfile.write(b"x")
                self.wfile.flush()
        else:
            self.send(404, b"no such file")


@dataclass
class Server:
    port: int
    seen: Seen
    origin: str

    def url(self, path: str) -> str:
        return self.origin + path


@contextmanager
def serve(*, host: str = "127.0.0.1", tls: ssl.SSLContext | None = None) -> Iterator[Server]:
    seen = Seen()

    class HttpServer(ThreadingHTTPServer):
        address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        daemon_threads = True

    handler: type[Handler] = type("BoundHandler", (Handler,), {"seen": seen, "origin": ""})
    httpd = HttpServer((host, 0), handler)
    port = httpd.server_address[1]
    if tls is not None:
        tls.sni_callback = lambda _sock, name, _ctx: seen.sni.append(name)
        httpd.socket = tls.wrap_socket(httpd.socket, server_side=True)
        handler.origin = f"https://{TLS_NAME}:{port}"
    else:
        handler.origin = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield Server(port, seen, handler.origin)
    finally:
        seen.stop.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


@pytest.fixture
def server() -> Iterator[Server]:
    with serve() as s:
        yield s


class StubResolver:
    """getaddrinfo over a fixed table; each name's answers are used in turn (the last one stays)."""

    def __init__(self, names: dict[str, list[list[str]]]) -> None:
        self.names = names
        self.calls: list[str] = []

    def __call__(self, host: str, port: int, family: int = 0, type: int = 0) -> list[tuple[Any, ...]]:
        self.calls.append(host)
        answers = self.names.get(host)
        if not answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in answer]


class LoopbackOnly:
    """The real connector, spied on; it will not open a connection off this machine."""

    def __init__(self, fail: type[OSError] | None = None) -> None:
        self.calls: list[tuple[str, int]] = []
        self.fail = fail

    def __call__(self, address: IPAddress, port: int, timeout: float) -> socket.socket:
        self.calls.append((str(address), port))
        assert address.is_loopback, f"the fetcher tried to connect to {address}"
        if self.fail is not None:
            raise self.fail(f"stub: {self.fail.__name__}")
        return open_tcp(address, port, timeout)


@dataclass
class Client:
    fetcher: HttpRemoteFetcher
    resolver: StubResolver
    connects: LoopbackOnly
    sleeps: list[float]

    def get(self, url: str, *, max_bytes: int = 1 << 20, timeout: float = 10.0) -> tuple[RemoteFile, bytes]:
        dest = io.BytesIO()
        file = self.fetcher.fetch(url, dest, max_bytes=max_bytes, timeout=timeout)
        return file, dest.getvalue()

    def refused(self, url: str, *, max_bytes: int = 1 << 20, timeout: float = 10.0) -> str:
        with pytest.raises(ValidationError) as e:
            self.get(url, max_bytes=max_bytes, timeout=timeout)
        return e.value.message


def client(*, allow_loopback: bool = True, names: dict[str, list[list[str]]] | None = None,
           ssl_context: ssl.SSLContext | None = None, fail: type[OSError] | None = None) -> Client:
    resolver, connects, sleeps = StubResolver(names or {}), LoopbackOnly(fail), list[float]()
    fetcher = HttpRemoteFetcher(allow_loopback=allow_loopback, resolver=resolver, connect=connects,
                                ssl_context=ssl_context, sleep=sleeps.append)
    return Client(fetcher, resolver, connects, sleeps)


# --- content and names ----------------------------------------------------------------------------


def test_a_file_is_streamed_with_its_name_size_and_type(server: Server) -> None:
    c = client()
    file, data = c.get(server.url("/images/photo.jpg"))
    assert data == BODY
    assert (file.name, file.size, file.content_type) == ("photo.jpg", len(BODY), "image/jpeg")
    assert c.resolver.calls == []  # an IP literal is not resolved
    assert c.connects.calls == [("127.0.0.1", server.port)]
    assert server.seen.requests == [("/images/photo.jpg", f"127.0.0.1:{server.port}")]


def test_it_is_the_remote_fetcher_port() -> None:
    fetcher: RemoteFetcher = HttpRemoteFetcher(allow_loopback=False)
    assert fetcher


@pytest.mark.parametrize(("path", "name"), [
    ("/download", "name.png"),  # Content-Disposition's file name, reduced to a plain name
    ("/download-utf8", "naïve file.jpg"),  # RFC 5987 filename*
    ("/go/report.pdf", "report.pdf"),  # the URL the user gave names it, not where it redirects
])
def test_the_file_name(server: Server, path: str, name: str) -> None:
    file, _ = client().get(server.url(path))
    assert file.name == name


def test_a_body_without_a_length_is_read_to_the_end(server: Server) -> None:
    file, data = client().get(server.url("/stream"), max_bytes=len(BODY))
    assert data == BODY and file.size == len(BODY) and file.content_type == ""


# --- the address checks, before any connection ----------------------------------------------------


def test_a_name_is_resolved_once_and_its_checked_address_connected(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_lookup(*_: Any, **__: Any) -> Any:
        raise AssertionError("a second name lookup")

    monkeypatch.setattr(socket, "getaddrinfo", no_lookup)
    c = client(names={TLS_NAME: [["127.0.0.1"]]})
    _, data = c.get(f"http://{TLS_NAME}:{server.port}/images/photo.jpg")
    assert data == BODY
    assert c.resolver.calls == [TLS_NAME]
    assert c.connects.calls == [("127.0.0.1", server.port)]
    assert server.seen.requests == [("/images/photo.jpg", f"{TLS_NAME}:{server.port}")]  # Host: the name


def test_dns_rebinding_between_hops_is_caught(server: Server) -> None:
    # The name answers loopback first, then a private address: each hop's answer is checked.
    c = client(names={"rebind.test": [["127.0.0.1"], ["10.0.0.1"]]})
    url = f"http://rebind.test:{server.port}"
    message = c.refused(f"{url}/to?url={url}/images/photo.jpg")
    assert "rebind.test resolves to 10.0.0.1, which is private (10.0.0.0/8)" in message
    assert c.connects.calls == [("127.0.0.1", server.port)]
    assert server.seen.hits("/images/photo.jpg") == 0


@pytest.mark.parametrize("url", ["http://127.0.0.1:{port}/images/photo.jpg", "http://localhost:{port}/images/photo.jpg",
                                 "http://[::1]:{port}/images/photo.jpg"])
def test_loopback_is_refused_without_the_setting(server: Server, url: str) -> None:
    c = client(allow_loopback=False, names={"localhost": [["127.0.0.1", "::1"]]})
    message = c.refused(url.format(port=server.port))
    assert "is loopback" in message and message.endswith("only public addresses are allowed.")
    assert c.connects.calls == [] and server.seen.requests == []


@pytest.mark.parametrize("answer", [["127.0.0.1", "10.0.0.1"], ["169.254.169.254"], ["127.0.0.1", "fd00:ec2::254"],
                                    ["::ffff:127.0.0.1"], []])
def test_an_answer_with_one_refused_address_is_refused_before_connecting(server: Server, answer: list[str]) -> None:
    c = client(names={"mixed.test": [answer]})
    c.refused(f"http://mixed.test:{server.port}/images/photo.jpg")
    assert c.connects.calls == [] and server.seen.requests == []


def test_a_name_that_does_not_resolve(server: Server) -> None:
    message = client().refused("http://nowhere.test/a.jpg")
    assert message == "remote file http://nowhere.test/a.jpg: the host name nowhere.test does not resolve."


# --- redirects ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("location", "said"), [
    ("http://evil.test/x.jpg", "evil.test resolves to 10.0.0.1, which is private (10.0.0.0/8)"),
    ("http://169.254.169.254/latest/meta-data/", "the address 169.254.169.254 is the cloud instance metadata address"),
    ("http://[fd00:ec2::254]/latest/meta-data/", "the address fd00:ec2::254 is the cloud instance metadata address"),
    ("http://[::ffff:10.0.0.1]/", "embeds 10.0.0.1, which is private"),
    ("http://0x7f.1/", "dotted-quad"),
    ("ftp://example.com/a.jpg", "scheme is 'ftp'"),
    ("file:///etc/passwd", "scheme is 'file'"),
    ("gopher://127.0.0.1:70/", "scheme is 'gopher'"),
    ("http://user:pw@127.0.0.1/", "user names and passwords"),
])
def test_a_redirect_into_refused_space_is_refused_before_connecting(server: Server, location: str, said: str) -> None:
    c = client(names={"evil.test": [["10.0.0.1"]]})
    url = server.url(f"/to?url={location}")
    message = c.refused(url)
    assert message.startswith(f"remote file {url}") and said in message, message
    assert c.connects.calls == [("127.0.0.1", server.port)]  # the first hop only
    assert len(server.seen.requests) == 1


def test_five_redirects_are_followed(server: Server) -> None:
    _, data = client().get(server.url("/chain/5"))
    assert data == b"end" and len(server.seen.requests) == 6


def test_a_sixth_redirect_is_refused(server: Server) -> None:
    message = client().refused(server.url("/chain/6"))
    assert message == f"remote file {server.url('/chain/6')}: more than 5 redirects."
    assert len(server.seen.requests) == 6  # /chain/6 .. /chain/1; /chain/0 is never asked for


def test_a_redirect_loop_is_refused(server: Server) -> None:
    message = client().refused(server.url("/loop-a"))
    assert message.endswith("the redirects loop.") and len(server.seen.requests) == 2


def test_a_redirect_without_location(server: Server) -> None:
    assert "answered 302 with no Location" in client().refused(server.url("/no-location"))


# --- answers, retries, limits ---------------------------------------------------------------------


@pytest.mark.parametrize("status", [404, 403, 401, 410, 204, 206])
def test_an_error_answer_is_final(server: Server, status: int) -> None:
    c = client()
    message = c.refused(server.url(f"/status/{status}"))
    assert message.startswith(f"remote file {server.url(f'/status/{status}')}: the server answered {status} ")
    assert len(server.seen.requests) == 1 and c.sleeps == []


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429])
def test_a_busy_server_is_tried_three_times(server: Server, status: int) -> None:
    c = client()
    message = c.refused(server.url(f"/status/{status}"))
    assert f"the server answered {status} " in message and message.endswith("(3 tries).")
    assert len(server.seen.requests) == 3 and c.sleeps == [0.5, 1.0]


def test_a_server_that_recovers(server: Server) -> None:
    c = client()
    _, data = c.get(server.url("/flaky"))
    assert data == b"ok" and c.sleeps == [0.5, 1.0]


@pytest.mark.parametrize("error", [ConnectionRefusedError, ConnectionResetError, TimeoutError])
def test_connection_failures_are_retried_then_refused(server: Server, error: type[OSError]) -> None:
    c = client(fail=error)
    message = c.refused(server.url("/images/photo.jpg"))
    assert "the connection failed" in message and message.endswith("(3 tries).")
    assert len(c.connects.calls) == 3


def test_a_closed_port() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    message = client().refused(f"http://127.0.0.1:{port}/a.jpg")
    assert "Connection refused" in message and message.endswith("(3 tries).")


@pytest.mark.parametrize("path", ["/images/photo.jpg", "/stream"])
def test_a_file_at_the_limit_passes(server: Server, path: str) -> None:
    file, _ = client().get(server.url(path), max_bytes=len(BODY))
    assert file.size == len(BODY)


class NonSeekable(io.RawIOBase):
    def __init__(self) -> None:
        self.written = 0

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        self.written += len(b)
        return len(b)


@pytest.mark.parametrize("path", ["/images/photo.jpg", "/stream"])  # declared length, or none
def test_a_file_over_the_limit_is_refused_and_never_written_past_it(server: Server, path: str) -> None:
    fetcher = client().fetcher
    dest = NonSeekable()
    with pytest.raises(ValidationError, match=f"the file is larger than the limit of {len(BODY) - 1} bytes"):
        fetcher.fetch(server.url(path), dest, max_bytes=len(BODY) - 1, timeout=10)  # type: ignore[arg-type]
    assert dest.written <= len(BODY) - 1
    if path == "/images/photo.jpg":
        assert dest.written == 0  # the declared length says so before any byte is read


@pytest.mark.parametrize(("path", "said"), [
    ("/stream", "larger than the limit"),
    ("/short", "the connection closed after 10 of 100 bytes"),
])
def test_a_failed_fetch_leaves_a_seekable_file_as_it_was(server: Server, path: str, said: str) -> None:
    dest = io.BytesIO(b"kept")
    dest.seek(0, io.SEEK_END)
    with pytest.raises(ValidationError, match=said):
        client().fetcher.fetch(server.url(path), dest, max_bytes=1000, timeout=10)
    assert dest.getvalue() == b"kept" and dest.tell() == 4


def test_a_stalled_server_times_out(server: Server) -> None:
    started = time.monotonic()
    message = client().refused(server.url("/stall"), timeout=0.5)
    assert message == f"remote file {server.url('/stall')}: no answer within 0.5 s."
    assert time.monotonic() - started < 3


def test_a_dripping_server_times_out_on_the_whole_download(server: Server) -> None:
    started = time.monotonic()
    message = client().refused(server.url("/drip"), timeout=0.5)
    assert message.endswith("the download did not finish within 0.5 s.")
    assert time.monotonic() - started < 3


@contextmanager
def raw_server(answer: bytes) -> Iterator[int]:
    """A TCP server that answers one connection with ``answer`` and closes it."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(5)

    def run() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(answer)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        thread.join(5)
        listener.close()


def test_a_server_that_does_not_speak_http() -> None:
    with raw_server(b"SSH-2.0-OpenSSH_9.6\r\n") as port:
        message = client().refused(f"http://127.0.0.1:{port}/")
    assert message.endswith("the server did not answer in HTTP (BadStatusLine).")


def test_ipv6_loopback() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")
    try:
        context = serve(host="::1")
        s = context.__enter__()
    except OSError as e:
        pytest.skip(f"cannot listen on ::1 ({e})")
    try:
        c = client()
        _, data = c.get(f"http://[::1]:{s.port}/images/photo.jpg")
        assert data == BODY and c.connects.calls == [("::1", s.port)]
        assert s.seen.requests == [("/images/photo.jpg", f"[::1]:{s.port}")]
    finally:
        context.__exit__(None, None, None)


# --- TLS: SNI and the certificate check on the URL's name, whatever address was connected ---------


@dataclass(frozen=True)
class Pki:
    client: ssl.SSLContext
    cert: Path
    key: Path


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    pytest.importorskip("cryptography")
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.now(UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "egress test CA")])
    usage = {k: False for k in ("content_commitment", "key_encipherment", "data_encipherment", "key_agreement",
                                "encipher_only", "decipher_only")}

    def builder(subject: x509.Name, public: Any) -> x509.CertificateBuilder:
        return (x509.CertificateBuilder().subject_name(subject).issuer_name(ca_name).public_key(public)
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - timedelta(hours=1)).not_valid_after(now + timedelta(days=1)))

    ca = (builder(ca_name, ca_key.public_key())
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, **usage),
                         critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    leaf = (builder(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, TLS_NAME)]), key.public_key())
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(TLS_NAME)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    folder = tmp_path_factory.mktemp("pki")
    (folder / "leaf.pem").write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    (folder / "leaf.key").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                        serialization.NoEncryption()))
    trusting = ssl.create_default_context(cadata=ca.public_bytes(serialization.Encoding.PEM).decode())
    return Pki(trusting, folder / "leaf.pem", folder / "leaf.key")


@pytest.fixture
def tls_server(pki: Pki) -> Iterator[Server]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki.cert, pki.key)
    with serve(tls=context) as s:
        yield s


def test_https_checks_the_certificate_against_the_urls_name(pki: Pki, tls_server: Server) -> None:
    c = client(names={TLS_NAME: [["127.0.0.1"]]}, ssl_context=pki.client)
    _, data = c.get(tls_server.url("/images/photo.jpg"))
    assert data == BODY
    assert tls_server.seen.sni == [TLS_NAME]
    assert tls_server.seen.requests == [("/images/photo.jpg", f"{TLS_NAME}:{tls_server.port}")]


def test_https_refuses_a_certificate_for_another_name(pki: Pki, tls_server: Server) -> None:
    c = client(names={"other.test": [["127.0.0.1"]]}, ssl_context=pki.client)
    message = c.refused(f"https://other.test:{tls_server.port}/images/photo.jpg")
    assert "the server's TLS certificate is not valid" in message and "other.test" in message
    assert tls_server.seen.requests == [] and c.sleeps == []


def test_https_refuses_an_untrusted_certificate(tls_server: Server) -> None:
    c = client(names={TLS_NAME: [["127.0.0.1"]]})  # the system's trust store
    assert "the server's TLS certificate is not valid" in c.refused(tls_server.url("/images/photo.jpg"))


def test_http_to_https_is_followed(pki: Pki, server: Server, tls_server: Server) -> None:
    c = client(names={TLS_NAME: [["127.0.0.1"]]}, ssl_context=pki.client)
    _, data = c.get(server.url(f"/to?url={tls_server.url('/images/photo.jpg')}"))
    assert data == BODY and tls_server.seen.hits("/images/photo.jpg") == 1


def test_https_to_http_is_refused(pki: Pki, server: Server, tls_server: Server) -> None:
    c = client(names={TLS_NAME: [["127.0.0.1"]]}, ssl_context=pki.client)
    message = c.refused(tls_server.url(f"/to?url={server.url('/images/photo.jpg')}"))
    assert message.endswith("a redirect from https to http is not followed.")
    assert server.seen.requests == []


def test_the_resolved_address_is_what_the_spy_saw() -> None:
    # The spy itself must be able to fail: it refuses an address off this machine.
    with pytest.raises(AssertionError, match=r"tried to connect to 10\.0\.0\.1"):
        LoopbackOnly()(ip_address("10.0.0.1"), 80, 1.0)
