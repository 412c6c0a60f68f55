"""The SSRF guard with nothing stubbed: the real resolver, the real connector, real addresses.

The product is let loose on private, metadata and loopback addresses only inside a network
namespace of its own (``unshare --net``), where the one interface is ``lo`` and nothing leaves the
machine. There ``lo`` also carries 10.0.0.1, 169.254.169.254 and fd00:ec2::254, with a trap server
listening on all of them: were the guard broken, the fetch would reach the trap, and the trap
would tell. A bind-mounted /etc/hosts (a mount namespace) gives the real resolver names that
point there.

This file is both the pytest test and, run as a script, the probe it starts in the namespace.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_address
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
HOSTS = "127.0.0.1 localhost\n::1 localhost\n10.0.0.1 evil.test\n169.254.169.254 metadata.test\n"
TRAPS = ["10.0.0.1", "169.254.169.254"]
TRAP6 = "fd00:ec2::254"

# Refused whatever the loopback setting.
ALWAYS_REFUSED = [
    "http://10.0.0.1/", "http://169.254.169.254/latest/meta-data/", "http://0.0.0.0/", "http://[::]/",
    "http://[::ffff:10.0.0.1]/", "http://[::ffff:169.254.169.254]/", "http://[::ffff:127.0.0.1]/",
    "http://2130706433/", "http://0x7f.1/", "http://127.1/", "http://0177.0.0.1/", "http://10.1/",
]
V6_REFUSED = ["http://[fd00:ec2::254]/latest/meta-data/"]
NAMED_REFUSED = ["http://evil.test/", "http://metadata.test/latest/meta-data/"]
LOOPBACK = ["http://127.0.0.1/ok", "http://localhost/ok", "http://[::1]/ok"]


def _unshare_works() -> str | None:
    if sys.platform != "linux" or not shutil.which("unshare") or not shutil.which("ip"):
        return "needs Linux with unshare and ip"
    probe = subprocess.run(["unshare", "--net", "--mount", "true"], capture_output=True, text=True, check=False)
    return None if probe.returncode == 0 else f"unshare --net --mount fails here: {probe.stderr.strip()}"


@pytest.mark.slow
def test_the_guard_holds_with_the_real_resolver_and_connector(tmp_path: Path) -> None:
    if (why := _unshare_works()) is not None:
        pytest.skip(why)
    hosts = tmp_path / "hosts"
    hosts.write_text(HOSTS)
    script = (
        'if mount --bind "$1" /etc/hosts; then export PROBE_HOSTS=1; fi; '
        "ip link set lo up || exit 97; "
        + "".join(f"ip addr add {a}/32 dev lo || exit 98; " for a in TRAPS)
        + f"if ip -6 addr add {TRAP6}/128 dev lo; then export PROBE_V6=1; fi; "
        + 'exec "$2" "$3"'
    )
    run = subprocess.run(
        ["unshare", "--net", "--mount", "sh", "-c", script, "probe", str(hosts), sys.executable, __file__],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )
    assert run.returncode == 0, f"the probe failed:\n{run.stdout}\n{run.stderr}"
    report = json.loads(run.stdout.strip().splitlines()[-1])
    # The trap worked (a plain socket reached it), so its silence below means something.
    assert report["control_hits"] == len(TRAPS) + report["v6"]
    assert report["trap_hits_off_loopback"] == []
    expected = len(ALWAYS_REFUSED) * 2 + len(LOOPBACK) + len(V6_REFUSED) * 2 * report["v6"]
    expected += len(NAMED_REFUSED) * 2 * report["hosts"] + 1  # + the redirect into 10.0.0.1
    assert len(report["refused"]) == expected, report
    assert report["connects_for_refused"] == []
    assert sorted(report["fetched"]) == sorted(LOOPBACK)
    for url, message in report["refused"]:
        assert message.startswith("remote file "), (url, message)


# --- the probe, run inside the namespace ----------------------------------------------------------


def _probe() -> dict[str, Any]:
    from cvat_serverless.adapters.egress import HttpRemoteFetcher, open_tcp
    from cvat_serverless.domain.egress import IPAddress
    from cvat_serverless.domain.errors import ValidationError

    hits: list[tuple[str, str]] = []  # (the local address a request came in on, its path)

    class Trap(BaseHTTPRequestHandler):
        def log_message(self, *_: Any) -> None:
            pass

        def do_GET(self) -> None:
            hits.append((self.connection.getsockname()[0], self.path))
            if self.path == "/redirect":
                self.send_response(302)
                self.send_header("Location", "http://10.0.0.1/stolen")
            else:
                self.send_response(200)
            self.send_header("Content-Length", "4")
            self.end_headers()
            self.wfile.write(b"trap")

    class DualStack(ThreadingHTTPServer):
        address_family = socket.AF_INET6
        daemon_threads = True

        def server_bind(self) -> None:
            self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            super().server_bind()

    server = DualStack(("::", 80), Trap)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()

    v6, named = bool(os.environ.get("PROBE_V6")), bool(os.environ.get("PROBE_HOSTS"))
    for trap in TRAPS + ([TRAP6] if v6 else []):
        with socket.create_connection((trap, 80), timeout=5) as s:
            s.sendall(b"GET /control HTTP/1.0\r\n\r\n")
            s.recv(1024)
    control_hits = len(hits)
    hits.clear()

    connects: list[tuple[str, str]] = []

    def spy(address: IPAddress, port: int, timeout: float) -> socket.socket:
        connects.append((current, str(address)))
        return open_tcp(address, port, timeout)

    refused: list[tuple[str, str]] = []
    fetched: list[str] = []
    for allow_loopback in (False, True):
        fetcher = HttpRemoteFetcher(allow_loopback=allow_loopback, connect=spy)
        urls = ALWAYS_REFUSED + (V6_REFUSED if v6 else []) + (NAMED_REFUSED if named else [])
        urls += ["http://127.0.0.1/redirect"] if allow_loopback else []
        for current in urls + LOOPBACK:
            try:
                fetcher.fetch(current, io.BytesIO(), max_bytes=100, timeout=5)
            except ValidationError as e:
                refused.append((current, e.message))
            else:
                fetched.append(current)
    server.shutdown()
    loopback_connects = {url for url, address in connects if ip_address(address).is_loopback}
    return {
        "v6": int(v6), "hosts": int(named), "control_hits": control_hits,
        "trap_hits_off_loopback": [h for h in hits if not _loopback(h[0])],
        "refused": refused, "fetched": fetched,
        # Every connection went to loopback, and only for the loopback URLs and the redirect's first hop.
        "connects_for_refused": [c for c in connects if not ip_address(c[1]).is_loopback]
        + sorted(loopback_connects - {*LOOPBACK, "http://127.0.0.1/redirect"}),
    }


def _loopback(address: str) -> bool:
    ip = ip_address(address.partition("%")[0])
    mapped = getattr(ip, "ipv4_mapped", None)
    return (mapped or ip).is_loopback


def main() -> int:
    # Never outside the namespace: here the only interface must be lo.
    interfaces = [name for _, name in socket.if_nameindex()]
    if interfaces != ["lo"]:
        print(f"refusing to run: interfaces {interfaces}, not a namespace with lo only", file=sys.stderr)
        return 2
    print(json.dumps(_probe()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
