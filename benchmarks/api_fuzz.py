"""schemathesis over the core API's OpenAPI document (/api/schema/) on the embedded runtime.

Starts `cvat-serverless up` on free ports with a throw-away data directory, creates an admin,
and runs schemathesis (coverage + fuzzing phases) with HTTP Basic auth and the
`not_a_server_error` check: every generated request must answer below 500.

    .venv/bin/python benchmarks/api_fuzz.py [--examples 5] [--url http://127.0.0.1:8080 --user U --password P]
"""

from __future__ import annotations

import argparse
import base64
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "cvat_serverless_tools.admin.cli"]
USER, PASSWORD = "fuzz-admin", "fuzz-admin-pass-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_runtime(data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port, aws_port = free_port(), free_port()
    log = (data_dir.parent / "up.log").open("w")
    process = subprocess.Popen(
        [*CLI, "up", "--port", str(port), "--aws-port", str(aws_port),
         "--data-dir", str(data_dir)], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 90
    while "is up." not in (data_dir.parent / "up.log").read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("the embedded runtime did not start:\n" + (data_dir.parent / "up.log").read_text())
        time.sleep(0.3)
    made = subprocess.run(
        [*CLI, "createsuperuser", "--username", USER,
         "--email", "fuzz@example.com", "--password", PASSWORD, "--data-dir", str(data_dir)],
        cwd=ROOT, capture_output=True, text=True, check=False)
    if made.returncode:
        raise SystemExit(made.stderr)
    return process, f"http://127.0.0.1:{port}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=5)
    parser.add_argument("--url")
    parser.add_argument("--user", default=USER)
    parser.add_argument("--password", default=PASSWORD)
    args = parser.parse_args()
    process = None
    with tempfile.TemporaryDirectory() as tmp:
        if args.url:
            url = args.url
        else:
            process, url = start_runtime(Path(tmp) / "data")
        basic = base64.b64encode(f"{args.user}:{args.password}".encode()).decode()
        started = time.perf_counter()
        try:
            run = subprocess.run(
                [sys.executable, "-m", "schemathesis.cli", "run", f"{url}/api/schema/",
                 "-H", f"Authorization: Basic {basic}", "-c", "not_a_server_error", "-n", str(args.examples),
                 # deleting users could delete the fuzzing admin itself
                 "--exclude-path", "/api/users/{id}",
                 "--phases", "coverage,fuzzing", "-w", "2", "--no-color"],
                cwd=tmp, capture_output=True, text=True, check=False)
        finally:
            if process is not None:
                process.terminate()
                process.wait(timeout=60)
        elapsed = time.perf_counter() - started
    out = run.stdout + run.stderr
    made = re.search(r"(\d+) generated", out)
    found = re.search(r"(\d+) found", out)
    tested = re.search(r"Tested: (\d+)", out)
    generated = int(made.group(1)) if made else 0
    failed = int(found.group(1)) if found else (0 if run.returncode == 0 else -1)
    print(f"operations_tested: {tested.group(1) if tested else '?'} (target > 0)")
    print(f"requests_generated: {generated} in {elapsed:.0f} s (target > 0)")
    print(f"server_errors: {failed} (target == 0)")
    summary = re.search(r"Test cases:\s*\n\s*(.*)", out)
    if summary:
        print(f"# schemathesis: {summary.group(1).strip()}")
    if failed:
        print(out[-6000:])
    return 0 if failed == 0 and generated > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
