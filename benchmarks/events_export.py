"""Analytics events: the CSV export of one task's events out of a large store (issue 12).

Run: .venv/bin/python benchmarks/events_export.py [--events 100000 --tasks 4 --repeat 5]

`cvat-serverless up` on free ports with a fresh data directory and 4 tasks (no data). --events
client events (``click:element``, one in --tasks per task, a second apart) are logged as the
SDK's client logs them, ``POST /api/events`` in batches of 500 from one client; that call
stores its batch before it answers, with one ``send:working_time`` row per task and batch. The
server's own events of the tasks (``create:task``) come through the analytics writer's queue, so
the run then waits (with a deadline) until an export of the first task shows them and all of the
task's client events.

Then, --repeat times: ``POST /api/events/export?task_id=<first task>`` -> poll
``GET /api/requests/{id}`` every 50 ms until ``finished`` -> ``GET result_url`` (the redirect
followed) -> the CSV in memory. Each export is a new request (a new rq_id), so none is answered from
an earlier result. The CSV must hold exactly the task's client events (and no other task's rows).

Prints ``<figure>: <value> (target <op> <target>)`` and exits non-zero when a target is missed:
export p50 <= 2 s, CSV rows of the task's client events == the events sent for it.
"""

from __future__ import annotations

import argparse
import csv
import io
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _api import Api
from _report import figure, verdict
from _runtime import EmbeddedRuntimeProcess, log_on_error

BATCH = 500
SCOPE = "click:element"
TARGET_S = 2.0
finished_s: list[float] = []


def log_events(api: Api, task_ids: list[int], count: int) -> Counter[int]:
    """``count`` client events, round robin over the tasks; how many each task got."""
    sent: Counter[int] = Counter()
    first = datetime.now(UTC) - timedelta(seconds=count + 60)
    for start in range(0, count, BATCH):
        events = []
        for i in range(start, min(count, start + BATCH)):
            task_id = task_ids[i % len(task_ids)]
            events.append({"scope": SCOPE, "timestamp": (first + timedelta(seconds=i)).isoformat(),
                           "task_id": task_id, "obj_name": "button", "obj_val": f"e{i}", "duration": 0})
            sent[task_id] += 1
        api.call("POST", "/api/events", {"timestamp": datetime.now(UTC).isoformat(), "events": events}, ok=201)
    return sent


def export(api: Api, task_id: int) -> tuple[float, list[dict[str, str]]]:
    """One export of the task's events, timed from the POST to the CSV downloaded; its rows.
    ``finished_s`` keeps the part up to ``finished`` of each, for the report."""
    started = time.perf_counter()
    rq = orjson.loads(api.call("POST", f"/api/events/export?task_id={task_id}", ok=202))["rq_id"]
    while True:
        request = orjson.loads(api.call("GET", f"/api/requests/{quote(rq, safe='')}"))
        if request["status"] == "finished":
            break
        if request["status"] == "failed":
            raise RuntimeError(request["message"])
        time.sleep(0.05)  # the poll interval, as export_api.py
    finished_s.append(time.perf_counter() - started)
    data = api.call("GET", request["result_url"])
    seconds = time.perf_counter() - started
    return seconds, list(csv.DictReader(io.StringIO(data.decode())))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--tasks", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=120, help="seconds to wait for the task's events")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="cvat-events-") as tmp, \
            EmbeddedRuntimeProcess(Path(tmp) / "data", persist=False) as runtime, log_on_error(Path(tmp)):
        api = Api(runtime.api_url, runtime.user, runtime.password)
        task_ids = [orjson.loads(api.call("POST", "/api/tasks", {"name": f"bench-events-{k}", "labels": [
            {"name": "car"}]}, ok=201))["id"] for k in range(args.tasks)]
        started = time.perf_counter()
        sent = log_events(api, task_ids, args.events)
        seconds = time.perf_counter() - started
        print(f"# {args.events} events over {args.tasks} tasks logged in {seconds:.1f} s "
              f"({args.events / seconds:.0f}/s, {BATCH} a request)")
        task_id = task_ids[0]

        deadline = time.monotonic() + args.timeout
        while True:
            seconds, rows = export(api, task_id)
            scopes = Counter(r["scope"] for r in rows)
            if (scopes[SCOPE] >= sent[task_id] and scopes["create:task"] >= 1) or time.monotonic() > deadline:
                break
            time.sleep(0.5)  # the poll interval of a deadline-bounded wait
        print(f"# the first export ({seconds:.2f} s): {len(rows)} rows, {dict(scopes)}")

        times = []
        finished_s.clear()
        for _ in range(args.repeat):
            seconds, rows = export(api, task_id)
            times.append(seconds)
        scopes = Counter(r["scope"] for r in rows)
        others = sum(1 for r in rows if r["task_id"] != str(task_id))
        print(f"# exports of task {task_id}: {[round(t, 2) for t in times]} s; {len(rows)} rows "
              f"({scopes[SCOPE]} {SCOPE}, {scopes['send:working_time']} send:working_time, "
              f"{len(rows) - scopes[SCOPE] - scopes['send:working_time']} server); {others} of other tasks; "
              f"finished after {[round(t, 2) for t in finished_s]} s, the rest is the download")
        figure("events export p50 (POST -> finished -> CSV)", statistics.median(times), "<=", TARGET_S, " s")
        figure("CSV client events - events sent for the task", scopes[SCOPE] - sent[task_id], "==", 0)
        figure("CSV rows of other tasks", others, "==", 0)
    return verdict()


if __name__ == "__main__":
    sys.exit(main())
