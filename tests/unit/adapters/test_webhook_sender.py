"""HttpWebhookSender: the SSRF guard at delivery (fake DNS answers, never a connection off
loopback), and a real POST to a receiver on 127.0.0.1."""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from cvat_serverless.adapters.webhook_http import HttpWebhookSender
from cvat_serverless.domain.errors import ValidationError


def _dns(answers: dict[str, list[str]]) -> Any:
    def resolve(host: str, port: int, family: int, kind: int) -> list[tuple[Any, ...]]:
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, kind, 6, "", (a, port)) for a in answers[host]]
    return resolve


def _no_connect(*_: Any) -> socket.socket:
    raise AssertionError("no connection may be opened")


REFUSED = {
    "private v4": "10.1.2.3", "private v6": "fd12:3456::1", "link-local v4": "169.254.7.7",
    "link-local v6": "fe80::1", "multicast v4": "239.1.1.1", "multicast v6": "ff05::2",
    "metadata v4": "169.254.169.254", "metadata v6": "fd00:ec2::254", "loopback v4": "127.0.0.1",
    "loopback v6": "::1", "mapped v6": "::ffff:10.0.0.1",
}


@pytest.mark.parametrize("address", REFUSED.values(), ids=REFUSED.keys())
def test_names_resolving_to_refused_addresses_are_refused(address):
    sender = HttpWebhookSender(resolver=_dns({"hooks.example.com": ["93.184.215.14", address]}), connect=_no_connect)
    with pytest.raises(ValidationError, match="only public addresses"):
        sender.check("https://hooks.example.com/in")
    with pytest.raises(ValidationError):
        sender.post("https://hooks.example.com/in", b"{}", {}, verify_tls=True)


@pytest.mark.parametrize("address", REFUSED.values(), ids=REFUSED.keys())
def test_literal_refused_addresses(address):
    host = f"[{address}]" if ":" in address else address
    with pytest.raises(ValidationError):
        HttpWebhookSender(connect=_no_connect).check(f"http://{host}/")


def test_loopback_only_with_the_setting_and_public_names_pass():
    sender = HttpWebhookSender(allow_loopback=True, resolver=_dns({"pub.example.com": ["93.184.215.14"],
                                                                  "lo.example.com": ["127.0.0.1"]}))
    sender.check("http://127.0.0.1:9/")
    sender.check("http://lo.example.com/")
    sender.check("https://pub.example.com/")
    with pytest.raises(ValidationError, match="does not resolve"):
        sender.check("https://nowhere.example.com/")
    with pytest.raises(ValidationError):
        sender.check("http://[fd00:ec2::254]/")  # the setting opens loopback, nothing else


class _Receiver(http.server.BaseHTTPRequestHandler):
    got: list[tuple[str, dict[str, str], bytes]] = []
    status = 200

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).got.append((self.path, dict(self.headers), body))
        self.send_response(type(self).status)
        if type(self).status == 302:
            self.send_header("Location", "http://127.0.0.1:1/elsewhere")
        self.end_headers()
        self.wfile.write(b"thanks")

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture(name="receiver")
def receiver_fixture() -> Iterator[str]:
    _Receiver.got, _Receiver.status = [], 200
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_real_post_to_loopback(receiver):
    sender = HttpWebhookSender(allow_loopback=True)
    answer = sender.post(receiver + "/hook?x=1", b'{"a": 1}', {"Content-Type": "application/json",
                                                               "X-Signature-256": "sha256=00"}, verify_tls=True)
    assert answer.status_code == 200 and answer.body == "thanks"
    [(path, headers, body)] = _Receiver.got
    assert path == "/hook?x=1" and body == b'{"a": 1}' and headers["X-Signature-256"] == "sha256=00"
    _Receiver.status = 302
    assert sender.post(receiver + "/", b"{}", {}, verify_tls=True).status_code == 302  # not followed
    assert len(_Receiver.got) == 2


def test_connection_failures_are_502():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    answer = HttpWebhookSender(allow_loopback=True).post(f"http://127.0.0.1:{port}/", b"{}", {}, verify_tls=True)
    assert answer.status_code == 502
