"""`cvat-serverless up` in a subprocess for a benchmark: free ports, a given data directory, an admin,
and the runtime's own peak memory."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "cvat_serverless_tools.admin.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory (VmHWM), MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class EmbeddedRuntimeProcess:
    """The runtime on loopback with ``data_dir`` (kept, so it can be restarted), and an admin."""

    user, password = "bench-admin", "bench-admin-password"

    def __init__(self, data_dir: Path, *, persist: bool = True, start_timeout: float = 120) -> None:
        self.data_dir = data_dir
        self.persist = persist
        self.start_timeout = start_timeout
        self.port, self.aws_port = free_port(), free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> float:
        """Start and wait until the API answers; the seconds it took."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = (self.data_dir.parent / f"up-{self.port}.log").open("ab")
        args = [*CLI, "up", "--port", str(self.port), "--aws-port", str(self.aws_port),
                "--data-dir", str(self.data_dir)]
        started = time.perf_counter()
        self.process = subprocess.Popen([*args, *([] if self.persist else ["--no-persist"])], cwd=ROOT,
                                        stdout=log, stderr=subprocess.STDOUT)
        deadline = started + self.start_timeout
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"cvat-serverless up exited with {self.process.returncode}; see {log.name}")
            try:
                with urllib.request.urlopen(f"{self.api_url}/api/server/about", timeout=2):  # loopback only
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise TimeoutError(f"the runtime did not answer within {self.start_timeout} s; see {log.name}")
        return time.perf_counter() - started

    def create_admin(self) -> None:
        made = subprocess.run([*CLI, "createsuperuser", "--username", self.user, "--email", "bench@example.com",
                               "--data-dir", str(self.data_dir)], cwd=ROOT, capture_output=True, text=True,
                              env={**os.environ, "CVAT_SUPERUSER_PASSWORD": self.password}, check=False)
        if made.returncode != 0 and "already exists" not in made.stderr:
            raise RuntimeError(made.stderr)

    def aws_env(self) -> dict[str, str]:
        """What boto3 needs to reach the runtime's embedded AWS (`cvat-serverless env`)."""
        out = subprocess.run([*CLI, "env", "--data-dir", str(self.data_dir)], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout
        env = {}
        for line in out.splitlines():
            key, _, value = line.removeprefix("export ").partition("=")
            env[key] = value.strip("'\"")
        return env

    def stop(self, sig: int = signal.SIGINT) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def __enter__(self) -> EmbeddedRuntimeProcess:
        self.start()
        self.create_admin()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


def about(api_url: str) -> dict[str, object]:
    with urllib.request.urlopen(f"{api_url}/api/server/about", timeout=10) as answer:  # loopback only
        return dict(json.loads(answer.read()))


@contextlib.contextmanager
def log_on_error(folder: Path) -> Iterator[None]:
    """The runtime's log goes with a temporary folder: show its end when something fails."""
    try:
        yield
    except Exception:
        for log in folder.glob("up-*.log"):
            print(f"# the end of {log.name}:", *log.read_text(errors="replace").splitlines()[-40:], sep="\n")
        raise
