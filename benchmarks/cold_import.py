"""Cold import of the core API function, as a ratio to `import boto3`.

Each import runs in a fresh interpreter (no shared module cache), alternating the two, and the
median of several runs is compared. This is the part of a Lambda cold start that our code
controls: the module import before the first request. Target: <= 1.5 x `import boto3`.

    .venv/bin/python benchmarks/cold_import.py [--runs 9]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = 1.5

BOTO3 = "import boto3"
CORE_API = f"""
import importlib.util
spec = importlib.util.spec_from_file_location("core_api_app", {str(ROOT / "functions/core_api/app.py")!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
from cvat_serverless import bootstrap
app = bootstrap.core_api()  # what the first request builds: the app and its (lazy) services
"""
# What the first request under /api/tasks adds: the routers load on first use (api/function_apps.py).
CORE_API_WITH_TASKS = CORE_API + """
app.include_for("/api/tasks")
"""
PROBE = """
import os, sys, time
t = time.perf_counter()
exec(compile(sys.argv[1], "<bench>", "exec"))
print(time.perf_counter() - t)
print(",".join(sorted(m for m in ("boto3", "botocore", "pydantic", "PIL", "av", "numpy") if m in sys.modules)))
"""


# What Lambda sets: the X-Ray SDK (Tracer) takes its Lambda path (no sampling client at import).
LAMBDA_ENV = {
    "LAMBDA_TASK_ROOT": str(ROOT / "functions" / "core_api"),
    "AWS_LAMBDA_FUNCTION_NAME": "cvat-CoreApiFunction",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_METRICS_NAMESPACE": "CvatServerless",
    "CVAT_TABLE_NAME": "cvat-table",
    "CVAT_MEDIA_BUCKET": "cvat-media",
    "CVAT_EVENT_BUS_NAME": "cvat-bus",
}


def once(code: str) -> tuple[float, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POWERTOOLS_", "AWS_"))} | LAMBDA_ENV
    out = subprocess.run([sys.executable, "-c", PROBE, code], capture_output=True, text=True, check=True,
                         cwd=ROOT, env=env).stdout.split("\n")
    return float(out[0]), out[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    once(BOTO3), once(CORE_API)  # warm the OS file cache; not counted
    boto3_times, api_times, tasks_times = [], [], []
    loaded = ""
    for _ in range(args.runs):
        boto3_times.append(once(BOTO3)[0])
        seconds, loaded = once(CORE_API)
        api_times.append(seconds)
        tasks_times.append(once(CORE_API_WITH_TASKS)[0])
    boto3_ms = statistics.median(boto3_times) * 1000
    api_ms = statistics.median(api_times) * 1000
    ratio = api_ms / boto3_ms
    print(f"import boto3 (median of {args.runs}): {boto3_ms:.1f} ms")
    print(f"import functions/core_api/app.py (median of {args.runs}): {api_ms:.1f} ms; loads: {loaded or 'none of'} "
          "(boto3, botocore, pydantic, PIL, av, numpy)")
    tasks_ms = statistics.median(tasks_times) * 1000
    print(f"# with the /api/tasks router loaded as its first request does: {tasks_ms:.1f} ms "
          f"({tasks_ms / boto3_ms:.2f} x import boto3)")
    print(f"core_api_cold_import_vs_boto3: {ratio:.2f} (target <= {TARGET})")
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
