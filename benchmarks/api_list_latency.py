"""Latency of GET /api/tasks (page_size=100) with 1,000 tasks, through the embedded runtime.

Starts `cvat-serverless up` on free ports with a fresh data directory, creates an admin and
1,000 tasks through the REST API, then times GET /api/tasks?page_size=100 (pages spread over the
list) against GET /api/server/about (same server, no data access) in the same run.

moto's DynamoDB is not DynamoDB (its queries are O(table size)), so these figures describe the
embedded runtime on this machine, not AWS.

    .venv/bin/python benchmarks/api_list_latency.py [--tasks 1000] [--requests 200]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
USER, PASSWORD = "bench-admin", "bench-admin-password"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def call(url: str, method: str = "GET", body: object = None, token: str = "") -> tuple[int, object, float]:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json", "Accept": "application/vnd.cvat+json"}
    if token:
        headers["Authorization"] = f"Token {token}"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=120) as answer:  # localhost only
        payload = answer.read()
        status = answer.status
    return status, json.loads(payload) if payload else None, time.perf_counter() - started


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="cvat-bench-")) / "data"
    port, aws_port = free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    cli = [sys.executable, "-m", "cvat_serverless_tools.admin.cli"]
    log = data_dir.parent / "up.log"
    server = subprocess.Popen([*cli, "up", "--port", str(port), "--aws-port", str(aws_port), "--data-dir",
                               str(data_dir)], cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while "is up." not in (log.read_text() if log.exists() else ""):
            if server.poll() is not None or time.monotonic() > deadline:
                print(log.read_text(), file=sys.stderr)
                return 2
            time.sleep(0.2)
        subprocess.run([*cli, "createsuperuser", "--username", USER, "--password", PASSWORD, "--data-dir",
                        str(data_dir)], cwd=ROOT, check=True, capture_output=True, env=os.environ.copy())
        _, login, _ = call(f"{base}/api/auth/login", "POST", {"username": USER, "password": PASSWORD})
        token = login["key"]  # type: ignore[index]

        started = time.perf_counter()
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda i: call(f"{base}/api/tasks", "POST",
                                         {"name": f"task {i:04d}", "labels": [{"name": "car"}, {"name": "person"}]},
                                         token), range(args.tasks)))
        print(f"# created {args.tasks} tasks in {time.perf_counter() - started:.1f} s (4 clients)")
        status, first, _ = call(f"{base}/api/tasks?page_size=100", token=token)
        assert status == 200 and first["count"] == args.tasks, first  # type: ignore[index]

        pages = max(1, args.tasks // 100)
        about, tasks = [], []
        for i in range(args.requests):
            about.append(call(f"{base}/api/server/about")[2])
            status, body, seconds = call(f"{base}/api/tasks?page_size=100&page={i % pages + 1}", token=token)
            assert status == 200 and len(body["results"]) == min(100, args.tasks)  # type: ignore[index]
            tasks.append(seconds)
        p50, p99 = percentile(tasks, 0.50) * 1000, percentile(tasks, 0.99) * 1000
        a50 = statistics.median(about) * 1000
        print(f"# GET /api/server/about: p50 {a50:.1f} ms, p99 {percentile(about, 0.99) * 1000:.1f} ms")
        print(f"tasks_list_p50_ms: {p50:.1f} ms (target: report)")
        print(f"tasks_list_p99_ms: {p99:.1f} ms (target: report)")
        print(f"tasks_list_p50_vs_about_p50: {p50 / a50:.1f}x (target: report)")
        return 0
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=60)


if __name__ == "__main__":
    raise SystemExit(main())
