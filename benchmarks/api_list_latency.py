"""Lists as the table grows: GET /api/tasks through the embedded runtime, and one DynamoDB Query.

Run: .venv/bin/python benchmarks/api_list_latency.py [--tasks 1000] [--requests 200] [--extra-items 300000]

A. Starts `cvat-serverless up --no-persist` on free ports with a fresh data directory (with
   persistence, each second of writes is followed by a save of the whole DynamoDB state that holds
   every request, which would measure the save, not the lists), creates an admin and
   --tasks tasks through the REST API, and times GET /api/tasks?page_size=100 (pages spread over
   the list): first as is (the baseline), then again after --extra-items unrelated items (pk
   BENCH#<n>, 6 sort keys each, about 300 bytes, no index keys) were written straight into the
   embedded AWS's DynamoDB table with BatchWriteItem (boto3, the endpoint `cvat-serverless env`
   prints). The figure depends on the API's list code as well as on the embedded moto.
B. In this process, on moto with the embedded runtime's patches (local/moto_patches.py), through
   boto3: one base-table Query for a page (one partition of 100 items) on a table of --extra-items
   items against the same Query on a table of 1,000 items, both tables loaded first and the two
   queries alternated, so that both see the same process and the same machine load.

Prints one line per figure, ``<figure>: <value> (target <op> <target>)``, and exits non-zero
when a target is missed. Every ratio compares numbers measured in this run on this machine.
Lines starting with ``#`` are context. moto is not DynamoDB: these figures describe the embedded
runtime on this machine, not AWS.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
USER, PASSWORD = "bench-admin", "bench-admin-password"
CLI = [sys.executable, "-m", "cvat_serverless_tools.admin.cli"]
SORT_KEYS = 6  # items per unrelated partition
PAGE = 100  # items in the partition figure B queries

missed: list[str] = []


def figure(name: str, value: float, at_most: float, unit: str = "") -> None:
    """``<figure>: <value> (target <= <target>)``; every target here is an upper bound."""
    line = f"{name}: {value:.3g}{unit} (target <= {at_most:.3g}{unit})"
    if value > at_most:
        missed.append(name)
        line += "  MISSED"
    print(line, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def call(url: str, method: str = "GET", body: object = None, token: str = "") -> tuple[int, Any, float]:
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


def unrelated_item(n: int, k: int) -> dict[str, Any]:
    """About 300 bytes, as an annotation-like record: not a task, in no index."""
    return {"pk": {"S": f"BENCH#{n:07d}"}, "sk": {"S": f"SHAPE#{k:04d}"}, "type": {"S": "polygon"},
            "frame": {"N": str(n % 5000)}, "label_id": {"N": str(k + 1)}, "z_order": {"N": "0"},
            "points": {"S": ",".join(f"{(n * 7 + i * 13) % 1920}.5" for i in range(24))},
            "attributes": {"S": json.dumps([{"spec_id": 1, "value": "occluded"}])}}


def unrelated_batches(count: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for i in range(count):
        batch.append({"PutRequest": {"Item": unrelated_item(i // SORT_KEYS, i % SORT_KEYS)}})
        if len(batch) == 25:
            yield batch
            batch = []
    if batch:
        yield batch


def write_all(ddb: Any, table: str, batches: Iterator[list[dict[str, Any]]], threads: int = 8) -> int:
    def write(batch: list[dict[str, Any]]) -> int:
        requests = {table: batch}
        while requests:
            requests = ddb.batch_write_item(RequestItems=requests).get("UnprocessedItems") or {}
        return len(batch)

    with ThreadPoolExecutor(threads) as pool:
        return sum(pool.map(write, batches))


# ----------------------------------------------------------------------------------- figure A
def list_latencies(base: str, token: str, tasks: int, requests: int) -> tuple[list[float], list[float]]:
    pages = max(1, tasks // 100)
    about, listed = [], []
    for i in range(requests):
        about.append(call(f"{base}/api/server/about")[2])
        status, body, seconds = call(f"{base}/api/tasks?page_size=100&page={i % pages + 1}", token=token)
        assert status == 200 and len(body["results"]) == min(100, tasks), body
        listed.append(seconds)
    return about, listed


def bench_api(args: argparse.Namespace, work: Path) -> None:
    import boto3
    from botocore.config import Config

    data_dir = work / "data"
    port, aws_port = free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    log = work / "up.log"
    server = subprocess.Popen([*CLI, "up", "--port", str(port), "--aws-port", str(aws_port), "--data-dir",
                               str(data_dir), "--no-persist"], cwd=ROOT, stdout=log.open("w"),
                              stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while "is up." not in (log.read_text() if log.exists() else ""):
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"cvat-serverless up did not start:\n{log.read_text()}")
            time.sleep(0.2)
        subprocess.run([*CLI, "createsuperuser", "--username", USER, "--password", PASSWORD, "--data-dir",
                        str(data_dir)], cwd=ROOT, check=True, capture_output=True, env=os.environ.copy())
        exports = subprocess.run([*CLI, "env", "--data-dir", str(data_dir)], cwd=ROOT, check=True,
                                 capture_output=True, text=True).stdout
        env = dict(shlex.split(line.removeprefix("export "))[0].split("=", 1)
                   for line in exports.splitlines() if line.startswith("export "))
        _, login, _ = call(f"{base}/api/auth/login", "POST", {"username": USER, "password": PASSWORD})
        token = login["key"]

        started = time.perf_counter()
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda i: call(f"{base}/api/tasks", "POST",
                                         {"name": f"task {i:04d}", "labels": [{"name": "car"}, {"name": "person"}]},
                                         token), range(args.tasks)))
        print(f"# created {args.tasks} tasks in {time.perf_counter() - started:.1f} s (4 clients)", flush=True)
        status, first, _ = call(f"{base}/api/tasks?page_size=100", token=token)
        assert status == 200 and first["count"] == args.tasks, first

        ddb = boto3.client("dynamodb", endpoint_url=env["AWS_ENDPOINT_URL"], region_name=env["AWS_REGION"],
                           aws_access_key_id="testing", aws_secret_access_key="testing",
                           config=Config(max_pool_connections=16, retries={"max_attempts": 10}))
        table = env["CVAT_TABLE_NAME"]
        before_items = ddb.describe_table(TableName=table)["Table"]["ItemCount"]
        about0, before = list_latencies(base, token, args.tasks, args.requests)
        p50_before = statistics.median(before) * 1000

        started = time.perf_counter()
        written = write_all(ddb, table, unrelated_batches(args.extra_items))
        print(f"# wrote {written} unrelated items in {time.perf_counter() - started:.1f} s "
              f"(BatchWriteItem, 8 clients); the table held {before_items} items before", flush=True)
        about1, after = list_latencies(base, token, args.tasks, args.requests)
        p50_after, p99_after = statistics.median(after) * 1000, percentile(after, 0.99) * 1000
        print(f"# GET /api/server/about p50: {statistics.median(about0) * 1000:.1f} ms before, "
              f"{statistics.median(about1) * 1000:.1f} ms after the unrelated items")
        print(f"# GET /api/tasks?page_size=100 p50: {p50_before:.1f} ms with {before_items} items in the table, "
              f"{p50_after:.1f} ms with {before_items + written} (p99 {p99_after:.1f} ms)")
        figure("tasks_list_p50_ms", p50_after, 150, " ms")
        figure("tasks_list_p50_vs_before_extra_items", p50_after / p50_before, 1.3, "x")
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=300)


# ----------------------------------------------------------------------------------- figure B
def bench_query(args: argparse.Namespace) -> None:
    import boto3
    from moto import mock_aws
    from moto.backends import get_backend
    from moto.dynamodb.models.table import Table

    from cvat_serverless_tools.local import moto_patches

    moto_patches.apply()
    query = {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "HOT"}},
             "Limit": PAGE, "ConsistentRead": True}

    def alternated(ddb: Any, sizes: tuple[int, ...], rounds: int) -> dict[int, float]:
        times: dict[int, list[float]] = {size: [] for size in sizes}
        for _ in range(rounds):
            for size in sizes:
                started = time.perf_counter()
                answer = ddb.query(TableName=f"t{size}", **query)
                times[size].append(time.perf_counter() - started)
                assert answer["Count"] == PAGE, answer["Count"]
        return {size: statistics.median(t) for size, t in times.items()}

    sizes = (1000, args.extra_items)
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        backend = get_backend("dynamodb")["123456789012"]["us-east-1"]
        for size in sizes:
            ddb.create_table(TableName=f"t{size}", BillingMode="PAY_PER_REQUEST",
                             AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                                   {"AttributeName": "sk", "AttributeType": "S"}],
                             KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                        {"AttributeName": "sk", "KeyType": "RANGE"}])
            for k in range(PAGE):
                backend.put_item(f"t{size}", {**unrelated_item(0, k), "pk": {"S": "HOT"}})
            for i in range(size - PAGE):  # straight into moto: figure B is about the Query only
                backend.put_item(f"t{size}", unrelated_item(i // SORT_KEYS, i % SORT_KEYS))
        gc.collect()
        seconds = alternated(ddb, sizes, 200)
        patched = Table.query
        Table.query = patched.moto_original  # type: ignore[attr-defined]
        try:
            stock = alternated(ddb, sizes, 3)
        finally:
            Table.query = patched  # type: ignore[method-assign]
    small, large = seconds[1000], seconds[args.extra_items]
    print(f"# Query, a page of {PAGE} items of one partition, p50: {small * 1000:.2f} ms on 1,000 items, "
          f"{large * 1000:.2f} ms on {args.extra_items:,} (moto as shipped: {stock[1000] * 1000:.0f} ms and "
          f"{stock[args.extra_items] * 1000:.0f} ms)")
    figure(f"query_page_{args.extra_items // 1000}k_vs_1k_items", large / small, 1.5, "x")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--extra-items", type=int, default=300_000)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="cvat-bench-"))
    try:
        bench_api(args, work)
        bench_query(args)  # after the runtime stopped: mock_aws would catch its clients too
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if missed:
        print(f"# missed: {', '.join(missed)}")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
