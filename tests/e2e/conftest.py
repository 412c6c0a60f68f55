"""End-to-end: the embedded runtime as a user runs it (`cvat-serverless up`), on free ports."""

from __future__ import annotations

import http.server
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLI = "cvat_serverless_tools.admin.cli"
START_TIMEOUT = 60
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli(*args: str, data_dir: Path, env: dict[str, str] | None = None, timeout: int = 120,
        stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", CLI, *args, "--data-dir", str(data_dir)],
                          cwd=ROOT, capture_output=True, text=True, timeout=timeout, input=stdin,
                          env={**os.environ, **(env or {})}, check=False)


@dataclass
class Runtime:
    data_dir: Path
    port: int = field(default_factory=free_port)
    aws_port: int = field(default_factory=free_port)
    process: subprocess.Popen[str] | None = None
    log: Path | None = None
    up_args: tuple[str, ...] = ()  # more options of `cvat-serverless up`

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def aws(self) -> str:
        return f"http://127.0.0.1:{self.aws_port}"

    def start(self) -> Runtime:
        self.log = self.data_dir.parent / f"up-{self.port}.log"
        self.process = subprocess.Popen(
            [sys.executable, "-m", CLI, "up", "--port", str(self.port),
             "--aws-port", str(self.aws_port), "--data-dir", str(self.data_dir), *self.up_args],
            cwd=ROOT, stdout=self.log.open("w"), stderr=subprocess.STDOUT, text=True,
        )
        try:
            wait_for(self._is_up, timeout=START_TIMEOUT, what="`cvat-serverless up` to print 'is up.'",
                     details=self.output)
        except BaseException:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait(timeout=60)
            self.process = None
            raise
        return self

    def _is_up(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"cvat-serverless up exited {self.process.returncode}:\n{self.output()}")
        return "is up." in self.output()

    def output(self) -> str:
        return self.log.read_text() if self.log and self.log.exists() else ""

    def stop(self, sig: int = signal.SIGINT) -> int:
        assert self.process is not None
        self.process.send_signal(sig)
        code = self.process.wait(timeout=60)
        self.process = None
        return code

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        request = urllib.request.Request(self.url + path, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status, dict(answer.headers), answer.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def facts(self) -> dict[str, object]:
        return json.loads((self.data_dir / "runtime.json").read_text())

    def boto3(self, service: str):
        import boto3

        return boto3.client(service, endpoint_url=self.aws, region_name="us-east-1",
                            aws_access_key_id="testing", aws_secret_access_key="testing")


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    rt = Runtime(tmp_path_factory.mktemp("rt") / "data").start()
    yield rt
    if rt.process is not None:
        rt.stop()


def sdk_client(runtime: Runtime, cache_dir: Path, username: str, password: str) -> Iterator[object]:
    """A superuser made with the CLI, and cvat-sdk's Client logged in as it (for a module's
    ``client`` fixture: ``yield from conftest.sdk_client(...)``)."""
    from cvat_sdk import Client, Config

    made = cli("createsuperuser", "--username", username, "--email", f"{username}@example.com",
               "--password", password, data_dir=runtime.data_dir)
    assert made.returncode == 0, made.stderr
    with Client(runtime.url, config=Config(status_check_period=0.2, cache_dir=cache_dir)) as c:
        c.login((username, password))
        yield c


def serve_receiver(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    """A webhook receiver on 127.0.0.1 answering with ``handler``, for a module's ``receiver``
    fixture (``yield from conftest.serve_receiver(...)``): yields its URL, stops it after."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()
    server.server_close()


@pytest.fixture
def fresh_runtime(tmp_path: Path) -> Iterator[Runtime]:
    rt = Runtime(tmp_path / "data")
    yield rt
    if rt.process is not None:
        rt.stop(signal.SIGKILL)


def wait_for(predicate: Callable[[], T], *, what: str, timeout: float = 30, interval: float = 0.2,
             details: Callable[[], str] | None = None) -> T:
    """Poll ``predicate`` until it returns something truthy (and return that), at most ``timeout``
    seconds; otherwise fail saying ``what`` never happened (plus ``details()``, e.g. the server log)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            break
        time.sleep(interval)  # the poll interval of a deadline-bounded wait, not a guess at a duration
    message = f"waited {timeout}s for {what}; it did not happen"
    raise AssertionError(f"{message}:\n{details()}" if details else message)
